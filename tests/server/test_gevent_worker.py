"""The launcher's gevent worker under real gunicorn: garbage-collection settings in the workers,
responses written in one piece, connections shared equally, and a turn for every connection."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.server.conftest import IRIS, IRIS_ITEM, service_env, wait_for
from tests.support import REPO_ROOT, RunningService, run_service, worker_pids

pytestmark = pytest.mark.server

STATIC_FILE = "/static/css/app.css"


def gc_metrics(service: RunningService) -> dict[str, float]:
    """The garbage-collection gauges of the worker that answered one scrape."""
    response = requests.get(service.url("/metrics"), headers={"Connection": "close"}, timeout=10)
    values = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "model_service_gc_frozen_objects":
                values["frozen"] = sample.value
            if sample.name == "model_service_gc_threshold":
                values[f"threshold{sample.labels['generation']}"] = sample.value
    return values


@pytest.fixture(scope="module")
def tuned_service() -> Iterator[RunningService]:
    env = service_env(IRIS, GC_THRESHOLDS="[30000, 15, 12]")
    with run_service(["--workers", "2"], env=env) as running:
        wait_for(
            lambda: requests.get(running.url("/api/health/ready"), timeout=5).status_code == 200,
            "readiness",
        )
        time.sleep(1)  # the second worker's warm-up, which freezes its heap
        yield running


def test_workers_run_with_the_configured_thresholds_and_a_frozen_heap(
    tuned_service: RunningService,
) -> None:
    for _ in range(6):  # new connections, so both workers answer some of them
        values = gc_metrics(tuned_service)
        assert (values["threshold0"], values["threshold1"], values["threshold2"]) == (30000, 15, 12)
        assert values["frozen"] > 50_000  # the models, numpy, scikit-learn and Flask


def test_gc_freeze_can_be_turned_off() -> None:
    env = service_env(IRIS, GC_FREEZE="false")
    with run_service(["--workers", "1"], env=env) as service:
        wait_for(
            lambda: requests.get(service.url("/api/health/ready"), timeout=5).status_code == 200,
            "readiness",
        )
        assert gc_metrics(service)["frozen"] == 0


class KeptOpenReader(io.BufferedReader):
    """A buffered reader that a finished response cannot close."""

    def close(self) -> None:
        pass


class SharedReader:
    """Gives every :class:`http.client.HTTPResponse` the same buffered reader of one socket, so
    pipelined answers are read one after the other without losing buffered bytes."""

    def __init__(self, connection: socket.socket) -> None:
        self.reader = KeptOpenReader(socket.SocketIO(connection, "rb"))

    def makefile(self, mode: str) -> object:
        return self.reader


def read_response(reader: SharedReader, method: str) -> tuple[int, dict[str, str], bytes]:
    stream = http.client.HTTPResponse(reader, method=method)  # type: ignore[arg-type]
    stream.begin()
    body = stream.read()
    return stream.status, {k.lower(): v for k, v in stream.getheaders()}, body


def test_responses_on_one_keep_alive_connection_are_whole_and_in_order(
    tuned_service: RunningService,
) -> None:
    port = int(tuned_service.base_url.rsplit(":", 1)[1])
    body = json.dumps([IRIS_ITEM] * 300).encode()
    requests_sent = [
        b"POST /api/models/iris_model/predict HTTP/1.1\r\nHost: t\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
        b"HEAD /api/health/live HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET " + STATIC_FILE.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /api/models/nope/metadata HTTP/1.1\r\nHost: t\r\nX-Request-ID: abc-1\r\n\r\n",
        b"GET /api/health/live HTTP/1.1\r\nHost: t\r\n\r\n",
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"".join(requests_sent))  # pipelined: answers must not interleave
        reader = SharedReader(connection)
        methods = ("POST", "HEAD", "GET", "GET", "GET")
        answers = [read_response(reader, method) for method in methods]

    status, headers, predicted = answers[0]
    assert status == 200 and int(headers["content-length"]) == len(predicted)
    results = json.loads(predicted)
    assert len(results) == 300 and results[0]["species"] == "setosa"
    assert headers["x-content-type-options"] == "nosniff" and "x-request-id" in headers

    status, headers, empty = answers[1]
    assert (status, empty) == (200, b"") and int(headers["content-length"]) > 0

    status, headers, css = answers[2]
    assert status == 200
    assert css == (REPO_ROOT / "model_service" / STATIC_FILE.lstrip("/")).read_bytes()

    status, headers, error = answers[3]
    assert status == 404 and headers["x-request-id"] == "abc-1"
    assert json.loads(error)["error"]["type"] == "model_not_found"

    assert answers[4][0] == 200 and json.loads(answers[4][2]) == {"status": "ok"}


def connections_by_worker(
    service: RunningService, states: tuple[str, ...] = ("01",)
) -> dict[int, int]:
    """How many connections each worker holds (read from /proc): established ones (TCP state
    01) unless ``states`` says otherwise."""
    port = int(service.base_url.rsplit(":", 1)[1])
    inodes = {
        inode for local, _, state, inode in tcp_sockets() if local == port and state in states
    }
    return {pid: len(socket_inodes(pid) & inodes) for pid in worker_pids(service.process.pid)}


def tcp_sockets() -> Iterator[tuple[int, int, str, str]]:
    """Every IPv4 TCP socket of the machine (``/proc/net/tcp``): local port, remote port, state
    (01 established, 08 close-wait...) and inode."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
        yield local, remote, fields[3], fields[9]


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets a worker holds open."""
    links = (_fd_target(pid, fd) for fd in os.listdir(f"/proc/{pid}/fd"))
    return {link[len("socket:[") : -1] for link in links if link.startswith("socket:[")}


def _fd_target(pid: int, fd: str) -> str:
    """What a worker's file descriptor points to; "" for one closed since it was listed (the
    worker's capture writer opens and closes database files meanwhile)."""
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except FileNotFoundError:
        return ""


def open_connections(service: RunningService, count: int) -> list[http.client.HTTPConnection]:
    """``count`` keep-alive connections, each open and answered once."""
    port = int(service.base_url.rsplit(":", 1)[1])
    connections = []
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/health/live")
        assert connection.getresponse().read() == b'{"status":"ok"}'
        connections.append(connection)
    return connections


def test_keep_alive_connections_are_shared_equally_between_the_workers(
    tuned_service: RunningService,
) -> None:
    connections = open_connections(tuned_service, 8)
    try:
        counts = connections_by_worker(tuned_service)
        assert sorted(counts.values()) == [4, 4], counts
    finally:
        for connection in connections:
            connection.close()


def test_a_burst_of_connections_opened_at_once_is_shared_equally(
    tuned_service: RunningService,
) -> None:
    """Clients such as wrk open all their connections at once; each worker must take its half
    of the burst (not one worker all of it, nor one at a time in turn)."""
    port = int(tuned_service.base_url.rsplit(":", 1)[1])
    workers = worker_pids(tuned_service.process.pid)
    for burst in (4, 16, 64):
        sockets = []
        try:
            for pid in workers:  # so that the whole burst waits in the listen queue
                os.kill(pid, signal.SIGSTOP)
            try:
                for _ in range(burst):
                    sockets.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            finally:
                for pid in workers:
                    os.kill(pid, signal.SIGCONT)
            request = b"GET /api/health/live HTTP/1.1\r\nHost: test\r\n\r\n"
            for connection in sockets:
                connection.sendall(request)
            for connection in sockets:
                assert connection.recv(4096).startswith(b"HTTP/1.1 200")
            counts = connections_by_worker(tuned_service)
            assert sorted(counts.values()) == [burst // 2, burst // 2], (burst, counts)
        finally:
            for connection in sockets:
                connection.close()
        wait_for(  # closed by the workers too (CLOSE_WAIT, 08, until they see the end)
            lambda: sum(connections_by_worker(tuned_service, ("01", "08")).values()) == 0,
            "the workers closing the burst's connections",
        )


def worker_of(service: RunningService, client: socket.socket) -> int:
    """The worker that holds the server's end of ``client``'s connection."""
    client_port = client.getsockname()[1]
    established = [(remote, inode) for _, remote, state, inode in tcp_sockets() if state == "01"]
    inodes = {inode for remote, inode in established if remote == client_port}
    for pid in worker_pids(service.process.pid):
        if socket_inodes(pid) & inodes:
            return pid
    raise AssertionError(f"no worker holds the connection from port {client_port}")


def test_a_worker_two_connections_above_its_sibling_hands_one_back(
    tuned_service: RunningService,
) -> None:
    """Six connections split 3/3; the client closes two of one worker's. The other worker, now
    3 against 1, answers one request with ``Connection: close``, and the client's new
    connection goes to the sibling: 2/2."""
    connections = open_connections(tuned_service, 6)
    try:
        owners = [worker_of(tuned_service, c.sock) for c in connections]  # type: ignore[arg-type]
        light = [c for c, owner in zip(connections, owners, strict=True) if owner == owners[0]]
        for connection in light[:2]:
            connection.close()
            connections.remove(connection)
        wait_for(
            lambda: sorted(connections_by_worker(tuned_service).values()) == [1, 3],
            "the worker seeing its two connections closed",
        )
        closes = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not closes:
            for connection in connections:
                connection.request("GET", "/api/health/live")
                answer = connection.getresponse()
                assert answer.status == 200 and answer.read() == b'{"status":"ok"}'
                if answer.getheader("Connection", "").lower() == "close":
                    closes += 1
                    connection.close()  # http.client reconnects on the next request
            time.sleep(0.02)
        assert closes == 1
        for connection in connections:  # the closed one reconnects
            connection.request("GET", "/api/health/live")
            connection.getresponse().read()
        assert sorted(connections_by_worker(tuned_service).values()) == [2, 2]
    finally:
        for connection in connections:
            connection.close()


def answered_before_another(service: RunningService, other_connected_first: bool) -> int:
    """Send 1000 pipelined requests on one connection and, once the worker has started on them,
    one request on another connection (opened and served before the pipeline, or only then);
    how many pipelined answers had been sent when the other was answered."""
    port = int(service.base_url.rsplit(":", 1)[1])
    busy = socket.create_connection(("127.0.0.1", port), timeout=10)
    other = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    if other_connected_first:
        other.request("GET", "/api/health/live")
        other.getresponse().read()
    with busy, contextlib.closing(other):
        busy.sendall(b"GET /api/health/live HTTP/1.1\r\nHost: t\r\n\r\n" * 1000)
        received = busy.recv(1 << 20)  # the worker has started on them
        other.request("GET", "/api/health/live")
        assert other.getresponse().read() == b'{"status":"ok"}'
        busy.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while chunk := busy.recv(1 << 20):
                received += chunk
    return received.count(b"HTTP/1.1 200")


def test_a_client_pipelining_many_requests_does_not_hold_back_another() -> None:
    """One worker, two connections: a request on the second, sent once the worker is busy with
    1000 pipelined requests on the first, is answered after a few of those, because after each
    request the worker serves every other connection with a request ready (without a yield the
    first connection's buffered requests all went first; with ``gevent.sleep(0)``, which does
    not poll the sockets, 50-80 of them)."""
    with run_service(["--workers", "1"], env=service_env(IRIS)) as service:
        answered_first = answered_before_another(service, other_connected_first=True)
    assert answered_first < 50, f"{answered_first} of 1000 pipelined answers came first"


def test_a_client_pipelining_alone_does_not_keep_a_new_connection_waiting() -> None:
    """A worker holding a single connection reads its next request without giving the loop a
    turn (nobody else would use it), but not while a connection waits to be accepted: one
    opened while the worker is busy with 1000 pipelined requests is answered after a few of
    them (all 1000 came first when the worker did not look at its listen queue)."""
    with run_service(["--workers", "1"], env=service_env(IRIS)) as service:
        answered_first = answered_before_another(service, other_connected_first=False)
    assert answered_first < 100, f"{answered_first} of 1000 pipelined answers came first"
