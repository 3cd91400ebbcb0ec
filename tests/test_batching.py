"""The batcher: concurrent calls share one ``predict_batch``, each caller gets its own outcome."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from prometheus_client import REGISTRY
from schema import Schema

from model_service import create_app
from model_service.batching import Batcher, BatchingRunner, BatchSettings
from model_service.errors import PredictionError, PredictionTimeout
from model_service.ml_model import MLModel
from model_service.model_manager import ModelManager, ServedModel
from model_service.prediction import call_model
from tests.fixtures import EchoModel, entry

WAIT_S = 10.0  # generous bound for a thread to reach a state; never a timing assertion


class GatedModel(MLModel):
    """Records each batch; the first batch blocks until the test opens the gate, so the calls
    started meanwhile queue up. A negative ``x`` makes the whole batch fail."""

    qualified_name = "gated"
    display_name = "Gated"
    description = "Blocks its first batch until released."
    version = "1.0.0"
    input_schema = Schema({"x": float})
    output_schema = Schema({"y": float})

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.batches: list[list[float]] = []

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.predict_batch([data])[0]

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        self.batches.append([item["x"] for item in items])
        if len(self.batches) == 1:
            self.entered.set()
            self.gate.wait(WAIT_S)
        if any(item["x"] < 0 for item in items):
            raise ValueError("negative input")
        return [{"y": item["x"] * 2} for item in items]


class SlowModel(GatedModel):
    """Releases the GIL inside ``predict_batch`` as a real estimator's native code does."""

    qualified_name = "slow"

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        time.sleep(0.001)
        return super().predict_batch(items)


class OptedOutModel(GatedModel):
    qualified_name = "opted_out"
    batching = False


class SmallBatchModel(GatedModel):
    qualified_name = "small_batch"
    max_batch_size = 2


class InterruptingModel(GatedModel):
    """Raises a ``BaseException`` (as a worker being killed would) in its second batch."""

    qualified_name = "interrupting"

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(self.batches) == 1:
            self.batches.append([])
            raise KeyboardInterrupt
        return super().predict_batch(items)


def serve(model_class: type[MLModel]) -> ServedModel:
    return ModelManager().add_model_class(model_class)


def items(*values: float) -> list[dict[str, float]]:
    return [{"x": value} for value in values]


class Caller(threading.Thread):
    """Runs one prediction in a thread and keeps its results or its exception."""

    def __init__(self, predict: Callable[[], list[Any]]) -> None:
        super().__init__(daemon=True)
        self.predict = predict
        self.results: list[Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.results = self.predict()
        except BaseException as error:
            self.error = error


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the batcher never reached the expected state"
        time.sleep(0.005)


@pytest.fixture
def gated() -> ServedModel:
    return serve(GatedModel)


def start_queued(
    batcher: Batcher, served: ServedModel, requests: Sequence[list[dict[str, float]]]
) -> tuple[Caller, list[Caller]]:
    """Start a leader that blocks in the model, then ``requests`` that queue behind it."""
    leader = Caller(lambda: batcher.predict(served, items(0)))
    leader.start()
    assert served.model.entered.wait(WAIT_S)  # type: ignore[attr-defined]
    followers = []
    for request in requests:
        followers.append(Caller(lambda request=request: batcher.predict(served, request)))
        followers[-1].start()
        # Start the next one only once this one queued, so the queue order is known.
        wait_for(lambda: len(batcher._queue) == len(followers))
    return leader, followers


def finish(callers: Sequence[Caller]) -> None:
    for caller in callers:
        caller.join(WAIT_S)
        assert not caller.is_alive()


def test_an_idle_model_predicts_at_once_in_the_callers_own_batch(gated: ServedModel) -> None:
    gated.model.gate.set()  # type: ignore[attr-defined]
    batcher = Batcher(call_model, BatchSettings())

    assert batcher.predict(gated, items(1.5, 2)) == [{"y": 3.0}, {"y": 4.0}]
    assert gated.model.batches == [[1.5, 2.0]]  # type: ignore[attr-defined]


def test_calls_queued_behind_a_running_batch_share_the_next_one_in_order(
    gated: ServedModel,
) -> None:
    batcher = Batcher(call_model, BatchSettings())
    requests = [items(1), items(2, 3), items(4)]
    leader, followers = start_queued(batcher, gated, requests)

    gated.model.gate.set()  # type: ignore[attr-defined]
    finish([leader, *followers])

    assert gated.model.batches == [[0.0], [1.0, 2.0, 3.0, 4.0]]  # type: ignore[attr-defined]
    assert [caller.results for caller in followers] == [
        [{"y": 2.0}],
        [{"y": 4.0}, {"y": 6.0}],
        [{"y": 8.0}],
    ]


def test_a_batch_never_exceeds_max_batch_size(gated: ServedModel) -> None:
    batcher = Batcher(call_model, BatchSettings(max_batch_size=2))
    leader, followers = start_queued(batcher, gated, [items(1), items(2), items(3)])

    gated.model.gate.set()  # type: ignore[attr-defined]
    finish([leader, *followers])

    assert gated.model.batches == [[0.0], [1.0, 2.0], [3.0]]  # type: ignore[attr-defined]
    assert [caller.results for caller in followers] == [[{"y": 2.0}], [{"y": 4.0}], [{"y": 6.0}]]


def test_a_bad_item_fails_only_its_own_caller(gated: ServedModel) -> None:
    batcher = Batcher(call_model, BatchSettings())
    leader, followers = start_queued(batcher, gated, [items(1), items(-1), items(3)])

    gated.model.gate.set()  # type: ignore[attr-defined]
    finish([leader, *followers])

    good, bad, other = followers
    assert good.results == [{"y": 2.0}] and other.results == [{"y": 6.0}]
    assert isinstance(bad.error, PredictionError)
    assert "gated 1.0.0 failed" in str(bad.error)


def test_a_model_that_always_raises_fails_every_caller_with_a_prediction_error() -> None:
    from tests.fixtures import ErrorModel

    served = serve(ErrorModel)
    batcher = Batcher(call_model, BatchSettings())
    callers = [Caller(lambda: batcher.predict(served, items(1))) for _ in range(8)]
    for caller in callers:
        caller.start()
    finish(callers)

    assert all(isinstance(caller.error, PredictionError) for caller in callers)


def test_a_follower_waiting_longer_than_the_timeout_gets_a_prediction_timeout(
    gated: ServedModel,
) -> None:
    batcher = Batcher(call_model, BatchSettings(timeout_s=0.05))
    leader, _ = start_queued(batcher, gated, [])
    follower = Caller(lambda: batcher.predict(gated, items(1)))
    follower.start()
    finish([follower])

    assert isinstance(follower.error, PredictionTimeout)
    assert not batcher._queue
    gated.model.gate.set()  # type: ignore[attr-defined]
    finish([leader])
    assert batcher.predict(gated, items(5)) == [{"y": 10.0}]


def test_a_hung_batch_is_abandoned_so_later_callers_are_served(gated: ServedModel) -> None:
    batcher = Batcher(call_model, BatchSettings(timeout_s=0.05))
    leader, _ = start_queued(batcher, gated, [])
    time.sleep(0.1)  # the first batch is now older than the timeout

    assert batcher.predict(gated, items(7)) == [{"y": 14.0}]
    gated.model.gate.set()  # type: ignore[attr-defined]
    finish([leader])
    assert isinstance(leader.error, PredictionTimeout)  # its answer came too late
    assert batcher.predict(gated, items(8)) == [{"y": 16.0}]


def test_an_interrupted_leader_wakes_its_followers_with_an_error() -> None:
    served = serve(InterruptingModel)
    batcher = Batcher(call_model, BatchSettings())
    leader, followers = start_queued(batcher, served, [items(1), items(2)])

    served.model.gate.set()  # type: ignore[attr-defined]
    finish([leader, *followers])

    assert all(isinstance(caller.error, PredictionError) for caller in followers[1:])
    assert isinstance(followers[0].error, KeyboardInterrupt)
    assert batcher.predict(served, items(3)) == [{"y": 6.0}]


def test_a_latency_budget_waits_for_a_full_batch() -> None:
    served = serve(GatedModel)
    served.model.gate.set()  # type: ignore[attr-defined]
    batcher = Batcher(call_model, BatchSettings(max_batch_size=4, max_batch_latency_s=WAIT_S))
    callers = [
        Caller(lambda value=value: batcher.predict(served, items(value))) for value in range(4)
    ]
    for caller in callers:
        caller.start()
    finish(callers)

    assert sorted(map(len, served.model.batches)) == [4]  # type: ignore[attr-defined]
    assert sorted(caller.results[0]["y"] for caller in callers) == [0.0, 2.0, 4.0, 6.0]  # type: ignore[index]


def test_many_threads_form_batches_larger_than_one_and_leave_no_thread_behind() -> None:
    served = serve(SlowModel)
    served.model.gate.set()  # type: ignore[attr-defined]
    runner = BatchingRunner(call_model, BatchSettings())
    threads_before = threading.active_count()
    labels = {"model": "slow", "version": "1.0.0"}
    count_before = REGISTRY.get_sample_value("model_service_batch_size_count", labels) or 0

    callers = [
        Caller(lambda value=value: [runner(served, items(value)) for _ in range(20)])
        for value in range(16)
    ]
    for caller in callers:
        caller.start()
    finish(callers)

    assert all(
        caller.results == [[{"y": 2.0 * value}]] * 20 for value, caller in enumerate(callers)
    )
    batches = served.model.batches  # type: ignore[attr-defined]
    assert sum(map(len, batches)) == 16 * 20
    assert max(map(len, batches)) > 1
    count_after = REGISTRY.get_sample_value("model_service_batch_size_count", labels)
    assert count_after == count_before + len(batches)
    assert threading.active_count() == threads_before


@pytest.mark.parametrize(("model_class", "batched"), [(GatedModel, True), (OptedOutModel, False)])
def test_a_model_can_opt_out_of_batching(model_class: type[MLModel], batched: bool) -> None:
    runner = BatchingRunner(call_model, BatchSettings())
    served = serve(model_class)
    served.model.gate.set()  # type: ignore[attr-defined]

    assert runner(served, items(1)) == [{"y": 2.0}]
    assert (runner._batchers[id(served)][1] is not None) is batched


def test_model_attributes_override_the_global_batch_settings() -> None:
    settings = BatchSettings.from_settings(
        {"MAX_BATCH_SIZE": 32, "MAX_BATCH_LATENCY_MS": 2, "PREDICTION_TIMEOUT_S": 5}
    )

    assert settings == BatchSettings(True, 32, 0.002, 5.0)
    assert settings.for_model(SmallBatchModel()).max_batch_size == 2
    assert not settings.for_model(OptedOutModel()).enabled


def test_a_reloaded_model_gets_a_fresh_batcher() -> None:
    runner = BatchingRunner(call_model, BatchSettings())
    first, second = serve(GatedModel), serve(GatedModel)
    for served in (first, second):
        served.model.gate.set()  # type: ignore[attr-defined]
        runner(served, items(1))

    assert runner._batchers[id(first)][1] is not runner._batchers[id(second)][1]
    del first
    assert len(runner._batchers) == 1


@pytest.fixture
def echo_app_settings() -> Iterator[dict[str, Any]]:
    yield {"MODELS": [entry(EchoModel)], "LOAD_ENTRY_POINTS": False}


@pytest.mark.parametrize("enabled", [True, False])
def test_the_app_predicts_through_the_batcher_only_when_batching_is_enabled(
    enabled: bool, echo_app_settings: dict[str, Any]
) -> None:
    app = create_app({**echo_app_settings, "BATCHING_ENABLED": enabled})
    runtime = app.extensions["model_service"]

    assert isinstance(runtime.run_prediction, BatchingRunner) is enabled
    response = app.test_client().post(
        "/api/models/echo/predict", json={"x": 1, "count": 2, "flag": True, "colour": "red"}
    )
    assert response.status_code == 200
    assert response.json["received"]["x"] == 1.0


def test_a_request_that_fills_a_batch_by_itself_does_not_queue(gated: ServedModel) -> None:
    runner = BatchingRunner(call_model, BatchSettings(max_batch_size=2))
    leader = Caller(lambda: runner(gated, items(0)))
    leader.start()
    assert gated.model.entered.wait(WAIT_S)  # type: ignore[attr-defined]

    assert runner(gated, items(1, 2)) == [{"y": 2.0}, {"y": 4.0}]  # while the leader still runs
    gated.model.gate.set()  # type: ignore[attr-defined]
    finish([leader])
    assert leader.results == [{"y": 0.0}]


GEVENT_TURNS = """
from gevent import monkey

monkey.patch_all()

import gevent

from model_service import loop_turns
from model_service.batching import Batcher, BatchSettings

batches, seen_by_background = [], []


def run(served, items):
    batches.append(list(items))
    return [item * 10 for item in items]


batcher = Batcher(run, BatchSettings())
results = {}


def connection(name, value, turn):
    # as a gevent worker's connection does after answering a request: wait for its turn, then
    # read the next request and predict
    if turn is not None:
        gevent.idle(turn)
    results[name] = batcher.predict(None, [value])


def background():
    gevent.idle(loop_turns.BACKGROUND)
    seen_by_background.append([list(batch) for batch in batches])


waiting = [gevent.spawn(connection, "b", 2, loop_turns.CONNECTION), gevent.spawn(background)]
gevent.joinall([*waiting, gevent.spawn(connection, "a", 1, None)], raise_error=True)
print(batches, results, seen_by_background)
assert results == {"a": [10], "b": [20]}, results
assert batches == [[1, 2]], batches
assert seen_by_background == [[[1, 2]]], seen_by_background
"""

ALONE_ON_ITS_WORKER = """
import os

from gevent import monkey

monkey.patch_all()

import gevent

from model_service import connection_shares, loop_turns
from model_service.batching import Batcher, BatchSettings

# a gevent worker of the launcher, holding CONNECTIONS client connections
connection_shares.add_connections(connection_shares.claim_slot(os.getpid()), CONNECTIONS)
batches = []


def run(served, items):
    batches.append(list(items))
    return items


batcher = Batcher(run, BatchSettings())


def connection(value, turn):
    if turn is not None:
        gevent.idle(turn)
    batcher.predict(None, [value])


gevent.joinall(
    [gevent.spawn(connection, 2, loop_turns.CONNECTION), gevent.spawn(connection, 1, None)],
    raise_error=True,
)
print(batches)
"""


@pytest.mark.parametrize(("connections", "batches"), [(1, "[[1], [2]]"), (2, "[[1, 2]]")])
def test_a_batch_leader_alone_on_its_worker_predicts_without_waiting_for_a_turn(
    connections: int, batches: str
) -> None:
    """The leader's turn of the loop is for the worker's other connections: a worker that
    holds only the leader's has none, and its leader predicts at once. With two connections it
    still waits for the other."""
    script = ALONE_ON_ITS_WORKER.replace("CONNECTIONS", str(connections))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == batches


def test_under_gevent_a_batch_leader_waits_for_the_connections_whose_turn_comes_first() -> None:
    """A connection that answered a request waits for its turn (``loop_turns.CONNECTION``)
    before reading the next; a leader that starts a batch meanwhile must let it queue, so their
    requests share one model call (with ``gevent.sleep(0)`` the leader went first, and two
    connections of one worker stayed out of step: batches of one). Background work (shadow
    copies) comes after both."""
    done = subprocess.run(
        [sys.executable, "-c", GEVENT_TURNS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
