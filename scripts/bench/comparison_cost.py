"""What the versions comparison costs, in-process on a SQLite store of its own: the writer's CPU
per inserted row (batches of 500, after a first 100,000 rows), and the time to compare a primary
and a shadow version over the rows stored.

    python scripts/bench/comparison_cost.py [--primary-rows 60000] [--shadow-every 3]

Prints one line per figure. No server, no load generator: the figures of ``docs/monitoring.md``
("Versions compared", and what the decision column adds to an insert) come from this script.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from model_service.monitoring.comparison import compare_versions
from model_service.monitoring.reference import ModelReference
from model_service.monitoring.store import CaptureRow, Store, capture_row
from model_service.observability import new_request_id

ITEM = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
RESULT = {
    "species": "setosa",
    "probabilities": {"setosa": 0.97, "versicolor": 0.02, "virginica": 0.01},
}
BATCH = 500


def rows(count: int, version: str = "1.0.0", decision: str = "primary") -> list[CaptureRow]:
    now = time.time()
    return [
        capture_row(
            "iris_model",
            version,
            now,
            new_request_id(),
            0,
            "rest_json",
            ITEM,
            RESULT,
            1.0,
            decision,
        )
        for _ in range(count)
    ]


def insert_cost(store: Store, batches: int = 100) -> float:
    """Microseconds of CPU per inserted row (the batches are built before timing)."""
    prepared = [rows(BATCH) for _ in range(batches)]
    started = time.process_time()
    for batch in prepared:
        store.insert(batch)
    return (time.process_time() - started) / (batches * BATCH) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--primary-rows", type=int, default=60_000)
    parser.add_argument("--shadow-every", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=50_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        store = Store(f"sqlite:///{Path(directory) / 'monitoring.sqlite3'}")
        store.migrate()
        for _ in range(200):
            store.insert(rows(BATCH))
        print(f"insert: {insert_cost(store):.2f} us CPU a row at 100,000-150,000 rows")
        store.dispose()

    with tempfile.TemporaryDirectory() as directory:
        store = Store(f"sqlite:///{Path(directory) / 'monitoring.sqlite3'}")
        store.migrate()
        primary = rows(options.primary_rows)
        shadows = [
            (*row[:1], "1.1.0", *row[2:9], "shadow") for row in primary[:: options.shadow_every]
        ]
        for start in range(0, len(primary), BATCH):
            store.insert(primary[start : start + BATCH])
        for start in range(0, len(shadows), BATCH):
            store.insert(shadows[start : start + BATCH])
        reference = ModelReference("species", "classification")
        started = time.perf_counter()
        section = compare_versions(
            store, "iris_model", lambda _: reference, None, options.max_rows, "1.0.0"
        )
        seconds = time.perf_counter() - started
        shadow = section["compared"][1]
        print(
            f"compare: {seconds:.2f} s for {len(primary):,} primary and {len(shadows):,} shadow "
            f"rows ({shadow['pairs']:,} pairs, capped {section['capped']})"
        )
        store.dispose()


if __name__ == "__main__":
    main()
