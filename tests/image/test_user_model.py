"""A user's own model package installed into an image derived from the project's (README,
Production), served with the examples and stopped gracefully while one of its requests runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.image.docker import Container, docker, run_container
from tests.image.user_package import QUALIFIED_NAME, expected_prediction

pytestmark = [pytest.mark.image, pytest.mark.slow]

GRACEFUL_TIMEOUT_S = 10
SLOW_REQUEST_S = 3.0


@pytest.fixture
def container(derived_image: str) -> Iterator[Container]:
    settings = {"MODEL_SERVICE_GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT_S)}
    with run_container(derived_image, env=settings) as running:
        yield running


def predict_url(container: Container) -> str:
    return container.url(f"/api/models/{QUALIFIED_NAME}/predict")


def test_the_users_model_is_served_next_to_the_examples(container: Container) -> None:
    names = {
        model["qualified_name"]
        for model in requests.get(container.url("/api/models"), timeout=10).json()["models"]
    }
    assert {QUALIFIED_NAME, "iris_model", "digits_model", "bike_demand_model"} <= names
    counts = [4.0, 0.5, 2.25]
    response = requests.post(
        predict_url(container), json={"counts": counts, "delay_s": 0.0}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json() == expected_prediction(counts)


def test_docker_stop_lets_a_request_in_flight_finish_and_exits_zero(container: Container) -> None:
    counts = [1.0, 2.0]
    answers: list[requests.Response] = []
    body = {"counts": counts, "delay_s": SLOW_REQUEST_S}
    client = threading.Thread(
        target=lambda: answers.append(requests.post(predict_url(container), json=body, timeout=30))
    )
    client.start()
    time.sleep(SLOW_REQUEST_S / 3)  # the request has reached the model and sleeps there
    assert client.is_alive()
    started = time.monotonic()
    docker("stop", "--time", str(GRACEFUL_TIMEOUT_S + 20), container.name, timeout=60)
    stopped_after = time.monotonic() - started
    client.join(30)

    assert answers and answers[0].status_code == 200, container.logs()
    assert answers[0].json() == expected_prediction(counts)
    state = container.state()
    assert state["ExitCode"] == 0, container.logs()
    assert not state["OOMKilled"]
    assert stopped_after < GRACEFUL_TIMEOUT_S, (
        f"docker stop took {stopped_after:.1f} s" + container.logs()
    )
