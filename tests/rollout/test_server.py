"""Routing on the real server (gunicorn, two gevent workers): the version header and the split as a
client sees them, every worker following a change, shadows that fail or hang, and promote and
rollback under load."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fixtures import entry
from tests.rollout.conftest import AUTH, ROUTING, TOKEN, shadow_counter
from tests.rollout.toys import TOYS
from tests.server.conftest import log_records, service_env, wait_for
from tests.support import RunningService, run_service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    env = service_env(
        *(entry(model) for model in TOYS),
        ADMIN_TOKEN=TOKEN,
        ADMIN_STATE_DIR=str(tmp_path_factory.mktemp("admin")),
        ROUTING=json.dumps({"toy": {"primary": "1.0.0"}}),
        SHADOW_TIMEOUT_S="0.5",
        LOG_FORMAT="json",
    )
    with run_service(["--workers", "2"], env=env) as running:
        yield running


def put(service: RunningService, policy: dict[str, Any]) -> None:
    response = requests.put(service.url(ROUTING), json=policy, headers=AUTH, timeout=10)
    assert response.status_code == 200, response.text


def predict(service: RunningService, x: float = 1.0) -> requests.Response:
    """One prediction on a fresh connection (so both workers get requests)."""
    return requests.post(
        service.url("/api/models/toy/predict"),
        json={"x": x},
        headers={"Connection": "close"},
        timeout=10,
    )


def test_the_split_and_the_header_as_a_client_sees_them(service: RunningService) -> None:
    put(service, {"primary": "1.0.0", "canary": {"1.1.0": 50}})
    versions: Counter[str] = Counter()
    for n in range(200):
        response = predict(service, float(n))
        assert response.status_code == 200
        version = response.headers["X-Model-Version"]
        assert response.json()["version"] == version
        versions[version] += 1
    assert 60 <= versions["1.1.0"] <= 140


def test_every_worker_follows_a_change_at_its_next_request(service: RunningService) -> None:
    put(service, {"primary": "1.0.0"})
    marker = len(log_records(service))
    put(service, {"primary": "1.1.0"})
    assert {predict(service).headers["X-Model-Version"] for _ in range(60)} == {"1.1.0"}
    pids = {
        record["pid"]
        for record in log_records(service)[marker:]
        if record.get("message", "").startswith("POST /api/models/toy/predict")  # type: ignore[union-attr]
    }
    assert len(pids) == 2  # both workers answered, each with the new policy


def shadow_errors(service: RunningService, version: str) -> float:
    text = requests.get(service.url("/metrics"), timeout=10).text
    return shadow_counter(text, "errors", version)


def test_shadows_that_raise_or_hang_cost_the_client_nothing(service: RunningService) -> None:
    put(service, {"primary": "1.0.0", "shadow": {"0.1.0": 100, "0.2.0": 100}})
    for n in range(10):
        response = predict(service, float(n))
        assert response.status_code == 200
        assert response.json() == {"y": float(n), "version": "1.0.0"}
    wait_for(lambda: shadow_errors(service, "0.1.0") >= 10, "10 raising shadows counted")
    wait_for(lambda: shadow_errors(service, "0.2.0") >= 10, "10 hung shadows cut and counted")
    put(service, {"primary": "1.0.0"})


def test_promote_and_rollback_under_load_lose_no_request(service: RunningService) -> None:
    put(service, {"primary": "1.0.0"})
    outcomes: list[tuple[int, str]] = []
    stop = threading.Event()

    def client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                response = session.post(
                    service.url("/api/models/toy/predict"), json={"x": 1.0}, timeout=10
                )
                outcomes.append((response.status_code, response.headers.get("X-Model-Version", "")))

    senders = [threading.Thread(target=client) for _ in range(4)]
    for sender in senders:
        sender.start()
    try:
        steps = [
            ("PUT", ROUTING, {"primary": "1.0.0", "canary": {"1.1.0": 10}}),
            ("POST", ROUTING + "/promote", {"version": "1.1.0"}),
            ("POST", ROUTING + "/rollback", None),
            ("POST", ROUTING + "/promote", {"version": "1.1.0"}),
            ("POST", ROUTING + "/rollback", None),
        ]
        for method, path, body in steps:
            seen = len(outcomes)
            wait_for(lambda seen=seen: len(outcomes) >= seen + 50, "50 requests between changes")
            response = requests.request(
                method, service.url(path), json=body, headers=AUTH, timeout=10
            )
            assert response.status_code == 200, response.text
        seen = len(outcomes)
        wait_for(lambda: len(outcomes) >= seen + 50, "50 requests after the last change")
    finally:
        stop.set()
        for sender in senders:
            sender.join()
    assert len(outcomes) >= 300
    assert {status for status, _ in outcomes} == {200}
    assert {version for _, version in outcomes} == {"1.0.0", "1.1.0"}


def test_workers_started_by_a_hup_replay_the_policy(service: RunningService) -> None:
    put(service, {"primary": "1.1.0"})
    old_pids = {record["pid"] for record in log_records(service)}
    os.kill(service.process.pid, signal.SIGHUP)
    versions: list[str] = []  # of the last round: answered by new workers only

    def only_new_workers_answer() -> bool:
        marker = len(log_records(service))
        versions[:] = [predict(service).headers.get("X-Model-Version", "") for _ in range(10)]
        pids = {
            record["pid"]
            for record in log_records(service)[marker:]
            if str(record.get("message", "")).startswith("POST /api/models/toy/predict")
        }
        return bool(pids) and not pids & old_pids

    wait_for(only_new_workers_answer, "the workers started by the HUP answering alone")
    assert set(versions) == {"1.1.0"}
    put(service, {"primary": "1.0.0"})
