"""What monitoring capture costs: c=64 throughput with capture on and off, and bytes per row.

Two services run side by side on 127.0.0.1 (2 gevent workers each, the iris model, production
settings), one with ``MONITORING_ENABLED=false``. wrk drives them in turn, off/on alternately,
``--runs`` times each, so both see the same minute of a shared machine; the medians are
reported, with the server CPU time per request (steadier than throughput on a busy machine).
Then the capturing one is loaded at c=16 while another process holds its SQLite write lock (a
stalled database), and its SQLite file is measured against its row count.

    python scripts/capture_cost.py [--runs 5] [--seconds 5] [--connections 64]

Uses the helpers of ``scripts/bench`` (wrk, the server wrapper) without changing them.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "bench"))

from load import LoadResult, free_port, post_json, run_wrk, serve

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PREDICT_PATH = "/api/models/iris_model/predict"
IRIS_ITEM = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def service(capture: bool, state: Path, work: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    argv = [str(BIN / "model-service"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", "2", "--worker-class", "gevent"]
    env = {
        "APP_SETTINGS": "config.ProductionConfig",
        "MODEL_SERVICE_MODELS": json.dumps(
            [{"module_name": "iris_model.model", "class_name": "IrisModel"}]
        ),
        "MODEL_SERVICE_LOAD_ENTRY_POINTS": "false",
        "MODEL_SERVICE_MONITORING_ENABLED": "true" if capture else "false",
        "MODEL_SERVICE_MONITORING_STATE_DIR": str(state),
    }
    log = work / f"capture-{'on' if capture else 'off'}.log"
    return serve(argv, "/api/health/ready", port, log, env=env, cwd=REPO)


def summary(results: list[LoadResult], cpu: list[float]) -> dict[str, object]:
    return {
        "cpu_ms_per_request": round(
            statistics.median(c * 1000 / r.requests for r, c in zip(results, cpu, strict=True)), 3
        ),
        "requests_per_s": round(statistics.median(r.requests_per_s for r in results)),
        "p50_ms": round(statistics.median(r.p50_ms for r in results), 2),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 2),
        "errors": sum(r.errors for r in results),
        "runs": [round(r.requests_per_s) for r in results],
    }


def bytes_per_row(database: Path) -> tuple[int, int, float]:
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = connection.execute("SELECT count(*) FROM captures").fetchone()[0]
    size = database.stat().st_size
    return rows, size, size / rows if rows else 0.0


def stalled_database(url: str, body: Path, state: Path, seconds: float) -> dict[str, object]:
    """c=16 latency of the capturing service while another process holds the SQLite file's
    write lock (every insert waits its 5 s busy timeout, then retries), against the same load
    with the database free: a writer that blocked the event loop would show in p99."""
    database = state / "monitoring.sqlite3"
    free = run_wrk(url, body, 16, seconds)
    with sqlite3.connect(database, timeout=1, isolation_level=None) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        locked = run_wrk(url, body, 16, seconds)
        holder.execute("ROLLBACK")
    return {
        "free": {"requests_per_s": round(free.requests_per_s), "p99_ms": free.p99_ms},
        "locked": {"requests_per_s": round(locked.requests_per_s), "p99_ms": locked.p99_ms},
        "errors": free.errors + locked.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="capture-cost-"))
    body = work / "one.json"
    body.write_text(json.dumps(IRIS_ITEM))
    off_state, on_state = work / "off", work / "on"
    results: dict[str, list[LoadResult]] = {"off": [], "on": []}
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    with service(False, off_state, work) as off, service(True, on_state, work) as on:
        servers = {"off": off, "on": on}
        for server in servers.values():
            post_json(server.url + PREDICT_PATH, body.read_bytes())
            run_wrk(server.url + PREDICT_PATH, body, 16, 1)  # warm up both workers
        for _ in range(options.runs):
            for name, server in servers.items():
                url = server.url + PREDICT_PATH
                before = server.cpu_seconds()
                results[name].append(run_wrk(url, body, options.connections, options.seconds))
                cpu[name].append(server.cpu_seconds() - before)
        stalled = stalled_database(on.url + PREDICT_PATH, body, on_state, options.seconds)
        time.sleep(2)  # let the writer flush its last batch
    report: dict[str, object] = {name: summary(runs, cpu[name]) for name, runs in results.items()}
    report["database_locked"] = stalled
    off_rps = statistics.median(r.requests_per_s for r in results["off"])
    on_rps = statistics.median(r.requests_per_s for r in results["on"])
    report["on_vs_off"] = round(on_rps / off_rps, 3)
    rows, size, per_row = bytes_per_row(on_state / "monitoring.sqlite3")
    report["sqlite"] = {"rows": rows, "bytes": size, "bytes_per_row": round(per_row, 1)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
