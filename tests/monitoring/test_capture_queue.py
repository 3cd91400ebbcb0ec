"""The capture queue: bounded, drops counted, written in batches, emptied by close()."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from model_service.monitoring.capture import WRITER_NICENESS, CaptureWriter
from model_service.monitoring.native import Wakeup
from model_service.monitoring.store import CaptureRow, Store, capture_row


def row(number: int) -> CaptureRow:
    return capture_row(
        "toy",
        "1.0.0",
        1_000_000.0 + number,
        f"r{number}",
        0,
        "rest_json",
        {"x": number},
        {"y": number},
        1.0,
    )


def dropped() -> float:
    return REGISTRY.get_sample_value("model_service_capture_dropped_total") or 0.0


def test_a_full_queue_drops_and_counts_then_close_writes_the_rest(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    store.migrate()
    writer = CaptureWriter(store, queue_size=10, batch_size=4, flush_interval_s=3600)
    before = dropped()

    writer.submit([row(n) for n in range(8)])
    writer.submit([row(n) for n in range(8, 15)])  # room for 2 of these 7

    assert dropped() - before == 5
    assert writer.close(timeout_s=10) == 0
    stored = store.raw_rows("toy", None, 100)
    assert [r["request_id"] for r in stored] == [f"r{n}" for n in range(10)]
    store.dispose()


def test_an_unreachable_database_keeps_the_rows_for_the_next_try(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-directory" / "m.sqlite3"
    writer = CaptureWriter(Store(f"sqlite:///{missing}"), 100, 10, 3600)
    writer._captures.extend(row(n) for n in range(3))  # queued without starting the thread

    assert writer.write_pending() is False
    assert writer.pending() == 3

    missing.parent.mkdir()
    assert writer.write_pending() is True
    assert writer.pending() == 0
    assert len(writer.store.raw_rows("toy", None, 100)) == 3
    writer.store.dispose()


@pytest.mark.parametrize("count", [1, 63, 64, 65, 500, 777])
def test_every_row_of_a_batch_is_stored_whatever_its_length(tmp_path: Path, count: int) -> None:
    """Batches go to SQLite as multi-row INSERTs in chunks of powers of two."""
    store = Store(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    store.migrate()
    store.insert([row(n) for n in range(count)])
    stored = store.raw_rows("toy", None, 1000)
    assert sorted((r["request_id"], r["inputs"], r["prediction"]) for r in stored) == sorted(
        (f"r{n}", {"x": n}, {"y": n}) for n in range(count)
    )
    store.dispose()


def test_a_full_batch_wakes_the_writer_before_its_interval(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    store.migrate()
    writer = CaptureWriter(store, queue_size=100, batch_size=5, flush_interval_s=3600)
    writer.submit([row(n) for n in range(2)])  # starts the writer; not a batch yet
    time.sleep(0.3)  # the writer now waits for its hour-long interval
    writer.submit([row(n) for n in range(2, 5)])
    deadline = time.monotonic() + 10
    while writer.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer.pending() == 0
    assert len(store.raw_rows("toy", None, 100)) == 5
    assert writer.close(timeout_s=10) == 0
    store.dispose()


@pytest.mark.parametrize("wanted", [WRITER_NICENESS, 15])
def test_the_writer_thread_runs_at_a_lower_cpu_priority(tmp_path: Path, wanted: int) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    store.migrate()
    writer = CaptureWriter(
        store, queue_size=100, batch_size=100, flush_interval_s=3600, niceness=wanted
    )
    writer.submit([row(0)])
    try:
        niceness: dict[str, int] = {}
        deadline = time.monotonic() + 10
        while wanted not in niceness.values() and time.monotonic() < deadline:
            niceness = {
                task.name: os.getpriority(os.PRIO_PROCESS, int(task.name))
                for task in Path("/proc/self/task").iterdir()
            }
            time.sleep(0.01)
        assert wanted in niceness.values()
        assert niceness[str(threading.get_native_id())] == os.getpriority(os.PRIO_PROCESS, 0)
    finally:
        writer.close(timeout_s=10)
        store.dispose()


def test_a_wakeup_set_twice_wakes_once_and_waiting_times_out() -> None:
    wakeup = Wakeup()
    assert wakeup.wait(0.01) is False
    wakeup.set()
    wakeup.set()
    assert wakeup.wait(0.01) is True
    assert wakeup.wait(0.01) is False
