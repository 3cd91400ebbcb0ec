"""Two SVG plots of a ``make bench`` run: p99 latency and requests per second against concurrency.

The files stand alone (no script, no external font or stylesheet), so GitHub and any browser show
them as images. Each server gets a colour *and* a dash pattern and marker shape of its own, so the
lines stay apart when printed in grey. Only the standard library is used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MIN_WIDTH, HEIGHT = 900, 560
LEFT, RIGHT, TOP, BOTTOM = 80, 660, 60, 470  # the plot area; the legend sits right of it
LEGEND_CHARACTER_WIDTH = 8  # generous for 13 px text, so long server names widen the image
INSET = 24  # keeps the first and last markers off the axes

# Okabe-Ito colours (told apart by most colour-blind readers), one dash pattern and marker each.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "12 4 2 4 2 4", "16 3")
MARKERS = ("circle", "square", "triangle", "diamond", "plus", "triangle-down", "x")

PLUS = ((-2, -6), (2, -6), (2, -2), (6, -2), (6, 2), (2, 2), (2, 6), (-2, 6), (-2, 2), (-6, 2),
        (-6, -2), (-2, -2))  # fmt: skip
POLYGON_CORNERS = {  # offsets from a marker's centre, in pixels
    "triangle": ((0, -6), (5.5, 4), (-5.5, 4)),
    "triangle-down": ((0, 6), (5.5, -4), (-5.5, -4)),
    "diamond": ((0, -6), (6, 0), (0, 6), (-6, 0)),
    "plus": PLUS,
    # the plus turned 45 degrees (and shrunk to about the same size)
    "x": tuple(((dx - dy) * 0.75, (dx + dy) * 0.75) for dx, dy in PLUS),
}

Series = dict[str, dict[int, dict[str, float]]]


@dataclass(frozen=True)
class Plot:
    file_name: str
    metric: str
    title: str
    y_title: str
    log_scale: bool


PLOTS = (
    Plot("p99-vs-concurrency.svg", "p99_ms", "p99 latency vs concurrency",
         "p99 latency (ms, log scale)", log_scale=True),
    Plot("requests-vs-concurrency.svg", "requests_per_s", "Throughput vs concurrency",
         "requests per second", log_scale=False),
)  # fmt: skip


@dataclass(frozen=True)
class Axis:
    """Maps data values onto pixels between ``start`` and ``end`` (``end`` < ``start`` for y)."""

    low: float
    high: float
    log_base: int | None
    start: float
    end: float

    def position(self, value: float) -> float:
        low, high, value = (
            (math.log(v, self.log_base) for v in (self.low, self.high, value))
            if self.log_base
            else (self.low, self.high, value)
        )
        return self.start + (value - low) / (high - low) * (self.end - self.start)


def write_plots(series: Series, folder: Path, machine: str) -> list[Path]:
    """Write ``p99-vs-concurrency.svg`` and ``requests-vs-concurrency.svg`` into ``folder``.

    :param series: server display name -> {concurrency: {"requests_per_s", "p99_ms", ...}}.
        A server need not have every concurrency; values that cannot be drawn (missing, not
        finite, or not positive on the log scale) are left out of its line.
    :param machine: one line describing where the run happened, printed under each plot.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for plot in PLOTS:
        path = folder / plot.file_name
        path.write_text(render(plot, series, machine), encoding="utf-8")
        paths.append(path)
    return paths


def render(plot: Plot, series: Series, machine: str) -> str:
    """The SVG document of one plot."""
    points = {
        name: [
            (concurrency, cells[concurrency][plot.metric])
            for concurrency in sorted(cells)
            if concurrency > 0 and drawable(cells[concurrency].get(plot.metric), plot.log_scale)
        ]
        for name, cells in series.items()
    }
    concurrencies = sorted({c for line in points.values() for c, _ in line}) or [1]
    values = [value for line in points.values() for _, value in line]
    x_axis = Axis(min(concurrencies), max(concurrencies), 2, LEFT + INSET, RIGHT - INSET)
    if x_axis.low == x_axis.high:
        x_axis = Axis(x_axis.low / 2, x_axis.high * 2, 2, LEFT + INSET, RIGHT - INSET)
    y_ticks = log_ticks(values) if plot.log_scale else linear_ticks(values)
    y_axis = Axis(y_ticks[0], y_ticks[-1], 10 if plot.log_scale else None, BOTTOM, TOP)

    width = max(MIN_WIDTH, RIGHT + 90 + LEGEND_CHARACTER_WIDTH * max(map(len, series), default=0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
        f'viewBox="0 0 {width} {HEIGHT}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" '
        'font-size="13" fill="#222">',
        f"<title>{escape(plot.title)}</title>",
        f'<rect width="{width}" height="{HEIGHT}" fill="#fff"/>',
        text((LEFT + RIGHT) / 2, 32, plot.title, size=18, weight="bold"),
        *grid(x_axis, y_axis, concurrencies, y_ticks),
        text((LEFT + RIGHT) / 2, BOTTOM + 44, "concurrent connections (log2 scale)"),
        text(22, (TOP + BOTTOM) / 2, plot.y_title, rotate=True),
        text((LEFT + RIGHT) / 2, HEIGHT - 20, machine, size=12, fill="#555"),
    ]
    if not values:
        parts.append(text((LEFT + RIGHT) / 2, (TOP + BOTTOM) / 2, "no measurements", fill="#555"))
    for index, (name, line) in enumerate(points.items()):
        pixels = [(x_axis.position(c), y_axis.position(v)) for c, v in line]
        parts.extend(server_line(index, name, pixels))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def drawable(value: float | None, log_scale: bool) -> bool:
    return value is not None and math.isfinite(value) and (value > 0 or not log_scale)


def log_ticks(values: list[float]) -> list[float]:
    """Powers of ten around the values, with 2 and 5 between them when they span few decades."""
    if not values:
        return [1.0, 10.0]
    low = math.floor(math.log10(min(values)))
    high = max(math.ceil(math.log10(max(values))), low + 1)
    steps = (1, 2, 5) if high - low <= 2 else (1,)
    ticks = [step * 10.0**power for power in range(low, high) for step in steps]
    return [*ticks, 10.0**high]


def linear_ticks(values: list[float]) -> list[float]:
    """From 0 up to the largest value, in about five round steps (1, 2 or 5 times a power of 10)."""
    largest = max(values, default=0.0)
    if largest <= 0:
        return [0.0, 1.0]
    magnitude = 10.0 ** math.floor(math.log10(largest / 5))
    step = next(s * magnitude for s in (1, 2, 5, 10) if s * magnitude * 5 >= largest)
    count = math.ceil(largest / step - 1e-9)
    return [i * step for i in range(count + 1)]


def grid(x_axis: Axis, y_axis: Axis, concurrencies: list[int], y_ticks: list[float]) -> list[str]:
    """Axes, grid lines and tick labels."""
    parts = ['<g stroke="#ddd" stroke-width="1">']
    for tick in y_ticks:
        y = y_axis.position(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}"/>')
    for concurrency in concurrencies:
        x = x_axis.position(concurrency)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{BOTTOM}"/>')
    parts.append("</g>")
    parts.append(
        f'<path d="M{LEFT} {TOP}V{BOTTOM}H{RIGHT}" fill="none" stroke="#444" stroke-width="1.5"/>'
    )
    for tick in y_ticks:
        parts.append(text(LEFT - 8, y_axis.position(tick) + 4, number(tick), anchor="end"))
    for concurrency in concurrencies:
        parts.append(text(x_axis.position(concurrency), BOTTOM + 20, str(concurrency)))
    return parts


def server_line(index: int, name: str, pixels: list[tuple[float, float]]) -> Iterable[str]:
    """One server's line and markers, and its legend entry."""
    colour, dash = COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)]
    marker = MARKERS[index % len(MARKERS)]
    dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
    stroke = f'stroke="{colour}" stroke-width="2.5"{dash_attribute}'
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in pixels)
    legend_y = TOP + 10 + index * 26
    yield f'<g class="server" data-server={quoteattr(name)}>'
    yield f"<title>{escape(name)}</title>"
    yield f'<polyline points="{points}" fill="none" {stroke} stroke-linejoin="round"/>'
    yield from (shape(marker, x, y, colour) for x, y in pixels)
    yield f'<line x1="{RIGHT + 20}" y1="{legend_y}" x2="{RIGHT + 60}" y2="{legend_y}" {stroke}/>'
    yield shape(marker, RIGHT + 40, legend_y, colour)
    yield text(RIGHT + 68, legend_y + 4, name, anchor="start")
    yield "</g>"


def shape(marker: str, x: float, y: float, colour: str) -> str:
    """A marker centred on (x, y), about 10 pixels across, outlined in white to stand off lines."""
    style = f'fill="{colour}" stroke="#fff" stroke-width="1"'
    if marker == "circle":
        return f'<circle class="marker" cx="{x:.1f}" cy="{y:.1f}" r="5" {style}/>'
    if marker == "square":
        corner = f'x="{x - 4.5:.1f}" y="{y - 4.5:.1f}"'
        return f'<rect class="marker" {corner} width="9" height="9" {style}/>'
    corners = POLYGON_CORNERS[marker]
    points = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)
    return f'<polygon class="marker" points="{points}" {style}/>'


def text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "middle",
    size: int | None = None,
    weight: str | None = None,
    fill: str | None = None,
    rotate: bool = False,
) -> str:
    extra = "".join(
        f' {key}="{value}"'
        for key, value in (("font-size", size), ("font-weight", weight), ("fill", fill))
        if value is not None
    )
    if rotate:
        extra += f' transform="rotate(-90 {x:.1f} {y:.1f})"'
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


def number(value: float) -> str:
    """A tick label: thousands separated, no trailing zeros (0.5, 20, 1,000)."""
    return f"{value:,.0f}" if value >= 1 and value == round(value) else f"{value:g}"
