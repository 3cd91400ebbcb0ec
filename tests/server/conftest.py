"""Fixtures for the real-server tests: model lists, gate files, one shared two-worker server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.fixtures import entry
from tests.server.toy_models import GATE_DIRECTORY_ENV, ForkUnsafeModel, GatedModel
from tests.support import RunningService, run_service

IRIS = {"module_name": "iris_model.model", "class_name": "IrisModel"}
IRIS_ITEM = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def service_env(*models: dict[str, str], **settings: str) -> dict[str, str]:
    """Environment for a server that loads exactly ``models``; ``settings`` become
    ``MODEL_SERVICE_<NAME>`` overrides."""
    env = {
        "APP_SETTINGS": "config.TestingConfig",
        "MODEL_SERVICE_MODELS": json.dumps(list(models)),
        "MODEL_SERVICE_LOAD_ENTRY_POINTS": "false",
    }
    env.update({f"MODEL_SERVICE_{name}": value for name, value in settings.items()})
    return env


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout} s")


def predict_gated(
    service: RunningService, gate: str = "", timeout: float = 60
) -> requests.Response:
    """One prediction of the gated toy model on a fresh connection."""
    return requests.post(
        service.url("/api/models/gated/predict"),
        json={"gate": gate},
        headers={"Connection": "close"},
        timeout=timeout,
    )


@pytest.fixture
def gate_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="module")
def module_gate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gates")


@pytest.fixture(scope="module")
def service(module_gate_dir: Path) -> Iterator[RunningService]:
    """The examples' iris model and the toy models on 2 gevent workers, preloaded, JSON logs."""
    env = service_env(IRIS, entry(GatedModel), entry(ForkUnsafeModel), LOG_FORMAT="json")
    env[GATE_DIRECTORY_ENV] = str(module_gate_dir)
    with run_service(["--workers", "2", "--threads", "4"], env=env) as running:
        wait_for(
            lambda: requests.get(running.url("/api/health/ready"), timeout=5).status_code == 200,
            "readiness",
        )
        yield running


def log_records(service: RunningService) -> list[dict[str, object]]:
    """The JSON log lines the service wrote so far."""
    records = []
    for line in service.log().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records
