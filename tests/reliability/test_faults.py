"""Faults under load against real gunicorn, each bounded to a few seconds: a model that raises
on some rows, a model that hangs, admin reloads, a HUP, and a worker killed with SIGKILL.

The tests share one server (2 workers) and run in file order; the hanging model goes last,
since its hung calls would hold up the graceful stop of workers that a HUP replaces.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.reliability import toys
from tests.reliability.conftest import TOY_MODELS, server_env
from tests.reliability.load import post_json, run_load, wait_for
from tests.support import RunningService, run_service, worker_pids

pytestmark = [pytest.mark.server, pytest.mark.slow]

TOKEN = "fault-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TIMEOUT_S = 1.0
"""PREDICTION_TIMEOUT_S of the server under test: short, so a hang is seen quickly."""


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("artifact") / "answer.txt"
    path.write_text("1.0")
    return path


@pytest.fixture(scope="module")
def service(artifact: Path) -> Iterator[RunningService]:
    env = server_env(
        [*TOY_MODELS, toys.ArtifactModel],
        PREDICTION_TIMEOUT_S=TIMEOUT_S,
        ADMIN_TOKEN=TOKEN,
        ADMIN_STATE_DIR=str(artifact.parent / "admin"),
    )
    env[toys.ARTIFACT_ENV] = str(artifact)
    with run_service(["--workers", "2"], env=env) as running:
        yield running


def answers(service: RunningService, count: int = 20) -> set[float]:
    """The artifact model's answers over ``count`` new connections (spread over the workers)."""
    send = post_json(service.url("/api/models/artifact/predict"), {"x": 1.0})
    return {float(send().json()["y"]) for _ in range(count)}


def test_a_model_that_raises_fails_only_the_rows_that_make_it_raise(
    service: RunningService,
) -> None:
    url = service.url("/api/models/flaky/predict")
    with ThreadPoolExecutor(1) as pool:
        bad = pool.submit(run_load, post_json(url, {"x": -1.0}), threads=2, seconds=3)
        good = run_load(post_json(url, {"x": 1.0}), threads=6, seconds=3)
        bad_report = bad.result()
    print("good rows:", good.summary(), "| bad rows:", bad_report.summary())
    assert good.failed == 0 and good.total > 0
    assert set(bad_report.statuses) == {500} and not bad_report.errors
    response = requests.post(url, json={"x": -1.0}, timeout=10)
    assert response.json()["error"]["type"] == "prediction_error"
    assert "secret" not in response.text and "ValueError" not in response.text


def test_admin_reload_under_load_fails_no_request_and_reaches_every_worker(
    service: RunningService, artifact: Path
) -> None:
    def reload() -> None:
        artifact.write_text("2.0")
        response = requests.post(
            service.url("/api/admin/models/artifact/reload"), headers=AUTH, timeout=30
        )
        assert response.status_code == 200, response.text

    send = post_json(service.url("/api/models/artifact/predict"), {"x": 1.0})
    report = run_load(send, seconds=3, during=reload)
    print("admin reload under load:", report.summary())
    assert report.failed == 0
    assert answers(service) == {2.0}


def test_sighup_under_load_fails_no_request(service: RunningService) -> None:
    before = set(worker_pids(service.process.pid))

    def hang_up() -> None:
        os.kill(service.process.pid, signal.SIGHUP)
        assert wait_for(lambda: not before & set(worker_pids(service.process.pid)), 30)

    send = post_json(service.url("/api/models/double/predict"), {"x": 2.0})
    report = run_load(send, seconds=4, during=hang_up)
    print("SIGHUP under load:", report.summary())
    assert report.failed == 0
    # the new workers replayed the admin change log: the reloaded artifact is still served
    assert answers(service) == {2.0}


def test_a_worker_killed_under_load_is_replaced_and_the_service_recovers(
    service: RunningService,
) -> None:
    before = worker_pids(service.process.pid)

    def kill_one_worker() -> None:
        os.kill(before[0], signal.SIGKILL)
        assert wait_for(lambda: _replaced(service, before[0]))

    send = post_json(service.url("/api/models/double/predict"), {"x": 2.0})
    report = run_load(send, seconds=4, during=kill_one_worker)
    print(f"SIGKILL of worker {before[0]} under load: {report.summary()}")
    assert report.total > report.failed
    recovered = run_load(send, threads=4, seconds=1)
    assert recovered.failed == 0 and recovered.total > 0
    assert answers(service) == {2.0}


@pytest.fixture
def fresh_service() -> Iterator[RunningService]:
    """A server of its own: workers that no earlier fault test has signalled or killed."""
    env = server_env(TOY_MODELS, PREDICTION_TIMEOUT_S=TIMEOUT_S)
    with run_service(["--workers", "2"], env=env) as running:
        yield running


def test_a_hanging_model_answers_504_and_the_others_are_served(
    fresh_service: RunningService,
) -> None:
    service = fresh_service
    hang_url = service.url("/api/models/hanging/predict")
    hung: list[int | str] = []

    def call_hanging() -> None:
        try:
            response = requests.post(hang_url, json={"x": -1.0}, timeout=TIMEOUT_S + 4)
            hung.append(response.status_code)
        except requests.RequestException as error:
            hung.append(type(error).__name__)

    callers = [threading.Thread(target=call_hanging) for _ in range(3)]
    for caller in callers:
        caller.start()
    others = run_load(post_json(service.url("/api/models/double/predict"), {"x": 2.0}), seconds=3)
    for caller in callers:
        caller.join(TIMEOUT_S + 10)
    print("hanging calls:", hung, "| other model meanwhile:", others.summary())
    assert hung == [504, 504, 504]
    assert others.failed == 0 and others.total > 0
    after = requests.post(hang_url, json={"x": 3.0}, timeout=10)
    assert after.status_code == 200, after.text  # the model's next healthy call is served


def _replaced(service: RunningService, killed: int) -> bool:
    workers = worker_pids(service.process.pid)
    return killed not in workers and len(workers) == 2
