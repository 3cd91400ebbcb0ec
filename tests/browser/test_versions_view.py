"""How the monitoring page lays out the versions comparison: which versions show, the table's
text and the bar charts' lengths and descriptions, for classification and regression."""

from __future__ import annotations

from typing import Any

from model_service.views.versions_view import TRACK_PERCENT, versions_view


def entry(version: str, primary: bool = False, **figures: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version": version,
        "is_primary": primary,
        "decisions": {"primary": 10} if primary else {"shadow": 8},
        "rows_read": 10,
        "capped": False,
        "pairs": None if primary else 8,
        "unpaired": None if primary else 0,
        "agreement": None,
        "mean_absolute_difference": None,
        "label_shares": None,
        "mean": None,
        "latency_ms": {"p50": 2.0, "p99": 8.0},
        "latency_by_decision": {},
        "errors": {"count": 0, "rate": 0.0},
        "quality": {"labelled": 0, "kind": "classification", "metrics": {}},
    }
    return {**base, **figures}


def section(kind: str, *entries: dict[str, Any], capped: bool = False) -> dict[str, Any]:
    return {
        "primary": entries[0]["version"],
        "kind": kind,
        "max_rows": 50_000,
        "capped": capped,
        "pairing_window_s": 300.0,
        "compared": list(entries),
    }


def test_a_single_version_with_rows_shows_no_section() -> None:
    idle = entry("2.0.0", decisions={})
    assert versions_view(section("classification", entry("1.0.0", True), idle)) is None
    assert versions_view(None) is None


def test_classification_rows_and_the_agreement_bar() -> None:
    view = versions_view(
        section(
            "classification",
            entry("1.0.0", True, label_shares={"setosa": 1.0}),
            entry(
                "1.1.0",
                agreement=0.75,
                unpaired=2,
                label_shares={"setosa": 0.5, "virginica": 0.5},
                latency_ms={"p50": 4.0, "p99": 16.0},
                errors={"count": 2, "rate": 0.2},
                quality={"labelled": 4, "kind": "classification", "metrics": {"accuracy": 0.5}},
            ),
            capped=True,
        )
    )

    assert view is not None and view.capped and view.comparison_header == "Agreement"
    primary, shadow = view.rows
    assert (primary.version, primary.is_primary, primary.pairs) == ("1.0.0", True, "—")
    assert shadow.pairs == "8 (2 unpaired)" and shadow.comparison == "75.0 %"
    assert shadow.predictions == "setosa 50.0 %, virginica 50.0 %"
    assert shadow.errors == "2 (20.0 %)" and shadow.quality == "accuracy 50.0 % of 4"
    chart = view.agreement_chart
    assert chart is not None
    [bar] = chart.groups[0].bars
    assert bar.width == 0.75 * TRACK_PERCENT and bar.text == "75.0 %"
    assert chart.description == "1.1.0: agreement 75.0 % over 8 shadow pairs."
    # latency: one scale (ceiling 20 ms) for every bar
    widths = [bar.width for group in view.latency_chart.groups for bar in group.bars]
    assert widths == [round(n / 20 * TRACK_PERCENT, 2) for n in (2.0, 8.0, 4.0, 16.0)]
    assert view.latency_chart.groups[0].label == "1.0.0 (primary)"


def test_regression_shows_the_mean_absolute_difference_and_the_mean() -> None:
    view = versions_view(
        section(
            "regression",
            entry("1.0.0", True, mean=200.0),
            entry("2.0.0", mean_absolute_difference=20.0, mean=210.5),
        )
    )

    assert view is not None
    assert (view.comparison_header, view.predictions_header) == (
        "Mean absolute difference",
        "Mean prediction",
    )
    assert [row.predictions for row in view.rows] == ["200", "210.5"]
    assert view.rows[1].comparison == "20"
    chart = view.agreement_chart
    assert chart is not None and chart.title.startswith("Mean absolute difference with 1.0.0")
    assert chart.groups[0].bars[0].width == TRACK_PERCENT  # 20 against a ceiling of 20


def test_no_pairs_no_agreement_chart() -> None:
    view = versions_view(
        section("classification", entry("1.0.0", True), entry("1.1.0", decisions={"canary": 3}))
    )
    assert view is not None and view.agreement_chart is None
