"""How the monitoring page lays out the monitor's answers: charts, drift rows, quality figures."""

from __future__ import annotations

from typing import Any

import pytest

from model_service.views.charts import overlay_bars
from model_service.views.monitoring_view import drift_rows, monitoring_view
from model_service.views.time_charts import axis_ceiling, line, stacked_columns

HOUR = 3600
START = 1_796_212_800  # 2026-12-02 12:00 UTC


def bucket(index: int, predictions: int, errors: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "start": START + index * HOUR,
        "end": START + (index + 1) * HOUR,
        "predictions": predictions,
        "errors": errors,
        "p50_ms": extra.get("p50"),
        "p99_ms": extra.get("p99"),
        "labelled": extra.get("labelled", 0),
        "quality": extra.get("quality"),
    }


def summary(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "model": "iris_model",
        "version": "1.0.0",
        "window": "24h",
        "predictions": 30,
        "errors": 10,
        "latency_ms": {"p50": 1.234, "p99": 9.87},
        "drift": {
            "features": {
                "petal_length": {"psi": 1.52, "status": "drift", "out_of_range_rate": 0.5},
                "sepal_width": {"psi": 0.04, "status": "ok", "out_of_range_rate": 0.0},
            },
            "prediction": {"psi": 0.15, "status": "watch"},
        },
        "quality": {"labelled": 0, "kind": None, "metrics": {}},
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("largest", "ceiling"), [(0, 1), (0.3, 0.5), (7, 10), (12, 20), (2400, 2500), (1e-9, 1e-9)]
)
def test_axis_ceiling_is_a_round_number_at_or_above_the_largest(
    largest: float, ceiling: float
) -> None:
    assert axis_ceiling(largest) == pytest.approx(ceiling)


def test_stacked_columns_pile_errors_on_predictions_within_the_plot() -> None:
    columns = stacked_columns(
        [[(6, "primary", "a"), (2, "error", "b")], [(0, "primary", "c"), (10, "error", "d")]],
        ceiling=10,
    )
    assert [(c.tone, c.height) for c in columns] == [
        ("primary", 60),
        ("error", 20),
        ("error", 100),
    ]
    first, on_top, second = columns
    assert first.y == 40 and on_top.y == 20, "errors sit on top of the predictions"
    assert second.x > first.x + first.width, "each bucket has its own slot"
    assert all(c.y >= 0 and c.y + c.height <= 100 for c in columns)


def test_a_missing_value_breaks_the_line_and_every_value_gets_a_dot() -> None:
    series = line("p50", "primary", [1.0, 2.0, None, 4.0, 3.0, None, 5.0], ceiling=5)
    assert series.segments == ["7.143,80.0 21.429,60.0", "50.0,20.0 64.286,40.0"]
    assert len(series.dots) == 5, "a value alone between gaps is still drawn, as a dot"
    assert series.dots[-1] == (92.857, 0.0)


def test_overlay_bars_share_one_scale_and_print_both_shares() -> None:
    bars = overlay_bars(["below", "a", "b"], [0.0, 0.5, 0.5], [0.8, 0.2, 0.0])
    assert [(b.live_width, b.reference_width) for b in bars] == [(100, 0), (25, 62.5), (0, 62.5)]
    assert (bars[0].live_text, bars[0].reference_text) == ("80.0 %", "0.0 %")


def test_figures_error_rate_and_latency_are_text_for_people() -> None:
    timeline = [bucket(0, 20, 10, p50=1.0, p99=8.0), bucket(1, 10, 0, p50=1.5, p99=9.9)]
    view = monitoring_view(summary(), timeline, {})
    assert (view.predictions, view.errors) == (30, 10)
    assert view.error_rate == "25.0 %", "errors are a share of every request, failed or not"
    assert (view.latency_p50, view.latency_p99) == ("1.2 ms", "9.9 ms")
    assert view.traffic.rows == [["12:00", "20", "10", "33.3 %"], ["13:00", "10", "0", "0.0 %"]]
    assert view.traffic.ceiling == "50"
    assert view.latency.rows[1] == ["13:00", "1.5 ms", "9.9 ms"]


def test_the_time_axis_runs_from_the_first_start_to_the_last_end() -> None:
    view = monitoring_view(summary(), [bucket(0, 1), bucket(1, 1)], {})
    assert (view.traffic.start, view.traffic.end) == ("12:00", "14:00")


def test_buckets_over_midnight_are_labelled_with_the_date() -> None:
    view = monitoring_view(summary(), [bucket(11, 1), bucket(12, 1)], {})
    assert (view.traffic.start, view.traffic.end) == ("02 Dec 23:00", "03 Dec 01:00")


def test_buckets_over_several_days_are_labelled_with_the_date() -> None:
    timeline = [bucket(0, 1), bucket(24, 1), bucket(48, 1)]
    view = monitoring_view(summary(window="7d"), timeline, {})
    assert (view.traffic.start, view.traffic.end) == ("02 Dec 12:00", "04 Dec 13:00")
    assert [row[0] for row in view.traffic.rows] == ["02 Dec 12:00", "03 Dec 12:00", "04 Dec 12:00"]


def test_drift_rows_list_each_field_then_the_prediction_with_text_status() -> None:
    rows = drift_rows(summary()["drift"])
    assert [(r.field, r.psi, r.status, r.out_of_range) for r in rows] == [
        ("petal_length", "1.520", "drift", "50.0 %"),
        ("sepal_width", "0.040", "ok", "0.0 %"),
        ("prediction", "0.150", "watch", "—"),
    ]


def test_no_reference_data_means_no_drift_rows_and_unknown_status_reads_no_data() -> None:
    no_reference = {"features": {}, "prediction": {"psi": None, "status": "no data"}}
    view = monitoring_view(summary(drift=no_reference), [], {"features": {}, "prediction": None})
    assert not view.has_reference and view.drift == [] and view.not_compared == []
    rows = drift_rows({"features": {"x": {"psi": None, "status": None}}})
    assert rows[0].status == "no data" and rows[0].psi == "—"


def test_a_model_whose_only_input_is_a_list_still_has_prediction_drift() -> None:
    drift = {"features": {}, "prediction": {"psi": 0.3, "status": "drift"}}
    histograms = {
        "features": {},
        "prediction": {
            "kind": "category",
            "bins": ["0", "1"],
            "reference": [0.5, 0.5],
            "live": [1, 0],
        },
    }
    view = monitoring_view(summary(drift=drift), [], histograms, ["pixels"])
    assert view.has_reference
    assert [(row.field, row.status) for row in view.drift] == [("prediction", "drift")]
    assert view.not_compared == ["pixels"]


def test_nothing_captured_is_the_empty_state() -> None:
    view = monitoring_view(summary(predictions=0, errors=0, latency_ms={}), [], {})
    assert not view.captured
    assert (view.error_rate, view.latency_p50) == ("—", "—")


def test_histograms_pair_training_and_live_shares_with_the_field_status() -> None:
    histograms = {
        "features": {
            "petal_length": {
                "kind": "numeric",
                "bins": ["below 1.0", "1.0 to 4.35", "4.35 to 6.9", "above 6.9"],
                "reference": [0.0, 0.5, 0.5, 0.0],
                "live": [0.0, 0.25, 0.25, 0.5],
            }
        },
        "prediction": {"kind": "category", "bins": ["setosa"], "reference": [1], "live": [1]},
    }
    views = monitoring_view(summary(), [], histograms).histograms
    assert [(h.field, h.status) for h in views] == [
        ("petal_length", "drift"),
        ("prediction", "watch"),
    ]
    assert [b.label for b in views[0].bars][-1] == "above 6.9"
    assert views[0].bars[-1].live_text == "50.0 %"


def test_classification_quality_shows_accuracy_per_class_and_over_time() -> None:
    quality = {
        "labelled": 10,
        "kind": "classification",
        "metrics": {
            "accuracy": 0.7,
            "per_class": {
                "setosa": {"precision": 1.0, "recall": 0.5},
                "virginica": {"precision": 0.6, "recall": 1.0},
            },
        },
    }
    timeline = [
        bucket(0, 4, labelled=4, quality=0.5),
        bucket(1, 0),
        bucket(2, 6, labelled=6, quality=0.8333),
    ]
    view = monitoring_view(summary(quality=quality), timeline, {}).quality
    assert view.metrics == [("Accuracy", "70.0 %")]
    assert view.class_headers == ["Class", "Precision", "Recall"]
    assert view.class_rows == [["setosa", "100.0 %", "50.0 %"], ["virginica", "60.0 %", "100.0 %"]]
    assert view.chart is not None and view.chart.ceiling == "1"
    assert [row[1] for row in view.chart.rows] == ["50.0 %", "—", "83.3 %"]


def test_regression_quality_draws_mae_over_time() -> None:
    quality = {"labelled": 5, "kind": "regression", "metrics": {"mae": 12.5, "rmse": 20.25}}
    timeline = [bucket(0, 5, labelled=5, quality=12.5)]
    view = monitoring_view(summary(quality=quality), timeline, {}).quality
    assert view.metrics == [("MAE", "12.5"), ("RMSE", "20.25")]
    assert view.chart is not None and view.chart.title == "MAE over time"
    assert view.chart.ceiling == "20"


def test_no_feedback_means_no_quality_chart() -> None:
    view = monitoring_view(summary(), [bucket(0, 3)], {}).quality
    assert view.labelled == 0 and view.chart is None and view.metrics == []
