"""The SVG plots ``make bench`` writes beside its JSON results (scripts/bench/plots.py)."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import ModuleType

import pytest

SVG = "{http://www.w3.org/2000/svg}"
FILES = ("p99-vs-concurrency.svg", "requests-vs-concurrency.svg")
METRIC = {"p99-vs-concurrency.svg": "p99_ms", "requests-vs-concurrency.svg": "requests_per_s"}
MACHINE = "2 cores, Python 3.11, wrk on the same machine"


def load_plots() -> ModuleType:
    """scripts/bench is not a package: load the module from its file."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "bench" / "plots.py"
    spec = importlib.util.spec_from_file_location("bench_plots", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


plots = load_plots()


def cell(requests_per_s: float, p99_ms: float) -> dict[str, float]:
    return {
        "requests_per_s": requests_per_s,
        "p50_ms": p99_ms / 4,
        "p90_ms": p99_ms / 2,
        "p99_ms": p99_ms,
        "max_ms": p99_ms * 2,
    }


BENCH = {
    "model-service (defaults)": {1: cell(900, 1.2), 4: cell(1800, 40), 16: cell(2300, 52),
                                 64: cell(2750, 400)},
    "hand-written Flask route": {1: cell(800, 1.1), 4: cell(1550, 12.5), 16: cell(1650, 22),
                                 64: cell(2100, 44)},
    "MLServer 1.7.1": {64: cell(750, 300), 1: cell(400, 3.0), 16: cell(700, 80)},
}  # fmt: skip


def draw(tmp_path: Path, series: dict[str, dict[int, dict[str, float]]]) -> dict[str, Path]:
    paths = plots.write_plots(series, tmp_path, MACHINE)
    assert sorted(path.name for path in paths) == sorted(FILES)
    return {path.name: path for path in paths}


def server_groups(path: Path) -> dict[str, ElementTree.Element]:
    root = ElementTree.parse(path).getroot()
    return {group.attrib["data-server"]: group for group in root.iter(f"{SVG}g") if
            group.get("class") == "server"}  # fmt: skip


def line_points(group: ElementTree.Element) -> list[tuple[float, float]]:
    polylines = group.findall(f"{SVG}polyline")
    assert len(polylines) == 1
    pairs = polylines[0].attrib["points"].split()
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in pairs)]


def texts(path: Path) -> list[str]:
    return [element.text or "" for element in ElementTree.parse(path).getroot().iter(f"{SVG}text")]


@pytest.mark.parametrize("name", FILES)
def test_each_plot_is_a_standalone_svg_document(tmp_path: Path, name: str) -> None:
    path = draw(tmp_path, BENCH)[name]
    root = ElementTree.parse(path).getroot()

    assert path.parent == tmp_path
    assert root.tag == f"{SVG}svg"
    assert {"width", "height", "viewBox"} <= set(root.attrib)
    source = path.read_text()
    for external in ("<script", "href", "@import", "url(", "<style", "<foreignObject"):
        assert external not in source
    assert MACHINE in texts(path)


@pytest.mark.parametrize("name", FILES)
def test_one_line_per_server_with_a_point_per_measured_concurrency(
    tmp_path: Path, name: str
) -> None:
    groups = server_groups(draw(tmp_path, BENCH)[name])

    assert {server: len(line_points(group)) for server, group in groups.items()} == {
        server: len(cells) for server, cells in BENCH.items()
    }
    for group in groups.values():
        xs = [x for x, _ in line_points(group)]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)
        assert len([child for child in group if child.get("class") == "marker"]) == len(xs) + 1


@pytest.mark.parametrize("name", FILES)
def test_x_ticks_are_the_measured_concurrencies_at_the_points(tmp_path: Path, name: str) -> None:
    path = draw(tmp_path, BENCH)[name]

    assert {"1", "4", "16", "64"} <= set(texts(path))
    positions = {x for group in server_groups(path).values() for x, _ in line_points(group)}
    assert len(positions) == 4  # servers measured at the same concurrency share an x


@pytest.mark.parametrize("name", FILES)
def test_a_larger_value_is_drawn_higher(tmp_path: Path, name: str) -> None:
    groups = server_groups(draw(tmp_path, BENCH)[name])

    drawn = {
        (server, concurrency): y
        for server, cells in BENCH.items()
        for concurrency, (_, y) in zip(sorted(cells), line_points(groups[server]), strict=True)
    }
    measured = {
        (server, concurrency): values[METRIC[name]]
        for server, cells in BENCH.items()
        for concurrency, values in cells.items()
    }
    for first in measured:
        for second in measured:
            if measured[first] > measured[second]:
                assert drawn[first] < drawn[second], (first, second)


@pytest.mark.parametrize(
    ("low", "high"), [(0.3, 1200.0), (1.0, 1.0), (2.0, 9.5), (0.05, 0.06), (15.0, 99999.0)]
)
@pytest.mark.parametrize("name", FILES)
def test_every_point_lies_inside_the_plot_area(
    tmp_path: Path, name: str, low: float, high: float
) -> None:
    series = {"low": {1: cell(low, low), 64: cell(low, low)}, "high": {8: cell(high, high)}}
    groups = server_groups(draw(tmp_path, series)[name])

    for group in groups.values():
        for _, y in line_points(group):
            assert plots.TOP <= y <= plots.BOTTOM


def test_requests_axis_starts_at_zero_and_latency_axis_is_logarithmic(tmp_path: Path) -> None:
    paths = draw(tmp_path, BENCH)

    assert "0" in texts(paths["requests-vs-concurrency.svg"])
    latency_labels = texts(paths["p99-vs-concurrency.svg"])
    assert {"1", "10", "100", "1,000"} <= set(latency_labels)
    assert "0" not in latency_labels


def test_latency_spanning_few_decades_gets_ticks_at_2_and_5(tmp_path: Path) -> None:
    series = {"server": {1: cell(100, 1.5), 64: cell(100, 40)}}
    path = draw(tmp_path, series)["p99-vs-concurrency.svg"]

    assert {"1", "2", "5", "10", "20", "50", "100"} <= set(texts(path))


@pytest.mark.parametrize("name", FILES)
def test_server_names_are_escaped_and_shown_as_given(tmp_path: Path, name: str) -> None:
    awkward = "A <b> & \"quoted\" 'server' ]]>"
    path = draw(tmp_path, {awkward: {1: cell(10, 1), 4: cell(20, 2)}})[name]

    assert list(server_groups(path)) == [awkward]
    assert awkward in texts(path)


@pytest.mark.parametrize("name", FILES)
def test_servers_differ_in_colour_dash_and_marker_shape(tmp_path: Path, name: str) -> None:
    series = {f"server {i}": {1: cell(i + 1, i + 1)} for i in range(len(plots.COLOURS))}
    groups = server_groups(draw(tmp_path, series)[name])

    styles = []
    for group in groups.values():
        line = group.find(f"{SVG}polyline")
        assert line is not None
        marker = next(child for child in group if child.get("class") == "marker")
        styles.append((line.get("stroke"), line.get("stroke-dasharray"), outline(marker)))
    for position in range(3):
        assert len({style[position] for style in styles}) == len(styles)


def outline(marker: ElementTree.Element) -> tuple[str, tuple[tuple[float, float], ...]]:
    """A marker's element and its corners relative to the first, to compare shapes anywhere."""
    corners = [tuple(map(float, pair.split(","))) for pair in marker.get("points", "").split()]
    return marker.tag, tuple(
        (round(x - corners[0][0]), round(y - corners[0][1])) for x, y in corners
    )


@pytest.mark.parametrize(
    "series",
    [
        {},
        {"no measurements yet": {}},
        {"one point": {16: cell(1500, 20)}},
        {"zero and missing": {1: cell(0, 0), 4: {"requests_per_s": 5.0}, 16: cell(3, 2)}},
    ],
    ids=["no servers", "empty server", "one point", "zero latency and missing metric"],
)
@pytest.mark.parametrize("name", FILES)
def test_sparse_results_still_give_valid_plots(
    tmp_path: Path, name: str, series: dict[str, dict[int, dict[str, float]]]
) -> None:
    path = draw(tmp_path, series)[name]

    groups = server_groups(path)
    assert list(groups) == list(series)
    for server, group in groups.items():
        drawable = [
            values[METRIC[name]]
            for values in series[server].values()
            if METRIC[name] in values and (values[METRIC[name]] > 0 or name.startswith("req"))
        ]
        assert len(line_points(group)) == len(drawable)
