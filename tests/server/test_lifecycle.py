"""Start-up, shutdown, reload and preloading of the real service under gunicorn."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

import model_service
from tests.fixtures import entry
from tests.server import toy_models
from tests.server.conftest import predict_gated, service_env, wait_for
from tests.server.toy_models import (
    GATE_DIRECTORY_ENV,
    WARM_UP_GATE_ENV,
    ForkUnsafeModel,
    GatedModel,
)
from tests.support import BIN, REPO_ROOT, RunningService, free_port, run_service

pytestmark = [pytest.mark.server, pytest.mark.slow]

TWO_WORKERS = ["--workers", "2", "--threads", "4"]


def gated_env(gate_dir: Path, **extra: str) -> dict[str, str]:
    return {**service_env(entry(GatedModel)), GATE_DIRECTORY_ENV: str(gate_dir), **extra}


def ready_status(service: RunningService) -> tuple[int, list[str]]:
    response = requests.get(service.url("/api/health/ready"), timeout=10)
    return response.status_code, response.json()["reasons"]


def test_ready_answers_503_until_the_workers_have_warmed_up(gate_dir: Path) -> None:
    env = gated_env(gate_dir, **{WARM_UP_GATE_ENV: "warm-up"})
    with run_service(TWO_WORKERS, env=env) as service:
        status, reasons = ready_status(service)
        assert status == 503
        assert any("warming up" in reason for reason in reasons)
        assert requests.get(service.url("/api/health/live"), timeout=10).status_code == 200

        (gate_dir / "warm-up.open").touch()
        wait_for(lambda: ready_status(service)[0] == 200, "readiness after the warm-up")
        assert ready_status(service) == (200, [])


def test_sigterm_lets_the_request_in_flight_finish(gate_dir: Path) -> None:
    with run_service(
        [*TWO_WORKERS, "--graceful-timeout", "30"], env=gated_env(gate_dir)
    ) as service:
        answers: list[requests.Response] = []
        client = threading.Thread(target=lambda: answers.append(predict_gated(service, "slow")))
        client.start()
        wait_for((gate_dir / "slow.started").exists, "the slow request reaching the model")

        os.kill(service.process.pid, signal.SIGTERM)
        wait_for(lambda: "Handling signal: term" in service.log(), "the master taking SIGTERM")
        (gate_dir / "slow.open").touch()

        client.join(timeout=60)
        assert [a.status_code for a in answers] == [200]
        assert answers[0].json()["gate"] == "slow"
        assert service.process.wait(timeout=60) == 0


def test_sighup_replaces_the_workers_without_losing_a_request(gate_dir: Path) -> None:
    with run_service(TWO_WORKERS, env=gated_env(gate_dir)) as service:
        before = {predict_gated(service).json()["pid"] for _ in range(10)}
        stop = threading.Event()

        def client() -> list[int]:
            statuses = []
            with requests.Session() as session:
                while not stop.is_set():
                    response = session.post(
                        service.url("/api/models/gated/predict"), json={"gate": ""}, timeout=30
                    )
                    statuses.append(response.status_code)
            return statuses

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client) for _ in range(4)]
            time.sleep(0.5)
            os.kill(service.process.pid, signal.SIGHUP)
            wait_for(lambda: service.log().count("Booting worker") >= 4, "the new workers booting")
            wait_for(
                lambda: not before & {predict_gated(service).json()["pid"] for _ in range(10)},
                "the old workers retiring",
            )
            time.sleep(0.5)
            stop.set()
            statuses = [status for future in futures for status in future.result()]
        assert statuses
        assert set(statuses) == {200}, f"{len(statuses)} requests: {set(statuses)}"


def test_no_preload_serves_a_model_that_cannot_cross_a_fork(gate_dir: Path) -> None:
    env = service_env(entry(ForkUnsafeModel))
    with run_service(["--no-preload", "--worker-class", "gthread", *TWO_WORKERS], env=env) as svc:
        wait_for(lambda: ready_status(svc)[0] == 200, "readiness")
        response = requests.post(
            svc.url("/api/models/fork_unsafe/predict"), json={"x": 2.0}, timeout=10
        )
        assert response.status_code == 200, response.text
        assert response.json()["y"] == 4.0


def some_template() -> Path:
    templates = sorted(Path(model_service.__file__).parent.glob("**/templates/**/*.html"))
    if not templates:
        pytest.skip("the package has no template yet to touch")
    return templates[0]


@pytest.mark.parametrize(
    "changed",
    [lambda: Path(toy_models.__file__), some_template],
    ids=["python-module", "template"],
)
def test_debug_restarts_the_worker_when_code_or_a_template_changes(
    gate_dir: Path, changed: Callable[[], Path]
) -> None:
    path = changed()
    original = path.stat()
    with run_service(["--debug"], env=gated_env(gate_dir)) as service:
        first_pid = predict_gated(service).json()["pid"]
        assert '"level": "DEBUG"' in service.log() or "[DEBUG]" in service.log()
        try:
            # Bump the time until the reloader notices: its first pass only records the times.
            bumps = iter(range(1, 1000))
            wait_for(
                lambda: (
                    _bump(path, next(bumps))
                    or f"Worker reloading: {path} modified" in service.log()
                ),
                "the reload",
            )
            wait_for(lambda: _pid_or_none(service) not in (None, first_pid), "a new worker serving")
        finally:
            os.utime(path, (original.st_atime, original.st_mtime))


def _bump(path: Path, step: int) -> None:
    """Move the file's modification time forward without touching its content."""
    if step % 10 == 0:
        os.utime(path, (path.stat().st_atime, time.time() + step))


def _pid_or_none(service: RunningService) -> int | None:
    try:
        return int(predict_gated(service, timeout=2).json()["pid"])
    except (requests.RequestException, ValueError, KeyError):
        return None


def test_daemon_detaches_and_keeps_serving(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    port = free_port()
    argv = [str(BIN / "model-service"), "serve", "--daemon", "--port", str(port)]
    argv += ["--workers", "1", "--error-logfile", str(log)]
    env = {**os.environ, **service_env(entry(GatedModel))}
    assert subprocess.run(argv, cwd=REPO_ROOT, env=env, timeout=60).returncode == 0
    master = None
    try:
        wait_for(lambda: "Listening at:" in (log.read_text() if log.exists() else ""), "binding")
        master = int(re.findall(r"Listening at: \S+ \((\d+)\)", log.read_text())[0])
        url = f"http://127.0.0.1:{port}/api/health/live"
        wait_for(lambda: _answers(url), "the detached service answering")
    finally:
        if master is not None:
            os.kill(master, signal.SIGTERM)
            wait_for(lambda: "Shutting down: Master" in log.read_text(), "the daemon stopping")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
