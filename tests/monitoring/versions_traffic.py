"""Traffic for the version comparison under a real server: iris 1.0.0 (the default) answers, and
1.1.0's shadow copies of the same items are written to the server's store the way the shadow
runner does (captured with decision ``shadow`` and the primary's request id), since no routing
policy shadows here."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from model_service.monitoring.store import SQLITE_FILE, Store, capture_row
from tests.monitoring.conftest import IRIS, IRIS_ITEM
from tests.monitoring.toy_versions import IRIS_NEXT, IrisModelNext
from tests.support import RunningService, run_service

FLOWERS = [
    IRIS_ITEM,
    {"sepal_length": 7.2, "sepal_width": 3.0, "petal_length": 6.1, "petal_width": 2.2},
    {"sepal_length": 6.0, "sepal_width": 2.9, "petal_length": 4.5, "petal_width": 1.5},
    {"sepal_length": 7.7, "sepal_width": 2.6, "petal_length": 6.9, "petal_width": 2.3},
    {"sepal_length": 5.8, "sepal_width": 2.7, "petal_length": 5.1, "petal_width": 1.9},
]
"""Two of them have sepals over 7 cm, which 1.1.0 calls versicolor and 1.0.0 does not."""
SHADOW_LATENCY_MS = 40.0


def versions_env(state_dir: Path) -> dict[str, str]:
    """Settings of a server with both iris versions, 1.0.0 answering unversioned calls."""
    return {
        "APP_SETTINGS": "config.TestingConfig",
        "MODEL_SERVICE_BATCHING_ENABLED": "false",
        "MODEL_SERVICE_MODELS": json.dumps([IRIS, IRIS_NEXT]),
        "MODEL_SERVICE_LOAD_ENTRY_POINTS": "false",
        "MODEL_SERVICE_DEFAULT_VERSIONS": json.dumps({"iris_model": "1.0.0"}),
        "MODEL_SERVICE_MONITORING_FLUSH_INTERVAL_S": "0.1",
        "MODEL_SERVICE_MONITORING_STATE_DIR": str(state_dir),
    }


@dataclass(frozen=True)
class Traffic:
    """What was sent and what the comparison must therefore say."""

    answers: list[str]
    shadow_answers: list[str]
    direct_answer: str
    """1.1.0's answer to one flower sent to its versioned URL (decision ``direct`` once routing
    records it, ``primary`` before)."""

    @property
    def agreement(self) -> float:
        same = sum(a == b for a, b in zip(self.answers, self.shadow_answers, strict=True))
        return same / len(self.answers)


def send_and_shadow(service: RunningService, state_dir: Path) -> Traffic:
    """Predict :data:`FLOWERS` unversioned (one request) and one flower through 1.1.0's versioned
    URL, wait until the server stored them, then write 1.1.0's answers to the same items as its
    shadow rows."""
    request_id = f"versions-{uuid.uuid4().hex}"
    response = requests.post(
        service.url("/api/models/iris_model/predict"),
        json=FLOWERS,
        headers={"X-Request-ID": request_id},
        timeout=10,
    )
    response.raise_for_status()
    direct = requests.post(
        service.url("/api/models/iris_model/versions/1.1.0/predict"), json=FLOWERS[1], timeout=10
    )
    direct.raise_for_status()
    wait_for_versions(service, lambda _: _stored(service, "1.0.0") == len(FLOWERS))
    wait_for_versions(service, lambda _: _stored(service, "1.1.0") == 1)
    shadow_results = IrisModelNext().predict_batch(FLOWERS)
    store = Store(f"sqlite:///{state_dir / SQLITE_FILE}")
    now = time.time()
    store.insert(
        [
            capture_row(
                "iris_model",
                "1.1.0",
                now,
                request_id,
                index,
                "rest_json",
                item,
                result,
                SHADOW_LATENCY_MS,
                "shadow",
            )
            for index, (item, result) in enumerate(zip(FLOWERS, shadow_results, strict=True))
        ]
    )
    store.dispose()
    return Traffic(
        [result["species"] for result in response.json()],
        [result["species"] for result in shadow_results],
        direct.json()["species"],
    )


@contextmanager
def serving_two_versions(state_dir: Path) -> Iterator[tuple[RunningService, Traffic]]:
    """A one-worker service over ``state_dir`` after :func:`send_and_shadow`'s traffic."""
    with run_service(["--workers", "1"], env=versions_env(state_dir)) as service:
        yield service, send_and_shadow(service, state_dir)


def _stored(service: RunningService, version: str) -> int:
    url = f"/api/models/iris_model/versions/{version}/monitoring?window=1h"
    return int(requests.get(service.url(url), timeout=10).json()["predictions"])


def wait_for_versions(service: RunningService, done: Any, timeout: float = 30.0) -> dict[str, Any]:
    """The ``versions`` section of the iris summary once ``done(section)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        summary = requests.get(
            service.url("/api/models/iris_model/monitoring?window=1h"), timeout=10
        ).json()
        section: dict[str, Any] = summary["versions"]
        if done(section):
            return section
        if time.monotonic() > deadline:
            raise AssertionError(f"captures not stored after {timeout} s: {section}")
        time.sleep(0.1)
