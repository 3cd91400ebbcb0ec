"""A worker's side of the capture writer process: its rows cross the socket intact, a full socket
keeps them in the worker's queue for later, a batch too large for one datagram is split."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from model_service.monitoring import sink
from model_service.monitoring.capture import CaptureWriter
from model_service.monitoring.sink import CaptureSender, decode
from model_service.monitoring.store import CaptureRow, Row, Store, capture_row
from tests.monitoring.test_capture_queue import dropped


def row(number: int, text: str = "") -> CaptureRow:
    return capture_row(
        "toy",
        "1.0.0",
        1_790_000_000.123456 + number / 7,
        f"r{number}",
        number % 5,
        "rest_json",
        {"x": number / 3, "name": f"é-{number}{text}"},
        {"y": [number, None, True]},
        0.1 + number / 9,
    )


def error(number: int) -> Row:
    return {"model": "toy", "version": "1.0.0", "created": 1.5 + number, "request_id": f"e{number}",
            "status": 422, "entry_point": "rest_json", "decision": "primary"}  # fmt: skip


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """The socket pair as the master makes it, with small buffers so that tests can fill it."""
    receiver, sending = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    sending.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sending.setblocking(False)
    receiver.setblocking(False)
    yield receiver, sending
    receiver.close()
    sending.close()


def received(receiver: socket.socket) -> tuple[list[CaptureRow], list[Row]]:
    captures: list[CaptureRow] = []
    errors: list[Row] = []
    while True:
        try:
            datagram = receiver.recv(sink.RECEIVE_BYTES)
        except BlockingIOError:
            return captures, errors
        more_captures, more_errors = decode(datagram)
        captures += more_captures
        errors += more_errors


def test_rows_cross_the_socket_exactly_as_they_were_queued(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    receiver, sending = pair
    captures, errors = [row(n) for n in range(20)], [error(n) for n in range(3)]
    assert CaptureSender(sending).send(captures, errors) == (0, [], [])
    assert received(receiver) == (captures, errors)  # tuples again, floats to the last bit


def test_a_batch_larger_than_a_datagram_is_split_and_arrives_whole(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    receiver, sending = pair
    captures = [row(n, text="x" * 2000) for n in range(40)]  # ~80 KB: more than one datagram
    assert CaptureSender(sending).send(captures[:20]) == (0, [], [])
    assert received(receiver) == (captures[:20], [])
    assert CaptureSender(sending).send(captures[20:]) == (0, [], [])
    assert received(receiver) == (captures[20:], [])


def test_a_row_larger_than_any_datagram_is_dropped_and_the_others_are_sent(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    receiver, sending = pair
    huge = row(1, text="x" * 200_000)
    assert CaptureSender(sending).send([row(0), huge, row(2)]) == (1, [], [])
    assert received(receiver) == ([row(0), row(2)], [])


def test_a_full_socket_hands_back_the_unsent_rows_in_order(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    receiver, sending = pair
    sender = CaptureSender(sending)
    sent: list[CaptureRow] = []
    unsent: list[CaptureRow] = []
    for start in range(0, 10_000, 10):  # nobody reads: the socket fills
        batch = [row(n, text="x" * 500) for n in range(start, start + 10)]
        dropped_now, unsent, unsent_errors = sender.send(batch, [error(start)])
        assert dropped_now == 0
        if unsent:
            assert unsent == batch and unsent_errors == [error(start)]
            break
        sent += batch
    assert unsent, "the socket never filled"
    assert received(receiver)[0] == sent  # drained: what was refused can be sent now
    assert sender.send(unsent) == (0, [], [])
    assert received(receiver)[0] == unsent


def test_a_worker_writer_sends_its_batches_and_keeps_what_a_full_socket_refused(
    pair: tuple[socket.socket, socket.socket], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the launcher a worker's writer thread sends instead of inserting; it never writes
    the database itself, and rows the socket refused stay queued (nothing dropped)."""
    receiver, sending = pair
    monkeypatch.setattr(sink, "_sender", CaptureSender(sending))
    store = Store(f"sqlite:///{tmp_path / 'never-written.sqlite3'}")
    inserted: list[int] = []
    monkeypatch.setattr(store, "insert", lambda captures, errors: inserted.append(len(captures)))
    writer = CaptureWriter(store, queue_size=100_000, batch_size=50, flush_interval_s=3600)
    before = dropped()
    rows = [row(n, text="x" * 500) for n in range(2000)]  # more than the socket holds
    writer._captures.extend(rows)
    # the socket filled: the rows stay queued for the next interval (True: the database is not
    # failing, so no growing retry pause)
    assert writer.write_pending() is True
    first = received(receiver)[0]
    assert 0 < len(first) < len(rows) and writer.pending() == len(rows) - len(first)
    while writer.pending():
        writer.write_pending()
        first += received(receiver)[0]
    assert first == rows
    assert dropped() == before
    assert inserted == []
