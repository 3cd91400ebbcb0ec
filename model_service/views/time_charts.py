"""Charts over the buckets of a time window: the UTC axis labels and the numbers behind them.

A :class:`TimeChart` carries its columns and lines (plot percentages from
:mod:`model_service.views.charts`) together with the table of the values they draw, which the
page shows under each chart so the figures can be read without seeing the shapes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from model_service.views.charts import format_number, is_number

# The SVG has ``viewBox="0 0 100 100"`` stretched to the box the stylesheet gives it
# (``preserveAspectRatio="none"``), so the coordinates below are percentages of the plot; lines keep
# their width through ``vector-effect``, and the axis text stays outside the SVG.


@dataclass(frozen=True)
class Column:
    """One rectangle of a column chart, in plot percentages; ``title`` is its tooltip."""

    x: float
    y: float
    width: float
    height: float
    tone: str
    title: str


@dataclass(frozen=True)
class Line:
    """One series of a line chart: polyline segments (gaps where a value is missing) and dots."""

    name: str
    tone: str
    segments: list[str]
    dots: list[tuple[float, float]]


def axis_ceiling(largest: float) -> float:
    """The top of a value axis: the smallest 1, 2, 2.5 or 5 times a power of ten >= ``largest``."""
    if not is_number(largest) or largest <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(largest))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= largest)


def _slot_centre(index: int, count: int) -> float:
    return round((index + 0.5) * 100 / count, 3)


def _height(value: float, ceiling: float) -> float:
    return round(min(max(value, 0.0), ceiling) / ceiling * 100, 3)


def stacked_columns(
    stacks: Sequence[Sequence[tuple[float, str, str]]], ceiling: float
) -> list[Column]:
    """Columns, one slot per entry of ``stacks``, each a pile of ``(value, tone, title)`` parts."""
    count = len(stacks) or 1
    slot = 100 / count
    columns = []
    for index, parts in enumerate(stacks):
        base = 0.0
        for value, tone, title in parts:
            if not is_number(value) or value <= 0:
                continue
            height = _height(base + value, ceiling) - _height(base, ceiling)
            base += value
            columns.append(
                Column(
                    x=round(index * slot + slot * 0.15, 3),
                    y=round(100 - _height(base, ceiling), 3),
                    width=round(slot * 0.7, 3),
                    height=round(height, 3),
                    tone=tone,
                    title=title,
                )
            )
    return columns


def line(name: str, tone: str, values: Sequence[float | None], ceiling: float) -> Line:
    """A series over evenly spaced slots; ``None`` (no data in that slot) breaks the line."""
    segments: list[list[str]] = [[]]
    dots = []
    for index, value in enumerate(values):
        if value is None or not is_number(value):
            segments.append([])
            continue
        point = (_slot_centre(index, len(values)), round(100 - _height(value, ceiling), 3))
        segments[-1].append(f"{point[0]},{point[1]}")
        dots.append(point)
    return Line(name, tone, [" ".join(part) for part in segments if len(part) > 1], dots)


@dataclass(frozen=True)
class TimeAxis:
    """The buckets' start times and the end of the last one, as UTC text."""

    starts: list[str]
    end: str


def time_axis(timeline: Sequence[Mapping[str, Any]]) -> TimeAxis:
    """Label the buckets in UTC, with the date when they run over more than one day."""
    starts = [_as_datetime(bucket.get("start")) for bucket in timeline]
    end = _as_datetime(timeline[-1].get("end")) if timeline else None
    known = [moment for moment in (*starts, end) if moment is not None]
    several_days = bool(known) and known[0].date() != known[-1].date()
    pattern = "%d %b %H:%M" if several_days else "%H:%M"
    return TimeAxis(
        starts=[start.strftime(pattern) if start else "" for start in starts],
        end=end.strftime(pattern) if end else "",
    )


def _as_datetime(value: Any) -> datetime | None:
    if is_number(value):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


@dataclass(frozen=True)
class TimeChart:
    """A chart over the window's time buckets, plus the numbers behind it for a table."""

    title: str
    ceiling: str
    start: str
    end: str
    columns: list[Column]
    lines: list[Line]
    legend: list[tuple[str, str]]
    headers: list[str]
    rows: list[list[str]]


def time_chart(
    title: str,
    ceiling: float,
    axis: TimeAxis,
    columns: list[Column],
    lines: list[Line],
    legend: list[tuple[str, str]],
    table: Mapping[str, list[str]],
) -> TimeChart:
    """A chart over ``axis`` whose table has one column per entry of ``table`` (in order)."""
    return TimeChart(
        title=title,
        ceiling=format_number(ceiling),
        start=axis.starts[0] if axis.starts else "",
        end=axis.end,
        columns=columns,
        lines=lines,
        legend=legend,
        headers=["Time (UTC)", *table],
        rows=[
            [label, *(values[index] for values in table.values())]
            for index, label in enumerate(axis.starts)
        ],
    )
