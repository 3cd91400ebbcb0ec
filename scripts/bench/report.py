"""Print the benchmark's one table (from a run, or from a saved ``bench-results/*.json``).

python scripts/bench/report.py bench-results/latest.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

COLUMNS = (
    "server",
    "c=1 req/s",
    "c=1 p50 ms",
    "c=16 req/s",
    "c=16 p50",
    "c=16 p99",
    "c=64 req/s",
    "c=64 p50",
    "c=64 p99",
    "c=64 CPU ms/req",
    "c=64 mean batch",
    "100-row rows/s",
    "100-row CPU us/row",
    "errors",
    "ours/it c=64",
    "ours/it rows",
)


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _cell(cells: dict[str, Any], key: str, field: str) -> float | None:
    cell = cells.get(key)
    return None if cell is None else cell.get(field)


def _cpu_per_row(cells: dict[str, Any]) -> float | None:
    per_request = _cell(cells, "batch100", "cpu_ms_per_request")
    return None if per_request is None else per_request * 1000 / 100


def _row(name: str, cells: dict[str, Any], ours: dict[str, Any] | None) -> list[str]:
    rows_per_s = _cell(cells, "batch100", "requests_per_s")
    rows_per_s = None if rows_per_s is None else rows_per_s * 100
    errors = sum(cell["errors"] for cell in cells.values())

    def ratio(mine: float | None, theirs: float | None) -> str:
        return "-" if not (mine and theirs) else f"{mine / theirs:.2f}x"

    our_rows = None if ours is None else ours["batch100"]["requests_per_s"] * 100
    our_c64 = None if ours is None else ours["c64"]["requests_per_s"]
    return [
        name,
        _number(_cell(cells, "c1", "requests_per_s")),
        _number(_cell(cells, "c1", "p50_ms"), 2),
        _number(_cell(cells, "c16", "requests_per_s")),
        _number(_cell(cells, "c16", "p50_ms"), 1),
        _number(_cell(cells, "c16", "p99_ms"), 1),
        _number(_cell(cells, "c64", "requests_per_s")),
        _number(_cell(cells, "c64", "p50_ms"), 1),
        _number(_cell(cells, "c64", "p99_ms"), 1),
        _number(_cell(cells, "c64", "cpu_ms_per_request"), 2),
        _number(_cell(cells, "c64", "mean_batch_size"), 1),
        _number(rows_per_s),
        _number(_cpu_per_row(cells)),
        str(errors),
        ratio(our_c64, _cell(cells, "c64", "requests_per_s")),
        ratio(our_rows, rows_per_s),
    ]


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per server measured, ours (best worker class) first."""
    ours_all = results["ours"]
    best = ours_all["best_class"]
    ours = ours_all[best]
    rows = [_row(f"model-service {best} (batching on)", ours, None)]
    rows += [
        _row(f"model-service {name}", ours_all[name], ours)
        for name in results["options"]["classes"]
        if name != best
    ]
    rows.append(_row(f"model-service {best}, batching off", ours_all["batching_off"], ours))
    if "capture_off" in ours_all:
        rows.append(_row(f"model-service {best}, capture off", ours_all["capture_off"], ours))
    baselines = results["baselines"]
    rows.append(_row("(b) bare Flask, fixed JSON (sync)", baselines["bare"], ours))
    rows.append(_row("(c) hand-written Flask route (sync)", baselines["handwritten"], ours))
    server = results.get("mlserver")
    if server:
        for key, cells in server.items():
            if key.startswith("parallel_workers_"):
                label = f"(d) MLServer {server['version']} {key.replace('_', ' ', 1)}"
                rows.append(_row(label.replace("_", "="), cells, ours))
    limit = results["in_process"]
    rows.append(
        [
            "(a) in-process predict / predict_batch",
            "-",
            "-",
            "-",
            "-",
            "-",
            _number(limit["single_calls_per_s"]),
            "-",
            "-",
            _number(1000 / limit["single_calls_per_s"], 2),
            "-",
            _number(limit["batch100_rows_per_s"]),
            _number(1e6 / limit["batch100_rows_per_s"], 1),
            "0",
            f"{ours['c64']['requests_per_s'] / limit['single_calls_per_s']:.2f}x",
            f"{ours['batch100']['requests_per_s'] * 100 / limit['batch100_rows_per_s']:.2f}x",
        ]
    )
    return rows


def markdown(rows: list[list[str]], columns: tuple[str, ...] = COLUMNS) -> str:
    widths = [max(len(row[i]) for row in [list(columns), *rows]) for i in range(len(columns))]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(list(columns)), rule, *(line(row) for row in rows)])


def machine_line(results: dict[str, Any]) -> str:
    m, o = results["machine"], results["options"]
    return (
        f"iris_model, {o['workers']} workers, {o['runs']} run(s) x {o['seconds']:g} s per cell "
        f"(median), wrk (2 threads) on the same cores, unpinned. Machine: {m['cores']} cores "
        f"({m['cpu']}), Python "
        f"{m['python']}, flask {m['flask']}, gunicorn {m['gunicorn']}, gevent {m['gevent']}, "
        f"scikit-learn {m['scikit-learn']}, numpy {m['numpy']}, orjson {m['orjson']}, {m['wrk']}; "
        f"load average at start {m['load_average_at_start'][0]:.2f}."
    )


def memory_lines(results: dict[str, Any]) -> list[str]:
    ours = results["ours"]
    lines = [
        f"RSS per worker ({name}, {results['options']['workers']} workers, preload): "
        f"{ours[f'{name}_idle_rss_mib']} MiB at start, {ours[f'{name}_rss_mib']} MiB after the run"
        + (
            f"; capture writer process {ours[f'{name}_writer_rss_mib']} MiB"
            if ours.get(f"{name}_writer_rss_mib")
            else ""
        )
        for name in results["options"]["classes"]
    ]
    soak = ours.get("soak")
    if soak:
        lines.append(
            f"Soak: {soak['requests']:,} requests in {soak['seconds']} s; RSS per worker "
            f"{soak['rss_before_mib']} MiB before, {soak['rss_after_mib']} MiB after."
        )
    return lines


def target_lines(results: dict[str, Any]) -> list[str]:
    """The issue's targets, each with the measured value."""
    ours_all = results["ours"]
    ours, off = ours_all[ours_all["best_class"]], ours_all["batching_off"]
    hand = results["baselines"]["handwritten"]

    def ratio(mine: dict[str, Any], theirs: dict[str, Any], key: str) -> str:
        return f"{mine[key]['requests_per_s'] / theirs[key]['requests_per_s']:.2f}x"

    lines = [
        f"c=64 vs hand-written: {ratio(ours, hand, 'c64')} (target >= 2x)",
        f"c=1 p50: {ours['c1']['p50_ms']:.2f} ms vs hand-written {hand['c1']['p50_ms']:.2f} ms "
        "(target: within 0.3 ms)",
        f"c=16 p99: {ours['c16']['p99_ms']:.1f} ms (target <= 20 ms)",
        f"100-row rows/s vs hand-written: {ratio(ours, hand, 'batch100')} (target >= 2x)",
        f"batching on/off at c=64: {ratio(ours, off, 'c64')}; c=1 p50 "
        f"{ours['c1']['p50_ms']:.2f} ms on vs {off['c1']['p50_ms']:.2f} ms off",
    ]
    if "capture_off" in ours_all:
        lines.append(
            f"capture on/off at c=64: {ratio(ours, ours_all['capture_off'], 'c64')} "
            "(monitoring target: within 10 %, i.e. >= 0.90x)"
        )
    server = results.get("mlserver")
    if server:
        best = max(
            cells["c64"]["requests_per_s"]
            for key, cells in server.items()
            if key.startswith("parallel_workers_")
        )
        lines.append(
            f"c=64 vs MLServer's best: {ours['c64']['requests_per_s'] / best:.2f}x (target >= 4x)"
        )
    return lines


TAIL_COLUMNS = ("server", "c", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "GC pauses > 10 ms")
DEFAULTS = "model-service (defaults)"
HANDWRITTEN = "hand-written Flask route"


def tail_servers(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The servers measured at every tail concurrency, ours with its defaults first."""
    servers = {
        DEFAULTS: results["ours"]["gevent"],
        HANDWRITTEN: results["baselines"]["handwritten"],
    }
    mlserver = results.get("mlserver")
    if mlserver:
        servers[f"MLServer {mlserver['version']}"] = mlserver["parallel_workers_0"]
    return servers


def _concurrencies(cells: dict[str, Any]) -> list[int]:
    return sorted(int(key[1:]) for key in cells if key.startswith("c") and key[1:].isdigit())


def tail_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, cells in tail_servers(results).items():
        for concurrency in _concurrencies(cells):
            cell = cells[f"c{concurrency}"]
            pauses = cell.get("gc_pauses_over_10ms")
            rows.append(
                [
                    name,
                    str(concurrency),
                    _number(cell["requests_per_s"]),
                    _number(cell["p50_ms"], 2),
                    _number(cell["p90_ms"], 2),
                    _number(cell["p99_ms"], 2),
                    _number(cell["max_ms"], 1),
                    "-" if pauses is None else str(pauses),
                ]
            )
    return rows


def plot_series(results: dict[str, Any]) -> dict[str, dict[int, dict[str, float]]]:
    """What :func:`plots.write_plots` draws: each tail server's cells by concurrency."""
    return {
        name: {concurrency: cells[f"c{concurrency}"] for concurrency in _concurrencies(cells)}
        for name, cells in tail_servers(results).items()
    }


def tail_target_lines(results: dict[str, Any]) -> list[str]:
    """The tail-latency issue's targets, ours (defaults) against the hand-written route."""
    ours, hand = results["ours"]["gevent"], results["baselines"]["handwritten"]
    lines = []
    for concurrency, limit in ((1, 1.0), (4, 1.0), (16, 1.0), (64, 1.5)):
        mine, theirs = ours[f"c{concurrency}"]["p99_ms"], hand[f"c{concurrency}"]["p99_ms"]
        lines.append(
            f"c={concurrency} p99: {mine:.2f} ms vs hand-written {theirs:.2f} ms = "
            f"{mine / theirs:.2f}x (target <= {limit:g}x)"
        )
    for concurrency, target in ((64, 2.0), (16, 1.5)):
        key = f"c{concurrency}"
        ratio = ours[key]["requests_per_s"] / hand[key]["requests_per_s"]
        lines.append(f"c={concurrency} req/s vs hand-written: {ratio:.2f}x (target >= {target:g}x)")
    lines.append(
        f"c=1 p50: {ours['c1']['p50_ms']:.2f} ms vs hand-written {hand['c1']['p50_ms']:.2f} ms "
        "(target: within 0.2 ms)"
    )
    pauses = sum(cell.get("gc_pauses_over_10ms") or 0 for cell in ours.values())
    lines.append(f"GC pauses over 10 ms in our workers, every cell of the defaults: {pauses} (0)")
    rows = ours["batch100"]["requests_per_s"] / hand["batch100"]["requests_per_s"]
    lines.append(f"100-row rows/s vs hand-written: {rows:.2f}x (target >= 1x)")
    drops = [
        f"{key} {cell['capture_dropped_share']:.0%}"
        for key, cell in ours.items()
        if cell.get("capture_dropped_share") is not None
    ]
    if drops:
        lines.append(
            "Predicted rows whose capture the monitoring queue dropped (full: the writer "
            f"fell behind), per cell of the defaults: {', '.join(drops)}"
        )
    return lines


def print_table(results: dict[str, Any]) -> None:
    print()
    print(machine_line(results))
    print()
    print(markdown(table_rows(results)))
    print()
    for line in [*target_lines(results), *memory_lines(results)]:
        print(f"- {line}")
    print()
    print("Tail latency, the same run:")
    print()
    print(markdown(tail_rows(results), TAIL_COLUMNS))
    print()
    for line in tail_target_lines(results):
        print(f"- {line}")
    print(f"\nTotal bench time: {results.get('seconds', '?')} s")


if __name__ == "__main__":
    print_table(json.loads(Path(sys.argv[1]).read_text()))
