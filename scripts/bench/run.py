"""``make bench``: model-service against its limits and its peers, on this machine, in one run.

Every server runs with the same number of gunicorn (or MLServer) workers on 127.0.0.1 and is
driven by wrk on the same machine. Each cell is run several times and the median is reported,
because keep-alive connections can pile onto one worker and halve a single run.

    python scripts/bench/run.py            # full run, a few minutes
    python scripts/bench/run.py --quick    # one short run per cell, about two minutes
    python scripts/bench/run.py --soak 100000   # also RSS before/after 100 000 requests

Placement: the servers and wrk (two threads) share the machine's cores with no pinning, as they
would on one host; every server is measured under the same placement, so compare servers by the
ratios of one run. Our defaults (``model-service serve --workers N``) and the hand-written route,
whose ratios the targets are, run at the same time and their runs alternate, so a slow minute
of a shared machine falls on both. Tail latency is measured for our defaults,
the hand-written route and MLServer at concurrency 1, 4, 16 and 64, with the garbage-collection
pauses over 10 ms that our workers saw meanwhile (``model_service_gc_pause_seconds``); two SVG
plots of p99 and req/s against concurrency are written next to the JSON results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import inprocess
import mlserver
from load import LoadResult, Server, free_port, post_json, rss_mib, run_wrk, serve
from plots import write_plots
from report import machine_line, plot_series, print_table

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PREDICT_PATH = "/api/models/iris_model/predict"
ONE_ROW = [inprocess.EXAMPLE]
HUNDRED_ROWS = [inprocess.EXAMPLE] * 100
BATCH_CONCURRENCY = 16
TAIL_CONCURRENCIES = (1, 4, 16, 64)
DEFAULT_CLASS = "gevent"
"""The worker class ``model-service serve`` uses when none is given."""
GC_PAUSE_LIMIT_S = 0.01
HANDWRITTEN_KEY = "handwritten_side_by_side"
"""Where :func:`bench_ours` leaves the hand-written route's cells for the baselines' results."""


@dataclass
class Options:
    workers: int
    runs: int
    seconds: float
    soak: int
    output: Path
    classes: list[str]
    skip_mlserver: bool


@dataclass
class Cell:
    """The median of several wrk runs of one server, one body and one concurrency."""

    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    cpu_ms_per_request: float
    mean_batch_size: float | None = None
    gc_pauses_over_10ms: int | None = None
    capture_dropped_share: float | None = None
    runs: list[float] = field(default_factory=list)


@dataclass
class Target:
    """How to reach one server and what to post to it."""

    server: Server
    url: str
    one_row: Path
    hundred_rows: Path
    metrics_url: str | None = None


@dataclass(frozen=True)
class Run:
    """One wrk run and what the server reported about it."""

    load: LoadResult
    cpu_seconds: float
    mean_batch_size: float | None
    gc_pauses_over_10ms: int | None
    capture_dropped_share: float | None = None


def median_cell(runs: Sequence[Run]) -> Cell:
    """The median of several runs (the maximum latency: the largest; GC pauses: all of them)."""
    batch_sizes = [run.mean_batch_size for run in runs if run.mean_batch_size is not None]
    pauses = [run.gc_pauses_over_10ms for run in runs if run.gc_pauses_over_10ms is not None]
    drops = [run.capture_dropped_share for run in runs if run.capture_dropped_share is not None]
    return Cell(
        requests_per_s=statistics.median(run.load.requests_per_s for run in runs),
        p50_ms=statistics.median(run.load.p50_ms for run in runs),
        p90_ms=statistics.median(run.load.p90_ms for run in runs),
        p99_ms=statistics.median(run.load.p99_ms for run in runs),
        max_ms=max(run.load.max_ms for run in runs),
        errors=sum(run.load.errors for run in runs),
        cpu_ms_per_request=statistics.median(
            run.cpu_seconds * 1000 / run.load.requests for run in runs
        ),
        mean_batch_size=statistics.median(batch_sizes) if batch_sizes else None,
        gc_pauses_over_10ms=sum(pauses) if pauses else None,
        capture_dropped_share=statistics.median(drops) if drops else None,
        runs=[round(run.load.requests_per_s) for run in runs],
    )


def load_run(target: Target, body: Path, connections: int, seconds: float) -> Run:
    """One wrk run, with the CPU time the server spent on it (robust on a busy machine) and,
    for our service, the mean size of the batches predicted, the long GC pauses meanwhile and
    the share of predicted rows whose capture the monitoring queue dropped."""
    before = server_counts(target.metrics_url)
    cpu_before = target.server.cpu_seconds()
    result = run_wrk(target.url, body, connections, seconds)
    cpu = target.server.cpu_seconds() - cpu_before
    after = server_counts(target.metrics_url)
    if before is None or after is None:
        return Run(result, cpu, None, None)
    items = after["items"] - before["items"]
    batches = after["batches"] - before["batches"]
    mean_size = items / batches if batches else None
    pauses = round(after["long_pauses"] - before["long_pauses"])
    dropped = (after["dropped"] - before["dropped"]) / items if items else None
    return Run(result, cpu, mean_size, pauses, dropped)


def server_counts(metrics_url: str | None) -> dict[str, float] | None:
    """Items and batches so far (``model_service_batch_size``), garbage-collection pauses
    longer than 10 ms (``model_service_gc_pause_seconds``) and captured items dropped
    (``model_service_capture_dropped_total``), every worker added up."""
    if metrics_url is None:
        return None
    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        text = response.read().decode()
    counts = {"items": 0.0, "batches": 0.0, "long_pauses": 0.0, "dropped": 0.0}
    for line in text.splitlines():
        name, _, rest = line.partition("{")
        value = float(line.rsplit(" ", 1)[1]) if rest else 0.0
        if 'model="iris_model"' in rest and name == "model_service_batch_size_sum":
            counts["items"] += value
        elif 'model="iris_model"' in rest and name == "model_service_batch_size_count":
            counts["batches"] += value
        elif line.startswith("model_service_capture_dropped_total "):
            counts["dropped"] += float(line.rsplit(" ", 1)[1])
        elif name == "model_service_gc_pause_seconds_count":
            counts["long_pauses"] += value
        elif name == "model_service_gc_pause_seconds_bucket" and f'le="{GC_PAUSE_LIMIT_S}"' in rest:
            counts["long_pauses"] -= value
    return counts


def measure(
    target: Target, options: Options, concurrencies: Sequence[int], batch: bool
) -> dict[str, Cell]:
    """Single-row cells at ``concurrencies`` and, when ``batch``, the 100-row cell."""
    return measure_side_by_side({"": target}, options, concurrencies, batch)[""]


def measure_side_by_side(
    targets: Mapping[str, Target], options: Options, concurrencies: Sequence[int], batch: bool
) -> dict[str, dict[str, Cell]]:
    """The cells of :func:`measure` for several servers running at once, their runs taken in
    turn (run 1 of each server, then run 2 of each...): a noisy minute on a shared machine
    then falls on every server alike, so their ratios hold even when the machine's speed
    drifts between the first cell and the last."""
    for target in targets.values():
        run_wrk(target.url, target.one_row, 16, 1)  # warm up both workers
    cells: dict[str, dict[str, Cell]] = {name: {} for name in targets}
    loads = [(f"c{connections}", "one_row", connections) for connections in concurrencies]
    if batch:
        loads.append(("batch100", "hundred_rows", BATCH_CONCURRENCY))
    for cell, body, connections in loads:
        runs: dict[str, list[Run]] = {name: [] for name in targets}
        for _ in range(options.runs):
            for name, target in targets.items():
                runs[name].append(
                    load_run(target, getattr(target, body), connections, options.seconds)
                )
        for name in targets:
            cells[name][cell] = median_cell(runs[name])
    return cells


def write_body(folder: Path, name: str, body: bytes) -> Path:
    path = folder / name
    path.write_bytes(body)
    return path


@contextmanager
def our_service(
    options: Options, worker_class: str, batching: bool, work: Path, capture: bool = True
) -> Iterator[Server]:
    port = free_port()
    argv = [str(BIN / "model-service"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", str(options.workers)]
    label = f"{worker_class}-{'on' if batching else 'off'}{'' if capture else '-no-capture'}"
    # a fresh capture store per server, so no run inserts into (or counts) an earlier run's rows
    env = {
        "APP_SETTINGS": "config.ProductionConfig",
        "MODEL_SERVICE_MONITORING_STATE_DIR": str(work / f"monitoring-{label}"),
    }
    if worker_class != DEFAULT_CLASS:
        argv += ["--worker-class", worker_class]
    if worker_class == "sync":
        argv += ["--threads", "1"]  # gunicorn silently runs gthread for sync with threads > 1
    if not batching:
        env["MODEL_SERVICE_BATCHING_ENABLED"] = "false"
    if not capture:
        env["MODEL_SERVICE_MONITORING_ENABLED"] = "false"
    log = work / f"ours-{label}.log"
    with serve(argv, "/api/health/ready", port, log, env=env, cwd=REPO) as server:
        yield server


@contextmanager
def baseline(options: Options, app: str, work: Path) -> Iterator[Server]:
    port = free_port()
    argv = [str(BIN / "gunicorn"), "--workers", str(options.workers), "--worker-class", "sync"]
    argv += ["--bind", f"127.0.0.1:{port}", "--preload", "--chdir", str(Path(__file__).parent)]
    argv += ["--log-level", "warning", f"baselines:{app}"]
    with serve(argv, "/", port, work / f"{app}.log", up_below=500) as server:
        yield server


def our_target(server: Server, bodies: dict[str, Path]) -> Target:
    return Target(
        server, server.url + PREDICT_PATH, bodies["one"], bodies["hundred"], server.url + "/metrics"
    )


def bench_ours(options: Options, work: Path, bodies: dict[str, Path]) -> dict[str, object]:
    """Every worker class with batching on, then the best one with batching off, and memory."""
    results: dict[str, object] = {}
    for worker_class in options.classes:
        with our_service(options, worker_class, True, work) as server:
            post_json(server.url + PREDICT_PATH, bodies["one"].read_bytes())
            results[f"{worker_class}_idle_rss_mib"] = worker_rss(server)
            if worker_class == DEFAULT_CLASS:  # the targets' pair: run beside the hand-written
                with baseline(options, "handwritten_app", work) as hand:
                    cells = measure_side_by_side(
                        {"ours": our_target(server, bodies), "hand": baseline_target(hand, bodies)},
                        options,
                        TAIL_CONCURRENCIES,
                        batch=True,
                    )
                results[worker_class], results[HANDWRITTEN_KEY] = cells["ours"], cells["hand"]
            else:
                results[worker_class] = measure(
                    our_target(server, bodies), options, (1, 16, 64), batch=True
                )
            results[f"{worker_class}_rss_mib"] = worker_rss(server)
            results[f"{worker_class}_writer_rss_mib"] = [
                round(rss_mib(pid), 1) for pid in server.capture_writer_pids()
            ]
    best = max(options.classes, key=lambda name: results[name]["c64"].requests_per_s)  # type: ignore[index]
    results["best_class"] = best
    with our_service(options, best, False, work) as server:
        results["batching_off"] = measure(our_target(server, bodies), options, (1, 64), False)
    with our_service(options, best, True, work, capture=False) as server:
        results["capture_off"] = measure(our_target(server, bodies), options, (64,), False)
    if options.soak:
        with our_service(options, best, True, work) as server:
            results["soak"] = soak(server, our_target(server, bodies), options.soak)
    return results


def worker_rss(server: Server) -> list[float]:
    return [round(rss_mib(pid), 1) for pid in server.worker_pids()]


def soak(server: Server, target: Target, requests: int) -> dict[str, object]:
    """RSS of each worker before and after at least ``requests`` single-row requests."""
    run_wrk(target.url, target.one_row, 16, 1)
    before, done, started = worker_rss(server), 0, time.monotonic()
    while done < requests:
        done += run_wrk(target.url, target.one_row, 16, 5).requests
    return {
        "requests": done,
        "seconds": round(time.monotonic() - started, 1),
        "rss_before_mib": before,
        "rss_after_mib": worker_rss(server),
    }


def baseline_target(server: Server, bodies: dict[str, Path]) -> Target:
    return Target(server, server.url + "/predict", bodies["one"], bodies["hundred"])


def bench_baselines(
    options: Options, work: Path, bodies: dict[str, Path], handwritten: object
) -> dict[str, object]:
    """The bare Flask app's cells; ``handwritten``: the hand-written route's, measured beside
    our defaults (:func:`bench_ours`), or ``None`` to measure it now (``--classes`` without
    the default)."""
    with baseline(options, "bare_app", work) as server:
        bare = measure(baseline_target(server, bodies), options, (1, 64), batch=False)
    if handwritten is None:
        with baseline(options, "handwritten_app", work) as server:
            target = baseline_target(server, bodies)
            handwritten = measure(target, options, TAIL_CONCURRENCIES, batch=True)
    return {"bare": bare, "handwritten": handwritten}


def bench_mlserver(options: Options, work: Path) -> dict[str, object]:
    from iris_model.model import ARTIFACT

    venv = options.output / "venv-mlserver"
    executable = mlserver.ensure_venv(venv.resolve())
    one = write_body(work, "mlserver-one.json", mlserver.request_body(ONE_ROW))
    hundred = write_body(work, "mlserver-hundred.json", mlserver.request_body(HUNDRED_ROWS))
    results: dict[str, object] = {"version": mlserver.version(venv)}
    for workers in (0, options.workers):
        port = free_port()
        folder = mlserver.write_repository(
            work / f"mlserver-{workers}", ARTIFACT, port, free_port(), free_port(), workers
        )
        argv = [str(executable), "start", str(folder)]
        log = work / f"mlserver-{workers}.log"
        with serve(argv, "/v2/models/iris/ready", port, log, cwd=folder) as server:
            url = server.url + "/v2/models/iris/infer"
            post_json(url, one.read_bytes())
            target = Target(server, url, one, hundred)
            concurrencies = TAIL_CONCURRENCIES if workers == 0 else (1, 16, 64)
            results[f"parallel_workers_{workers}"] = measure(target, options, concurrencies, True)
    return results


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    packages = ["flask", "gunicorn", "gevent", "scikit-learn", "numpy", "orjson"]
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].strip(),
        "load_average_at_start": os.getloadavg(),
        **{name: version(name) for name in packages},
    }


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one 2 s run per cell")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server")
    parser.add_argument("--runs", type=int, default=3, help="runs per cell (median reported)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one wrk run")
    parser.add_argument("--soak", type=int, default=0, help="requests of the memory soak")
    parser.add_argument("--classes", default="gevent,gthread,sync", help="worker classes to try")
    parser.add_argument("--skip-mlserver", action="store_true", help="do not install or run it")
    parser.add_argument("--output", type=Path, default=REPO / "bench-results")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 1, 2.0
    return Options(
        workers=args.workers,
        runs=args.runs,
        seconds=args.seconds,
        soak=args.soak,
        output=args.output,
        classes=args.classes.split(","),
        skip_mlserver=args.skip_mlserver,
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    options = parse_options(argv)
    options.output.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: dict[str, object] = {"machine": machine(), "options": asdict(options)}
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        work = Path(folder)
        bodies = {
            "one": write_body(work, "one.json", json.dumps(ONE_ROW[0]).encode()),
            "hundred": write_body(work, "hundred.json", json.dumps(HUNDRED_ROWS).encode()),
        }
        steps: list[tuple[str, Callable[[], object]]] = [
            ("in_process", lambda: inprocess.measure(1.0 if options.runs > 1 else 0.5)),
            ("ours", lambda: bench_ours(options, work, bodies)),
            (
                "baselines",
                lambda: bench_baselines(
                    options,
                    work,
                    bodies,
                    results["ours"].pop(HANDWRITTEN_KEY, None),  # type: ignore[attr-defined]
                ),
            ),
        ]
        if not options.skip_mlserver:
            steps.append(("mlserver", lambda: bench_mlserver(options, work)))
        for name, step in steps:
            print(f"[{time.monotonic() - started:5.0f} s] measuring {name}...", flush=True)
            results[name] = step()
    results["seconds"] = round(time.monotonic() - started)
    saved = write_results(results, options.output)
    print_table(saved)
    for path in write_plots(plot_series(saved), options.output, machine_line(saved)):
        print(f"Plot written to {path}")
    return saved


def write_results(results: dict[str, object], folder: Path) -> dict[str, Any]:
    """Write ``results`` as JSON (a dated file and ``latest.json``); return them decoded."""

    def encode(value: object) -> object:
        return asdict(value) if isinstance(value, Cell) else str(value)  # type: ignore[arg-type]

    text = json.dumps(results, indent=2, default=encode)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (folder / f"bench-{stamp}.json").write_text(text)
    (folder / "latest.json").write_text(text)
    print(f"Results written to {folder / f'bench-{stamp}.json'}")
    decoded: dict[str, Any] = json.loads(text)
    return decoded


if __name__ == "__main__":
    main()
