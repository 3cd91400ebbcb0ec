"""Turn the monitor's summary, timeline and histograms into what the monitoring page shows.

The monitor answers in plain dicts (the JSON of ``GET /api/models/<name>/monitoring``); this
module only lays them out: figures as text, charts as plot percentages for the SVG macros in
``templates/views/_charts.html``, and a table of the numbers behind every chart so that nothing
is shown by colour or shape alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model_service.views.charts import (
    OverlayBar,
    format_number,
    format_percent,
    is_number,
    overlay_bars,
)
from model_service.views.presentation import metric_name
from model_service.views.time_charts import (
    TimeAxis,
    TimeChart,
    axis_ceiling,
    line,
    stacked_columns,
    time_axis,
    time_chart,
)

WINDOWS = (("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("all", "All"))
"""The windows the page links to, as ``(value, label)``; any window the API takes also works."""

DEFAULT_WINDOW = "24h"

FEW_PREDICTIONS = 300
"""Below this many predictions in a window the page warns that PSI is noisy: with ``k`` bins and
``n`` items, sampling alone gives a PSI of about ``(k - 1) / n`` (0.04 for 12 bins and 300)."""

DRIFT_STATUSES = frozenset({"ok", "watch", "drift"})
"""The PSI readings; anything else (no live data) is shown as ``no data``."""

HEADLINE_METRICS = {"classification": "accuracy", "regression": "mae"}
"""The quality metric drawn over time for each kind of model."""


@dataclass(frozen=True)
class DriftRow:
    """One line of the drift table: an input field or the prediction."""

    field: str
    psi: str
    status: str
    out_of_range: str


@dataclass(frozen=True)
class Histogram:
    """One field's live histogram drawn over its training histogram."""

    field: str
    status: str
    bars: list[OverlayBar]


@dataclass(frozen=True)
class QualityView:
    """Live quality from feedback: the figures, per-class rows and the headline over time."""

    labelled: int
    kind: str | None
    metrics: list[tuple[str, str]]
    class_headers: list[str]
    class_rows: list[list[str]]
    chart: TimeChart | None


@dataclass(frozen=True)
class MonitoringView:
    """Everything the monitoring page shows for one model version and window."""

    window: str
    predictions: int
    errors: int
    error_rate: str
    latency_p50: str
    latency_p99: str
    traffic: TimeChart
    latency: TimeChart
    has_reference: bool
    drift: list[DriftRow]
    not_compared: list[str]
    histograms: list[Histogram]
    quality: QualityView

    @property
    def captured(self) -> bool:
        return self.predictions + self.errors > 0


def monitoring_view(
    summary: Mapping[str, Any],
    timeline: Sequence[Mapping[str, Any]],
    histograms: Mapping[str, Any],
    input_fields: Sequence[str] = (),
) -> MonitoringView:
    """Lay out one window of monitoring data.

    :param summary: ``Monitor.summary()``, the JSON of ``GET /api/models/<name>/monitoring``.
    :param timeline: ``Monitor.timeline()``, the window's buckets, oldest first.
    :param histograms: ``Monitor.histograms()``, reference and live shares per bin: a field (or
        the prediction) is there only when the model's reference data profiles it.
    :param input_fields: the model's input fields, to name those drift does not cover (lists).
    """
    predictions = _count(summary.get("predictions"))
    errors = _count(summary.get("errors"))
    latency = summary.get("latency_ms") or {}
    drift = summary.get("drift") or {}
    axis = time_axis(timeline)
    profiled: Mapping[str, Any] = histograms.get("features") or {}
    prediction_profiled = isinstance(histograms.get("prediction"), Mapping)
    has_reference = bool(profiled) or prediction_profiled
    return MonitoringView(
        window=str(summary.get("window") or DEFAULT_WINDOW),
        predictions=predictions,
        errors=errors,
        error_rate=_error_rate(predictions, errors),
        latency_p50=_milliseconds(latency.get("p50")),
        latency_p99=_milliseconds(latency.get("p99")),
        traffic=traffic_chart(timeline, axis),
        latency=latency_chart(timeline, axis),
        has_reference=has_reference,
        drift=drift_rows(drift, prediction_profiled),
        not_compared=[name for name in input_fields if name not in profiled]
        if has_reference
        else [],
        histograms=histogram_views(histograms, drift),
        quality=quality_view(summary.get("quality") or {}, timeline, axis),
    )


def traffic_chart(timeline: Sequence[Mapping[str, Any]], axis: TimeAxis) -> TimeChart:
    """Predictions per bucket as columns, the failed requests piled on top in the error tone."""
    counts = [
        (_count(bucket.get("predictions")), _count(bucket.get("errors"))) for bucket in timeline
    ]
    ceiling = axis_ceiling(max((ok + failed for ok, failed in counts), default=0))
    stacks = [
        [
            (ok, "primary", f"{label}: {ok:,} predictions"),
            (failed, "error", f"{label}: {failed:,} errors"),
        ]
        for label, (ok, failed) in zip(axis.starts, counts, strict=True)
    ]
    return time_chart(
        "Predictions and errors over time",
        ceiling,
        axis,
        columns=stacked_columns(stacks, ceiling),
        lines=[],
        legend=[("primary", "predictions"), ("error", "errors")],
        table={
            "Predictions": [f"{ok:,}" for ok, _ in counts],
            "Errors": [f"{failed:,}" for _, failed in counts],
            "Error rate": [_error_rate(ok, failed) for ok, failed in counts],
        },
    )


def latency_chart(timeline: Sequence[Mapping[str, Any]], axis: TimeAxis) -> TimeChart:
    """The median and the 99th percentile of the prediction latency per bucket, in ms."""
    series = {
        "p50": [_number_or_none(bucket.get("p50_ms")) for bucket in timeline],
        "p99": [_number_or_none(bucket.get("p99_ms")) for bucket in timeline],
    }
    ceiling = axis_ceiling(max((v for values in series.values() for v in values if v), default=0))
    return time_chart(
        "Latency over time (ms)",
        ceiling,
        axis,
        columns=[],
        lines=[
            line("p50 (median)", "primary", series["p50"], ceiling),
            line("p99", "secondary", series["p99"], ceiling),
        ],
        legend=[("primary", "p50 (median)"), ("secondary", "p99")],
        table={
            f"{name} (ms)": [_milliseconds(value) for value in values]
            for name, values in series.items()
        },
    )


def drift_rows(drift: Mapping[str, Any], with_prediction: bool = True) -> list[DriftRow]:
    """The drift table: each profiled input field, then the prediction when it is profiled."""
    features: Mapping[str, Any] = drift.get("features") or {}
    rows = [_drift_row(name, entry) for name, entry in features.items()]
    prediction = drift.get("prediction")
    if with_prediction and isinstance(prediction, Mapping):
        rows.append(_drift_row("prediction", prediction))
    return rows


def _drift_row(name: str, entry: Mapping[str, Any]) -> DriftRow:
    psi = entry.get("psi")
    out_of_range = entry.get("out_of_range_rate")
    return DriftRow(
        field=name,
        psi=f"{psi:.3f}" if is_number(psi) else "—",
        status=drift_status(entry.get("status")),
        out_of_range=format_percent(out_of_range) if is_number(out_of_range) else "—",
    )


def drift_status(status: Any) -> str:
    """``ok``, ``watch`` or ``drift``; ``no data`` when the window holds nothing to compare."""
    return str(status) if status in DRIFT_STATUSES else "no data"


def histogram_views(histograms: Mapping[str, Any], drift: Mapping[str, Any]) -> list[Histogram]:
    """Each field's histogram pair (the prediction last), with its drift status for the heading."""
    features: Mapping[str, Any] = histograms.get("features") or {}
    statuses: Mapping[str, Any] = drift.get("features") or {}
    views = [
        _histogram(name, entry, (statuses.get(name) or {}).get("status"))
        for name, entry in features.items()
    ]
    prediction = histograms.get("prediction")
    if isinstance(prediction, Mapping) and prediction.get("bins"):
        views.append(
            _histogram("prediction", prediction, (drift.get("prediction") or {}).get("status"))
        )
    return views


def _histogram(name: str, entry: Mapping[str, Any], status: Any) -> Histogram:
    bars = overlay_bars(
        entry.get("bins") or [], entry.get("reference") or [], entry.get("live") or []
    )
    return Histogram(field=name, status=drift_status(status), bars=bars)


def quality_view(
    quality: Mapping[str, Any], timeline: Sequence[Mapping[str, Any]], axis: TimeAxis
) -> QualityView:
    """Scalar metrics as figures, per-class metrics as a table, the headline metric over time."""
    kind = quality.get("kind")
    metrics: Mapping[str, Any] = quality.get("metrics") or {}
    scalars = [(name, value) for name, value in metrics.items() if is_number(value)]
    class_headers, class_rows = _class_table(metrics)
    labelled = _count(quality.get("labelled"))
    return QualityView(
        labelled=labelled,
        kind=str(kind) if kind else None,
        metrics=[(metric_name(name), _metric_text(name, value)) for name, value in scalars],
        class_headers=class_headers,
        class_rows=class_rows,
        chart=_quality_chart(str(kind), timeline, axis) if labelled else None,
    )


def _class_table(metrics: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the per-class table from ``{"per_class": {label: {metric: value}}}``."""
    by_class: Mapping[str, Mapping[str, Any]] = metrics.get("per_class") or {}
    names = sorted({metric for entry in by_class.values() for metric in entry})
    rows = [
        [str(label), *(_metric_text(metric, entry.get(metric)) for metric in names)]
        for label, entry in by_class.items()
    ]
    return (["Class", *map(metric_name, names)] if rows else []), rows


def _quality_chart(
    kind: str, timeline: Sequence[Mapping[str, Any]], axis: TimeAxis
) -> TimeChart | None:
    metric = HEADLINE_METRICS.get(kind, "accuracy")
    values = [_number_or_none(bucket.get("quality")) for bucket in timeline]
    if not any(value is not None for value in values):
        return None
    ceiling = (
        1.0 if kind == "classification" else axis_ceiling(max(v for v in values if v is not None))
    )
    title = f"{metric_name(metric)} over time"
    return time_chart(
        title,
        ceiling,
        axis,
        columns=[],
        lines=[line(metric_name(metric), "quality", values, ceiling)],
        legend=[("quality", metric_name(metric))],
        table={
            metric_name(metric): [_metric_text(metric, value) for value in values],
            "Labelled": [f"{_count(bucket.get('labelled')):,}" for bucket in timeline],
        },
    )


def _metric_text(name: str, value: Any) -> str:
    if not is_number(value):
        return "—"
    if name in ("accuracy", "precision", "recall"):
        return format_percent(value)
    return format_number(value)


def _error_rate(predictions: int, errors: int) -> str:
    total = predictions + errors
    return format_percent(errors / total) if total else "—"


def _milliseconds(value: Any) -> str:
    return f"{value:.1f} ms" if is_number(value) else "—"


def _count(value: Any) -> int:
    return int(value) if is_number(value) else 0


def _number_or_none(value: Any) -> float | None:
    return float(value) if is_number(value) else None
