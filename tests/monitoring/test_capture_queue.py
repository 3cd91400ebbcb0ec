"""The capture queue: bounded, drops counted, written in batches, emptied by close()."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from model_service.monitoring.capture import CaptureWriter
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
