"""The monitoring page's Versions section: the ``versions`` comparison of the monitoring summary
laid out as a table and two bar charts (agreement with the primary, latency p50/p99).

The charts are plain numbers for the ``bars_chart`` SVG macro in ``templates/views/_charts.html``
(lengths as SVG attributes: no inline style under the strict Content-Security-Policy); each has a
title and a description that reads out every bar, and the table holds the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model_service.views.charts import format_number, format_percent, is_number
from model_service.views.time_charts import axis_ceiling

TRACK_PERCENT = 76.0
"""How much of the chart's width the longest bar may take; the value is printed after it."""
LABEL_HEIGHT = 18
BAR_HEIGHT = 12
BAR_GAP = 5
GROUP_GAP = 8
DECISION_NAMES = {"primary": "primary", "canary": "canary", "shadow": "shadow", "direct": "direct"}


@dataclass(frozen=True)
class ChartBar:
    """One bar: its vertical position (px), its length (% of the chart's width) and its text."""

    tone: str
    y: int
    width: float
    text: str
    title: str

    @property
    def text_x(self) -> float:
        return round(self.width + 1.5, 2)

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 2


@dataclass(frozen=True)
class ChartGroup:
    """A version's bars, under its name."""

    label: str
    label_y: int
    bars: list[ChartBar]


@dataclass(frozen=True)
class BarsChart:
    """Horizontal bars grouped by version, in one SVG of ``height`` pixels."""

    title: str
    description: str
    height: int
    groups: list[ChartGroup]
    legend: list[tuple[str, str]]
    bar_height: int = BAR_HEIGHT
    track: float = TRACK_PERCENT


@dataclass(frozen=True)
class VersionRow:
    """One line of the versions table (every cell already text)."""

    version: str
    is_primary: bool
    decisions: str
    pairs: str
    comparison: str
    predictions: str
    p50: str
    p99: str
    errors: str
    quality: str


@dataclass(frozen=True)
class VersionsView:
    """The Versions section: shown only when more than one version has rows in the window."""

    primary: str
    kind: str | None
    capped: bool
    max_rows: int
    comparison_header: str
    predictions_header: str
    rows: list[VersionRow]
    agreement_chart: BarsChart | None
    latency_chart: BarsChart


def versions_view(section: Mapping[str, Any] | None) -> VersionsView | None:
    """Lay out ``summary["versions"]``; None when fewer than two versions have rows."""
    if not section:
        return None
    entries: Sequence[Mapping[str, Any]] = section.get("compared") or []
    with_rows = [entry for entry in entries if sum((entry.get("decisions") or {}).values())]
    if len(with_rows) < 2:
        return None
    kind = section.get("kind")
    primary = str(section.get("primary"))
    regression = kind == "regression"
    return VersionsView(
        primary=primary,
        kind=str(kind) if kind else None,
        capped=bool(section.get("capped")),
        max_rows=int(section.get("max_rows") or 0),
        comparison_header="Mean absolute difference" if regression else "Agreement",
        predictions_header="Mean prediction" if regression else "Predicted labels",
        rows=[_row(entry, regression) for entry in with_rows],
        agreement_chart=agreement_chart(with_rows, primary, regression),
        latency_chart=latency_chart(with_rows),
    )


def _row(entry: Mapping[str, Any], regression: bool) -> VersionRow:
    decisions: Mapping[str, int] = entry.get("decisions") or {}
    latency = entry.get("latency_ms") or {}
    errors = entry.get("errors") or {}
    pairs = entry.get("pairs")
    return VersionRow(
        version=str(entry.get("version")),
        is_primary=bool(entry.get("is_primary")),
        decisions=", ".join(
            f"{DECISION_NAMES.get(name, name)} {count:,}" for name, count in decisions.items()
        ),
        pairs="—" if pairs is None else _pairs_text(pairs, entry.get("unpaired") or 0),
        comparison=_comparison_text(entry, regression),
        predictions=_predictions_text(entry, regression),
        p50=_milliseconds(latency.get("p50")),
        p99=_milliseconds(latency.get("p99")),
        errors=_errors_text(errors),
        quality=_quality_text(entry.get("quality") or {}),
    )


def _pairs_text(pairs: int, unpaired: int) -> str:
    return f"{pairs:,}" + (f" ({unpaired:,} unpaired)" if unpaired else "")


def _comparison_text(entry: Mapping[str, Any], regression: bool) -> str:
    value = entry.get("mean_absolute_difference" if regression else "agreement")
    if not is_number(value):
        return "—"
    return format_number(value) if regression else format_percent(value)


def _predictions_text(entry: Mapping[str, Any], regression: bool) -> str:
    if regression:
        mean = entry.get("mean")
        return format_number(mean) if is_number(mean) else "—"
    shares: Mapping[str, float] = entry.get("label_shares") or {}
    return ", ".join(f"{label} {format_percent(share)}" for label, share in shares.items()) or "—"


def _errors_text(errors: Mapping[str, Any]) -> str:
    count = errors.get("count") or 0
    rate = errors.get("rate")
    return f"{count:,}" + (f" ({format_percent(rate)})" if count and is_number(rate) else "")


def _quality_text(quality: Mapping[str, Any]) -> str:
    metrics: Mapping[str, Any] = quality.get("metrics") or {}
    labelled = quality.get("labelled") or 0
    if is_number(metrics.get("accuracy")):
        return f"accuracy {format_percent(metrics['accuracy'])} of {labelled:,}"
    if is_number(metrics.get("mae")):
        return f"MAE {format_number(metrics['mae'])} of {labelled:,}"
    return "no feedback"


def _milliseconds(value: Any) -> str:
    return f"{value:.1f} ms" if is_number(value) else "—"


def agreement_chart(
    entries: Sequence[Mapping[str, Any]], primary: str, regression: bool
) -> BarsChart | None:
    """Each compared version's agreement with the primary (or mean absolute difference); None
    while no version has shadow pairs."""
    key = "mean_absolute_difference" if regression else "agreement"
    compared = [
        entry for entry in entries if not entry.get("is_primary") and is_number(entry.get(key))
    ]
    if not compared:
        return None
    ceiling = (
        axis_ceiling(max(float(entry[key]) for entry in compared)) if regression else 1.0
    ) or 1.0
    name = "Mean absolute difference" if regression else "Agreement"
    series = [
        [
            (
                "primary",
                float(entry[key]),
                _comparison_text(entry, regression),
                name.lower(),
                f" over {entry.get('pairs') or 0:,} shadow pairs",
            )
        ]
        for entry in compared
    ]
    return bars_chart(
        f"{name} with {primary} on shadowed items",
        [str(entry.get("version")) for entry in compared],
        series,
        ceiling,
        [("primary", name.lower())],
    )


def latency_chart(entries: Sequence[Mapping[str, Any]]) -> BarsChart:
    """Latency p50 and p99 of every version on one scale."""
    values = [
        [(entry.get("latency_ms") or {}).get(name) for name in ("p50", "p99")] for entry in entries
    ]
    ceiling = axis_ceiling(max((v for row in values for v in row if is_number(v)), default=0))
    series = [
        [
            (tone, float(value) if is_number(value) else 0.0, _milliseconds(value), name, "")
            for tone, name, value in (("primary", "p50", p50), ("secondary", "p99", p99))
        ]
        for p50, p99 in values
    ]
    labels = [_version_label(entry) for entry in entries]
    return bars_chart(
        "Latency per version (ms)",
        labels,
        series,
        ceiling or 1.0,
        [("primary", "p50 (median)"), ("secondary", "p99")],
    )


def _version_label(entry: Mapping[str, Any]) -> str:
    version = str(entry.get("version"))
    return f"{version} (primary)" if entry.get("is_primary") else version


def bars_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Sequence[tuple[str, float, str, str, str]]],
    ceiling: float,
    legend: list[tuple[str, str]],
) -> BarsChart:
    """Bars grouped under ``labels``; each bar ``(tone, value, text, name, note)`` drawn against
    ``ceiling`` with ``text`` after it. The description reads every bar out (``label: name text
    note``)."""
    groups, sentences, y = [], [], 0
    for label, bars in zip(labels, series, strict=True):
        label_y = y + LABEL_HEIGHT - 5
        y += LABEL_HEIGHT
        drawn = []
        for tone, value, text, name, note in bars:
            width = round(max(0.0, min(value / ceiling, 1.0)) * TRACK_PERCENT, 2)
            drawn.append(ChartBar(tone, y, width, text, f"{label}: {name} {text}{note}"))
            y += BAR_HEIGHT + BAR_GAP
        groups.append(ChartGroup(label, label_y, drawn))
        sentences.append(f"{label}: " + ", ".join(f"{n} {t}{o}" for _, _, t, n, o in bars))
        y += GROUP_GAP
    return BarsChart(
        title=title,
        description=". ".join(sentences) + ".",
        height=y,
        groups=groups,
        legend=legend,
    )
