"""Shadow traffic in-process (the daemon-thread runner): answers never change, failures and hangs
cost the client nothing and are counted, a full queue drops and counts."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from model_service.model_manager import ServedModel
from model_service.shadow import ShadowCounters, ShadowRunner
from tests.rollout.conftest import predict, put_policy, shadow_counter
from tests.server.conftest import wait_for


def counter(client: FlaskClient, name: str, version: str) -> float:
    return shadow_counter(client.get("/metrics").get_data(as_text=True), name, version)


def test_a_shadow_never_changes_the_answer(toy: FlaskClient) -> None:
    put_policy(toy, {"primary": "1.0.0", "shadow": {"1.1.0": 100}})
    for n in range(20):
        response = toy.post("/api/models/toy/predict", json={"x": float(n)})
        assert response.get_json() == {"y": float(n), "version": "1.0.0"}
        assert response.headers["X-Model-Version"] == "1.0.0"
    wait_for(lambda: counter(toy, "predictions", "1.1.0") == 20, "20 shadow predictions")
    assert counter(toy, "errors", "1.1.0") == 0


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0"], ids=["raises", "hangs"])
def test_a_shadow_that_raises_or_hangs_costs_the_client_nothing(
    toy: FlaskClient, version: str, caplog: pytest.LogCaptureFixture
) -> None:
    put_policy(toy, {"primary": "1.0.0", "shadow": {version: 100}})
    for _ in range(5):
        response = predict(toy)
        assert response.get_json() == {"y": 1.0, "version": "1.0.0"}
    wait_for(lambda: counter(toy, "errors", version) == 5, "5 shadow errors counted")
    assert counter(toy, "predictions", version) == 0
    logged = [r for r in caplog.records if r.name == "model_service.shadow"]
    assert len(logged) == 1  # once per burst, not once per item
    assert version in logged[0].getMessage()


class Counts(ShadowCounters):
    def __init__(self) -> None:
        self.counts: dict[str, int] = {"predicted": 0, "failed": 0, "dropped": 0}

    def predicted(self, model: str, version: str, items: int) -> None:
        self.counts["predicted"] += items

    def failed(self, model: str, version: str, items: int) -> None:
        self.counts["failed"] += items

    def dropped(self, model: str, version: str, items: int) -> None:
        self.counts["dropped"] += items


def runner_without_thread(toy_app: Flask, queue_size: int, counts: Counts) -> ShadowRunner:
    manager = toy_app.extensions["model_service"].manager
    captured: list[Any] = []

    def resolve(name: str, version: str) -> ServedModel:
        return manager.get_model(name, version)  # type: ignore[no-any-return]

    runner = ShadowRunner(
        resolve, lambda *a, **k: captured.append(k), counts, queue_size=queue_size, batch_size=4
    )
    runner._ensure_runner = lambda: None  # type: ignore[method-assign]  # run by hand below
    return runner


def test_a_full_queue_drops_and_counts_and_batches_stay_in_order(toy_app: Flask) -> None:
    counts = Counts()
    runner = runner_without_thread(toy_app, queue_size=10, counts=counts)
    for n in range(4):
        runner.submit("toy", ["1.1.0"], [{"x": float(n)}] * 3, f"r{n}", "rest_json")
    assert counts.counts["dropped"] == 3  # the fourth request's 3 items did not fit in 10
    assert runner.pending() == 9
    batches = 0
    while runner.run_once():
        batches += 1
    assert batches == 3  # 3 items a request, at most 4 items a batch: one request per batch
    assert counts.counts["predicted"] == 9


def test_closing_drops_and_counts_what_is_left_without_waiting(toy_app: Flask) -> None:
    counts = Counts()
    runner = runner_without_thread(toy_app, queue_size=100, counts=counts)
    runner.submit("toy", ["0.2.0", "1.1.0"], [{"x": 1.0}] * 2, "r", "rest_json")
    assert runner.close(timeout=0) == 4
    assert counts.counts["dropped"] == 4
    runner.submit("toy", ["1.1.0"], [{"x": 1.0}], "late", "rest_json")
    assert counts.counts["dropped"] == 5  # no copies are taken once closed


def test_a_hung_version_holds_one_thread_however_many_batches_follow(toy_app: Flask) -> None:
    import threading

    counts = Counts()
    runner = runner_without_thread(toy_app, queue_size=100, counts=counts)
    runner.timeout = 0.05
    before = set(threading.enumerate())
    for n in range(5):
        runner.submit("toy", ["0.2.0"], [{"x": 1.0}] * 4, f"r{n}", "rest_json")
    while runner.run_once():
        pass
    assert counts.counts["failed"] == 20
    started = set(threading.enumerate()) - before
    assert len(started) == 1  # the first batch's call, still hanging


def test_closing_with_time_drains_the_queue_first(toy_app: Flask) -> None:
    from model_service.shadow import close_on_exit

    counts = Counts()
    runner = runner_without_thread(toy_app, queue_size=100, counts=counts)
    runner.submit("toy", ["1.1.0"], [{"x": 1.0}] * 3, "r", "rest_json")
    toy_app.extensions["model_service.shadow"] = runner
    assert close_on_exit(toy_app, timeout=5.0) == 0
    assert counts.counts == {"predicted": 3, "failed": 0, "dropped": 0}
