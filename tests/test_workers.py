"""The gevent worker's response writer and the workers' shared connection counts (no server)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from gunicorn.config import Config

from model_service import connection_shares
from model_service.workers import HeadWithBodySocket, freeze_settings


class RecordingSocket:
    """Stands in for a connected socket: records every call that puts bytes on the wire."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def sendall(self, data: bytes) -> None:
        self.calls.append(("sendall", bytes(data)))

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        self.calls.append(("sendfile", count))
        return count or 0

    def shutdown(self, how: int) -> None:
        self.calls.append(("shutdown", how))


HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"


def test_head_and_body_leave_in_one_write() -> None:
    sock = RecordingSocket()
    writer = HeadWithBodySocket(sock)  # type: ignore[arg-type]
    writer.sendall(HEAD)
    assert sock.calls == []
    writer.sendall(b'{"a":1}')
    writer.flush()
    assert sock.calls == [("sendall", HEAD + b'{"a":1}')]


def test_later_body_chunks_are_sent_as_they_come() -> None:
    sock = RecordingSocket()
    writer = HeadWithBodySocket(sock)  # type: ignore[arg-type]
    for data in (HEAD, b"one", b"two"):
        writer.sendall(data)
    assert sock.calls == [("sendall", HEAD + b"one"), ("sendall", b"two")]


def test_a_head_without_body_is_sent_by_flush() -> None:
    sock = RecordingSocket()
    writer = HeadWithBodySocket(sock)  # type: ignore[arg-type]
    writer.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
    writer.flush()
    writer.flush()
    assert sock.calls == [("sendall", b"HTTP/1.1 204 No Content\r\n\r\n")]


@pytest.mark.parametrize("use", ["sendfile", "shutdown"])
def test_any_other_use_of_the_socket_sends_the_head_first(use: str) -> None:
    sock = RecordingSocket()
    writer = HeadWithBodySocket(sock)  # type: ignore[arg-type]
    writer.sendall(HEAD)
    if use == "sendfile":
        writer.sendfile(None, 0, 7)
    else:
        writer.shutdown(2)
    assert sock.calls[0] == ("sendall", HEAD)
    assert sock.calls[1][0] == use


@pytest.fixture()
def other_worker() -> Iterator[int]:
    """A live process standing in for a second worker."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def test_frozen_settings_read_as_before_without_gunicorns_look_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = Config()
    cfg.set("workers", 3)
    cfg.set("forwarded_allow_ips", "10.0.0.1,127.0.0.1")
    cfg.set("limit_request_fields", 50)
    before = {name: getattr(cfg, name) for name in cfg.settings}
    freeze_settings(cfg)

    def refuse(self: Config, name: str) -> None:
        raise AssertionError(f"{name} was looked up through Config.__getattr__")

    monkeypatch.setattr(Config, "__getattr__", refuse)
    assert {name: getattr(cfg, name) for name in cfg.settings} == before
    assert cfg.forwarded_allow_ips == ["10.0.0.1", "127.0.0.1"]
    assert not cfg.is_ssl


def test_a_worker_over_its_share_stops_accepting_and_the_other_takes_over(
    other_worker: int,
) -> None:
    mine = connection_shares.claim_slot(os.getpid())
    theirs = connection_shares.claim_slot(other_worker)
    try:
        assert mine != theirs
        assert connection_shares.may_accept(mine) and connection_shares.may_accept(theirs)
        connection_shares.add_connections(mine, 1)
        assert not connection_shares.may_accept(mine)  # 2 of 2 would be more than half
        assert connection_shares.may_accept(theirs)
        connection_shares.add_connections(theirs, 1)
        assert connection_shares.may_accept(mine) and connection_shares.may_accept(theirs)
        connection_shares.add_connections(mine, 1)
        assert not connection_shares.may_accept(mine)
        connection_shares.add_connections(mine, -2)
        assert connection_shares.may_accept(mine)
    finally:
        connection_shares.forget_worker(os.getpid())
        connection_shares.forget_worker(other_worker)


def test_a_worker_two_connections_above_its_least_busy_sibling_is_crowded(
    other_worker: int,
) -> None:
    mine = connection_shares.claim_slot(os.getpid())
    try:
        connection_shares.add_connections(mine, 5)
        assert not connection_shares.crowded(mine)  # alone: there is nowhere to send one
        theirs = connection_shares.claim_slot(other_worker)
        connection_shares.add_connections(theirs, 4)
        assert not connection_shares.crowded(mine) and not connection_shares.crowded(theirs)
        connection_shares.add_connections(theirs, -1)  # 5 against 3: one belongs there
        assert connection_shares.crowded(mine) and not connection_shares.crowded(theirs)
        connection_shares.add_connections(mine, -1)  # the client reconnected to the sibling
        connection_shares.add_connections(theirs, 1)
        assert not connection_shares.crowded(mine) and not connection_shares.crowded(theirs)
    finally:
        connection_shares.forget_worker(os.getpid())
        connection_shares.forget_worker(other_worker)


def test_the_slot_of_a_worker_that_exited_is_free_again(other_worker: int) -> None:
    slot = connection_shares.claim_slot(other_worker)
    connection_shares.add_connections(slot, 5)
    connection_shares.forget_worker(other_worker)
    mine = connection_shares.claim_slot(os.getpid())
    try:
        assert mine == slot
        assert connection_shares.may_accept(mine)  # alone, with none of the old count
    finally:
        connection_shares.forget_worker(os.getpid())


def test_a_burst_waiting_in_the_listen_queue_counts_towards_the_shares(other_worker: int) -> None:
    mine = connection_shares.claim_slot(os.getpid())
    theirs = connection_shares.claim_slot(other_worker)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        clients = [socket.create_connection(listener.getsockname()) for _ in range(4)]
        try:
            assert connection_shares.waiting(listener) == 4
            # two of the four are this worker's share: it takes both in one turn
            for _ in range(2):
                assert connection_shares.may_accept(mine, listener)
                listener.accept()[0].close()
                connection_shares.add_connections(mine, 1)
            assert not connection_shares.may_accept(mine, listener)
            assert connection_shares.may_accept(theirs, listener)
        finally:
            for client in clients:
                client.close()
            connection_shares.forget_worker(os.getpid())
            connection_shares.forget_worker(other_worker)


def test_a_socket_without_tcp_info_has_no_queue_to_count() -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        assert connection_shares.waiting(listener) == 0
