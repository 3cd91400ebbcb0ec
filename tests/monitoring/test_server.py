"""Capture under the real server (gunicorn, gevent workers): a clean stop writes every queued
item, and a database that dies under load costs predictions nothing."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from model_service.monitoring.sink import SOCKET_BUFFER_BYTES
from model_service.monitoring.tables import captures
from tests.monitoring.conftest import IRIS, IRIS_ITEM
from tests.monitoring.postgres import PostgresServer, postgres_binaries
from tests.server.conftest import service_env, wait_for
from tests.support import RunningService, capture_writer_pids, run_service, worker_pids

pytestmark = [pytest.mark.server, pytest.mark.slow]

GEVENT_WORKERS = ["--workers", "2", "--worker-class", "gevent"]


def predict(service: RunningService, request_id: str) -> int:
    response = requests.post(
        service.url("/api/models/iris_model/predict"),
        json=IRIS_ITEM,
        headers={"X-Request-ID": request_id},
        timeout=30,
    )
    return response.status_code


def predict_many(service: RunningService, prefix: str, count: int) -> list[int]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda n: predict(service, f"{prefix}-{n}"), range(count)))


def stored_ids(url: str, prefix: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            named = captures.c.request_id.like(f"{prefix}-%")
            query = sa.select(captures.c.request_id).where(named)
            return {row.request_id for row in connection.execute(query)}
    finally:
        engine.dispose()


def dropped_total(service: RunningService) -> float:
    text = requests.get(service.url("/metrics"), timeout=10).text
    match = re.search(r"^model_service_capture_dropped_total (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def written_often(url: str, **settings: str) -> dict[str, str]:
    """A service whose writer writes five times a second (and ``settings``)."""
    return service_env(
        IRIS, MONITORING_DATABASE_URL=url, MONITORING_FLUSH_INTERVAL_S="0.2", **settings
    )


def held_until_exit(url: str) -> dict[str, str]:
    """A service whose workers write captures only when they exit (no timed or full-batch
    flush), so what is stored afterwards was written by the exit hook."""
    return service_env(
        IRIS,
        MONITORING_DATABASE_URL=url,
        MONITORING_FLUSH_INTERVAL_S="3600",
        MONITORING_WRITE_BATCH_SIZE="100000",
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigterm_writes_every_queued_item_before_the_workers_exit(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'monitoring.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    with run_service(GEVENT_WORKERS, env=held_until_exit(url)) as service:
        assert predict_many(service, "queued", 300) == [200] * 300
        assert stored_ids(url, "queued") == set()
        os.killpg(service.process.pid, signal.SIGTERM)
        service.process.wait(timeout=60)

    assert stored_ids(url, "queued") == {f"queued-{n}" for n in range(300)}


def test_sighup_writes_the_retired_workers_queues(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitoring.sqlite3'}"
    with run_service(GEVENT_WORKERS, env=held_until_exit(url)) as service:
        assert predict_many(service, "hup", 100) == [200] * 100
        os.kill(service.process.pid, signal.SIGHUP)  # the master: new workers, old ones retire
        wait_for(lambda: len(stored_ids(url, "hup")) == 100, "the retired workers' captures")
        assert predict(service, "after-hup-0") == 200


def capture_writers(service: RunningService) -> list[int]:
    return capture_writer_pids(service.process.pid)


def test_one_writer_process_writes_every_workers_captures_and_a_killed_one_is_replaced(
    tmp_path: Path,
) -> None:
    """The workers hand their captures to one writer process. Killed, it is started again by
    the master, and what the workers sent meanwhile (kept in the socket, or in their queues
    while the socket was full) is written: nothing is dropped."""
    url = f"sqlite:///{tmp_path / 'monitoring.sqlite3'}"
    with run_service(GEVENT_WORKERS, env=written_often(url)) as service:
        (writer,) = capture_writers(service)
        assert predict_many(service, "first", 100) == [200] * 100
        wait_for(lambda: len(stored_ids(url, "first")) == 100, "the first captures")

        os.kill(writer, signal.SIGKILL)
        assert predict_many(service, "meanwhile", 300) == [200] * 300
        wait_for(lambda: capture_writers(service) not in ([], [writer]), "a new writer process")
        wait_for(lambda: len(stored_ids(url, "meanwhile")) == 300, "the captures sent meanwhile")
        assert len(capture_writers(service)) == 1
        assert dropped_total(service) == 0


def scheduling_policies(pid: int) -> list[int]:
    """The scheduling policy of each thread of a process."""
    return [os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")]


@pytest.mark.parametrize(
    ("idle", "policy"), [("true", os.SCHED_IDLE), ("false", os.SCHED_OTHER)], ids=["idle", "nice"]
)
def test_the_writer_process_runs_on_idle_cpu_time_unless_told_otherwise(
    tmp_path: Path, idle: str, policy: int
) -> None:
    """By default every thread of the writer process (the one inserting included) gives a core
    back the moment a worker wants it; its captures are all written all the same."""
    url = f"sqlite:///{tmp_path / 'monitoring.sqlite3'}"
    with run_service(
        GEVENT_WORKERS, env=written_often(url, MONITORING_WRITER_IDLE=idle)
    ) as service:
        assert predict_many(service, "idle", 100) == [200] * 100
        wait_for(lambda: len(stored_ids(url, "idle")) == 100, "the captures")
        (writer,) = capture_writers(service)
        policies = scheduling_policies(writer)
        assert len(policies) >= 2  # its writer thread is running
        assert set(policies) == {policy}
        for worker in worker_pids(service.process.pid):
            assert set(scheduling_policies(worker)) == {os.SCHED_OTHER}


def test_without_a_writer_process_each_worker_writes_its_own_captures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitoring.sqlite3'}"
    env = written_often(url, MONITORING_WRITER_PROCESS="false")
    with run_service(GEVENT_WORKERS, env=env) as service:
        assert capture_writers(service) == []
        assert predict_many(service, "threads", 100) == [200] * 100
        wait_for(lambda: len(stored_ids(url, "threads")) == 100, "the workers' own writes")


ROWS_PER_REQUEST = 500
CONCURRENT = 8
QUEUE_SIZE = CONCURRENT * ROWS_PER_REQUEST
"""A worker's queue holds every row the requests posted at once can bring it."""
SMALLEST_ROW_BYTES = 100
"""An iris capture row encoded (model, version, request id, four features, the answer) is
longer than this."""


def post_batches(service: RunningService, prefix: str) -> list[int]:
    """Post :data:`CONCURRENT` batches of :data:`ROWS_PER_REQUEST` items (one capture row each)
    at once; their statuses."""

    def post(request_id: str) -> int:
        response = requests.post(
            service.url("/api/models/iris_model/predict"),
            json=[IRIS_ITEM] * ROWS_PER_REQUEST,
            headers={"X-Request-ID": request_id},
            timeout=30,
        )
        return response.status_code

    ids = [f"{prefix}-{n}" for n in range(CONCURRENT)]
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        return list(pool.map(post, ids))


def socket_bytes() -> int:
    """The bytes the kernel lets datagrams waiting for the writer process take: the buffer the
    service asks for, as this machine grants it (``net.core.wmem_max`` caps it)."""
    receiving, sending = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    with receiving, sending:
        sending.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER_BYTES)
        return sending.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)


def test_a_dead_database_drops_captures_not_predictions_and_capture_resumes() -> None:
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL binaries not found under /usr/lib/postgresql: make test-install")
    database = PostgresServer(binaries)  # its own server: this test stops it
    database.initialise()
    database.start()
    try:
        url = database.new_database()
        env = written_often(url, MONITORING_QUEUE_SIZE=str(QUEUE_SIZE))
        with run_service(GEVENT_WORKERS, env=env) as service:
            # the most any worker can hold at once fits in its queue: none dropped, however
            # slow the writer
            assert predict_many(service, "before", 40) == [200] * 40
            assert post_batches(service, "before-batch") == [200] * CONCURRENT
            wait_for(lambda: len(stored_ids(url, "before")) == 40 + CONCURRENT, "the captures")
            assert dropped_total(service) == 0

            database.stop()
            # rows pile up in the writer process's queue, in the socket (megabytes on some
            # machines: the kernel's limit), then in the workers' queues; requests go on until
            # one is dropped, or until more rows were sent than all of them can hold
            held_at_most = 3 * QUEUE_SIZE + socket_bytes() // SMALLEST_ROW_BYTES
            started = time.monotonic()
            statuses: list[int] = []
            while dropped_total(service) == 0 and len(statuses) * ROWS_PER_REQUEST <= held_at_most:
                statuses += post_batches(service, f"down-{len(statuses)}")
            seconds_down = time.monotonic() - started
            assert statuses == [200] * len(statuses)
            assert dropped_total(service) > 0

            database.start()
            wait_for(
                lambda: (
                    predict(service, f"after-{time.monotonic_ns()}") == 200
                    and bool(stored_ids(url, "after"))
                ),
                "capture resuming after the database came back",
                timeout=90,
            )
        assert seconds_down < 60
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped by a failure above
            database.stop()
        database.remove()
