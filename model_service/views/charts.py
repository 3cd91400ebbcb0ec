"""Plain data for the server-rendered SVG charts: bars, diverging bars, overlaid histogram bars
and a shaded matrix (charts over time are in :mod:`model_service.views.time_charts`).

The pages run under a strict Content-Security-Policy (no inline styles), so a bar's length is an
SVG attribute (``<rect width="42.5%">``) computed here; the macros in
``templates/views/_charts.html`` only print these numbers. No JavaScript is needed to see a chart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

MATRIX_SHADES = 6
"""Number of background shades a confusion matrix cell can take (CSS classes ``shade-0..5``)."""


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: where its rectangle starts and how wide it is, in percent."""

    label: str
    value: float
    text: str
    x: float
    width: float
    tone: str


def format_number(value: Any, digits: int = 4) -> str:
    """A number for people: ``0.97871`` -> ``0.9787``, ``1234.5678`` -> ``1,235``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or (math.isfinite(value) and value.is_integer()):
        return f"{int(value):,}"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def format_percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def share_bars(
    values: Iterable[tuple[str, float]], highlight: str | None = None, percent: bool = False
) -> list[Bar]:
    """Bars for non-negative shares (probabilities, importances), longest first.

    :param highlight: the label drawn in the accent colour (the predicted class).
    :param percent: print values as percentages (probabilities) instead of numbers.
    """
    rows = sorted(
        ((str(label), float(value)) for label, value in values if is_number(value)),
        key=lambda row: row[1],
        reverse=True,
    )
    largest = max((abs(value) for _, value in rows), default=0.0)
    scale = 1.0 if percent else (largest or 1.0)
    return [
        Bar(
            label=label,
            value=value,
            text=format_percent(value) if percent else format_number(value),
            x=0.0,
            width=round(max(0.0, value) / scale * 100, 2),
            tone="accent" if label == highlight else "neutral",
        )
        for label, value in rows
    ]


def contribution_bars(contributions: Sequence[Mapping[str, Any]]) -> list[Bar]:
    """Diverging bars around a centre line, largest effect first; tone says the sign."""
    rows = [
        (str(item.get("field", "")), float(item["contribution"]))
        for item in contributions
        if is_number(item.get("contribution"))
    ]
    rows.sort(key=lambda row: abs(row[1]), reverse=True)
    largest = max((abs(value) for _, value in rows), default=0.0) or 1.0
    bars = []
    for label, value in rows:
        half = round(abs(value) / largest * 50, 2)
        bars.append(
            Bar(
                label=label,
                value=value,
                text=("+" if value > 0 else "") + format_number(value),
                x=50.0 if value >= 0 else round(50 - half, 2),
                width=half,
                tone="positive" if value > 0 else "negative" if value < 0 else "neutral",
            )
        )
    return bars


def importance_items(importances: Any) -> list[tuple[str, float]]:
    """Feature importances as ``(name, value)`` pairs, from a mapping or a list of records."""
    if isinstance(importances, Mapping):
        return [(str(name), value) for name, value in importances.items() if is_number(value)]
    pairs: list[tuple[str, float]] = []
    for item in importances if isinstance(importances, list) else []:
        if isinstance(item, Mapping):
            name = item.get("feature", item.get("name", item.get("field")))
            value = item.get("importance", item.get("value"))
            if name is not None and is_number(value):
                pairs.append((str(name), value))
        elif isinstance(item, (list, tuple)) and len(item) == 2 and is_number(item[1]):
            pairs.append((str(item[0]), item[1]))
    return pairs


@dataclass(frozen=True)
class MatrixView:
    """A confusion matrix ready for a table: labels and ``(count, shade)`` cells per row."""

    labels: list[str]
    rows: list[list[tuple[str, int]]]


def confusion_matrix(value: Any) -> MatrixView | None:
    """Read ``{"labels": [...], "matrix": [[...]]}`` (or a bare square list); else ``None``."""
    if isinstance(value, Mapping):
        labels, matrix = value.get("labels"), value.get("matrix", value.get("values"))
    else:
        labels, matrix = None, value
    if (
        not isinstance(matrix, list)
        or not matrix
        or not all(isinstance(row, list) and len(row) == len(matrix) for row in matrix)
    ):
        return None
    if not isinstance(labels, list) or len(labels) != len(matrix):
        labels = [str(index) for index in range(len(matrix))]
    numbers = [cell for row in matrix for cell in row if is_number(cell)]
    largest = max(numbers, default=0) or 1
    rows = [
        [
            (
                format_number(cell),
                int(cell / largest * (MATRIX_SHADES - 1)) if is_number(cell) else 0,
            )
            for cell in row
        ]
        for row in matrix
    ]
    return MatrixView([str(label) for label in labels], rows)


def is_number(value: Any) -> TypeGuard[float]:
    """A finite int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def numeric_grid(value: Any) -> MatrixView | None:
    """A list of equal-length lists of numbers (at least 2 x 2) as a shaded grid, else ``None``."""
    if not (isinstance(value, list) and len(value) >= 2 and isinstance(value[0], list)):
        return None
    width = len(value[0])
    if width < 2 or not all(
        isinstance(row, list) and len(row) == width and all(is_number(cell) for cell in row)
        for row in value
    ):
        return None
    largest = max(abs(cell) for row in value for cell in row) or 1
    rows = [
        [(format_number(cell), int(abs(cell) / largest * (MATRIX_SHADES - 1))) for cell in row]
        for row in value
    ]
    return MatrixView([str(index) for index in range(width)], rows)


@dataclass(frozen=True)
class OverlayBar:
    """One bin of a histogram drawn over another: both widths share one scale, in percent."""

    label: str
    reference: float
    live: float
    reference_width: float
    live_width: float
    live_text: str
    reference_text: str


def overlay_bars(
    labels: Sequence[Any], reference: Sequence[float], live: Sequence[float]
) -> list[OverlayBar]:
    """Per bin, the training share (drawn wide and light) and the live share (drawn over it).

    Both are shares of their own total, scaled so the largest of either fills the track.
    """
    pairs = [
        (float(ref) if is_number(ref) else 0.0, float(now) if is_number(now) else 0.0)
        for ref, now in zip(reference, live, strict=False)
    ]
    largest = max((max(pair) for pair in pairs), default=0.0) or 1.0
    return [
        OverlayBar(
            label=str(label),
            reference=ref,
            live=now,
            reference_width=round(ref / largest * 100, 2),
            live_width=round(now / largest * 100, 2),
            live_text=format_percent(now),
            reference_text=format_percent(ref),
        )
        for label, (ref, now) in zip(labels, pairs, strict=False)
    ]
