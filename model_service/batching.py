"""Adaptive micro-batching: concurrent predictions for one model run as one ``predict_batch`` call.

scikit-learn spends most of a single-row prediction on per-call overhead (about 250 us for one
iris row against 3 us a row in a batch of 100), so a worker that serves many requests at once
gathers the items waiting for the same model and predicts them together.

The batcher is a *leader/follower* queue and owns no thread of its own:

* a caller that finds the model idle becomes the **leader** and runs at once (nothing waits at
  concurrency 1); with ``max_batch_latency_ms`` > 0 it first waits that long for more items;
* callers that arrive while a batch runs are **followers**: they queue and wait on their own
  event;
* when the leader's batch is done it hands the lead to the oldest follower, which predicts
  everything that queued meanwhile (up to ``max_batch_size`` items) in one call, and so on.

Because it only uses ``threading`` locks and events, created lazily in each worker process after
gunicorn forks, it works the same with sync, gthread and gevent workers (gevent's monkey-patching
turns them into greenlet primitives).

Per-model overrides, as optional class attributes of the :class:`~model_service.MLModel`:
``batching = False`` (opt out), ``max_batch_size = N`` and ``max_batch_latency_ms = X``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Histogram

from model_service import connection_shares, loop_turns
from model_service.errors import PredictionError, PredictionTimeout
from model_service.model_manager import ServedModel
from model_service.prediction import PredictBatch

logger = logging.getLogger(__name__)

BATCH_SIZE = Histogram(
    "model_service_batch_size",
    "Items per predict_batch call made through the batcher.",
    ["model", "version"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)


@dataclass(frozen=True)
class BatchSettings:
    """How one model's batcher gathers items (global settings, then the model's overrides)."""

    enabled: bool = True
    max_batch_size: int = 64
    max_batch_latency_s: float = 0.0
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BatchSettings:
        """Read ``BATCHING_ENABLED``, ``MAX_BATCH_SIZE``, ``MAX_BATCH_LATENCY_MS`` and
        ``PREDICTION_TIMEOUT_S``."""
        return cls(
            enabled=bool(settings.get("BATCHING_ENABLED", True)),
            max_batch_size=max(1, int(settings.get("MAX_BATCH_SIZE", 64))),
            max_batch_latency_s=max(0.0, float(settings.get("MAX_BATCH_LATENCY_MS", 0.0))) / 1000,
            timeout_s=float(settings.get("PREDICTION_TIMEOUT_S", 30.0)),
        )

    def for_model(self, model: Any) -> BatchSettings:
        """These settings with the model class's ``batching``, ``max_batch_size`` and
        ``max_batch_latency_ms`` attributes applied when it declares them."""
        latency_ms = getattr(model, "max_batch_latency_ms", None)
        return BatchSettings(
            enabled=self.enabled and bool(getattr(model, "batching", True)),
            max_batch_size=max(1, int(getattr(model, "max_batch_size", self.max_batch_size))),
            max_batch_latency_s=(
                self.max_batch_latency_s if latency_ms is None else max(0.0, latency_ms) / 1000
            ),
            timeout_s=self.timeout_s,
        )


@dataclass(eq=False)
class _Call:
    """One caller's items and, once predicted, its results or its error."""

    items: list[Any]
    arrived: float = field(default_factory=time.monotonic)
    wake: threading.Event | None = None  # only followers wait, so only they get one
    finished: bool = False
    leads: bool = False
    generation: int = 0
    results: list[Any] | None = None
    error: BaseException | None = None

    def finish(self, results: list[Any] | None, error: BaseException | None) -> None:
        self.results, self.error, self.finished = results, error, True
        if self.wake is not None:
            self.wake.set()

    def outcome(self) -> list[Any]:
        if self.error is not None:
            raise self.error
        if self.results is None:
            raise PredictionError("The batcher lost this call's results.")
        return self.results


class Batcher:
    """Gathers concurrent calls for one served model into shared ``predict_batch`` calls.

    :param run: predicts a list of validated items (the un-batched path, e.g.
        :func:`model_service.prediction.call_model`); raises :class:`PredictionError`.
    :param settings: this model's :class:`BatchSettings`.
    :param observe_size: called with the item count of every ``predict_batch`` call.
    """

    def __init__(
        self,
        run: PredictBatch,
        settings: BatchSettings,
        observe_size: Callable[[float], None] = lambda size: None,
    ) -> None:
        self.run = run
        self.settings = settings
        self.observe_size = observe_size
        self._lock = threading.Lock()
        self._queue_grew = threading.Condition(self._lock)
        self._queue: deque[_Call] = deque()
        self._queued_items = 0
        self._running = False
        self._started = 0.0  # when the current leader took over, to tell a hung model
        self._generation = 0  # bumped when a hung batch is abandoned
        self._yield_to_greenlets = _greenlet_yield()

    def predict(self, served: ServedModel, items: list[Any]) -> list[Any]:
        """Predict ``items`` for one caller, sharing the model call with concurrent callers.

        :raises PredictionError: the model failed on this caller's items.
        :raises PredictionTimeout: no result within ``PREDICTION_TIMEOUT_S``.
        """
        call = _Call(items)
        with self._lock:
            if self._running and self._hung():
                self._abandon_hung_batch()
            if not self._running:
                self._take_lead(call)
            else:
                call.wake = threading.Event()
                self._queue.append(call)
                self._queued_items += len(items)
                if self.settings.max_batch_latency_s:
                    self._queue_grew.notify()  # a leader may be waiting for a fuller batch
        if call.leads or self._wait(call):
            remaining = self.settings.timeout_s - (time.monotonic() - call.arrived)
            with self._leader_deadline(remaining):
                self._lead(served, call)
            if time.monotonic() - call.arrived > self.settings.timeout_s:
                raise self._timeout()
        return call.outcome()

    # --- followers ----------------------------------------------------------------------------

    def _wait(self, call: _Call) -> bool:
        """Wait as a follower; return True when handed the lead, raise on timeout."""
        if call.wake is not None and call.wake.wait(self.settings.timeout_s):
            return call.leads
        with self._lock:
            if call.leads or call.finished:
                return call.leads
            if call in self._queue:
                self._queue.remove(call)
                self._queued_items -= len(call.items)
            if self._queue and self._hung():
                # The batch ahead is stuck in the model: move the queue on without it.
                self._abandon_hung_batch()
                self._promote()
        raise self._timeout()

    def _leader_deadline(self, remaining: float) -> contextlib.AbstractContextManager[Any]:
        """Under gevent, interrupt a leader whose model call outlives the caller's timeout.

        ``remaining`` is what is left of the caller's own ``PREDICTION_TIMEOUT_S``: a follower
        promoted to lead after waiting has less time than one that found the model idle.

        A hung model that waits cooperatively (I/O, sleep) is interrupted with a 504 for the
        leader's own client, and the queue behind it moves on. A thread cannot be interrupted:
        under gthread the leader's client waits for the model, and later callers time out.
        """
        if self._yield_to_greenlets is None:
            return contextlib.nullcontext()
        from gevent import Timeout

        return Timeout(max(remaining, 0.001), self._timeout())

    def _timeout(self) -> PredictionTimeout:
        return PredictionTimeout(
            f"No prediction within {self.settings.timeout_s:g} s; the model is overloaded or "
            "hung. Retry later."
        )

    # --- leaders (the lock is held in the methods that say so) --------------------------------

    def _hung(self) -> bool:
        return time.monotonic() - self._started > self.settings.timeout_s

    def _abandon_hung_batch(self) -> None:
        """Stop waiting for a batch stuck in the model (lock held); its thread stays blocked."""
        logger.error(
            "A batch has run for more than %g s: the model looks hung; later calls no longer "
            "wait for it.",
            self.settings.timeout_s,
        )
        self._generation += 1
        self._running = False

    def _take_lead(self, call: _Call) -> None:
        """Make ``call`` the leader of the next batch (lock held)."""
        self._running = True
        self._started = time.monotonic()
        call.leads, call.generation = True, self._generation

    def _promote(self) -> None:
        """Hand the lead to the oldest follower (lock held)."""
        call = self._queue.popleft()
        self._queued_items -= len(call.items)
        self._take_lead(call)
        if call.wake is not None:
            call.wake.set()

    def _lead(self, served: ServedModel, first: _Call) -> None:
        batch = [first]
        try:
            batch = self._gather(first)
            self._run_batch(served, batch)
        except BaseException as error:
            for call in batch[1:]:
                if not call.finished:
                    stopped = error if isinstance(error, PredictionTimeout) else None
                    call.finish(None, stopped or _interrupted(served, error))
            raise
        finally:
            self._hand_over(first.generation)

    def _gather(self, first: _Call) -> list[_Call]:
        """The leader's batch: itself plus queued calls, up to ``max_batch_size`` items."""
        limit = self.settings.max_batch_size
        if (
            self._yield_to_greenlets is not None
            and not self.settings.max_batch_latency_s
            and not connection_shares.holds_one_connection()
        ):
            # Under gevent nothing else runs while the leader predicts: let every connection
            # with a request ready read it and queue first (loop_turns.BATCH_LEADER). A worker
            # holding only the leader's connection has none to wait for (see
            # model_service.workers for what skipping the turns saves at concurrency 1).
            self._yield_to_greenlets()
        with self._lock:
            if self.settings.max_batch_latency_s > 0:
                self._queue_grew.wait_for(
                    lambda: len(first.items) + self._queued_items >= limit,
                    self.settings.max_batch_latency_s,
                )
            batch, size = [first], len(first.items)
            while self._queue and size + len(self._queue[0].items) <= limit:
                call = self._queue.popleft()
                self._queued_items -= len(call.items)
                size += len(call.items)
                batch.append(call)
        return batch

    def _run_batch(self, served: ServedModel, batch: list[_Call]) -> None:
        items = [item for call in batch for item in call.items]
        self.observe_size(len(items))
        try:
            results = self.run(served, items)
        except PredictionError as error:
            if len(batch) == 1:
                batch[0].finish(None, error)
                return
            # One bad item must not fail the others: predict each caller's items on its own.
            for call in batch:
                self._run_batch(served, [call])
            return
        start = 0
        for call in batch:
            call.finish(results[start : start + len(call.items)], None)
            start += len(call.items)

    def _hand_over(self, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return  # this batch was abandoned as hung; a newer leader owns the queue
            if self._queue:
                self._promote()
            else:
                self._running = False


class BatchingRunner:
    """The app's ``run_prediction``: one :class:`Batcher` per served model, made on first use.

    Batchers are created lazily in each worker process (never in the gunicorn master that preloads
    the models, so no lock crosses a fork) and keyed on the :class:`ServedModel` object itself, so
    a model reloaded through the admin API gets a fresh batcher.

    :param run: the un-batched prediction path the batchers call.
    :param settings: the global :class:`BatchSettings`.
    """

    def __init__(self, run: PredictBatch, settings: BatchSettings) -> None:
        self.run = run
        self.settings = settings
        self._batchers: dict[int, tuple[weakref.ref[ServedModel], Batcher | None]] = {}
        _RUNNERS.add(self)

    def forget_batchers(self) -> None:
        """Drop every batcher (their locks may be held by threads that do not exist after a
        fork); the next call makes fresh ones."""
        self._batchers.clear()

    def __call__(self, served: ServedModel, items: list[Any]) -> list[Any]:
        """Predict ``items`` (one request's validated items) through the model's batcher."""
        entry = self._batchers.get(id(served))
        if entry is None or entry[0]() is not served:
            entry = self._new_entry(served)
        batcher = entry[1]
        if batcher is None:
            return self.run(served, items)
        if len(items) >= batcher.settings.max_batch_size:
            # A request that fills a batch by itself gains nothing by queuing.
            batcher.observe_size(len(items))
            return self.run(served, items)
        return batcher.predict(served, items)

    def _new_entry(self, served: ServedModel) -> tuple[weakref.ref[ServedModel], Batcher | None]:
        key = id(served)
        settings = self.settings.for_model(served.model)
        observe_size = BATCH_SIZE.labels(served.qualified_name, served.version).observe
        batcher = Batcher(self.run, settings, observe_size) if settings.enabled else None
        # A concurrent first call may build a second batcher; the last one stored wins.
        entry = (weakref.ref(served, lambda _: self._batchers.pop(key, None)), batcher)
        self._batchers[key] = entry
        return entry


_RUNNERS: weakref.WeakSet[BatchingRunner] = weakref.WeakSet()


def _forget_all_batchers() -> None:
    for runner in list(_RUNNERS):
        runner.forget_batchers()


os.register_at_fork(after_in_child=_forget_all_batchers)


def prediction_runner(run: PredictBatch, settings: Mapping[str, Any]) -> PredictBatch:
    """``run`` through per-model batchers when ``BATCHING_ENABLED`` is set, else ``run`` itself."""
    batch_settings = BatchSettings.from_settings(settings)
    if not batch_settings.enabled:
        return run
    return BatchingRunner(run, batch_settings)


def _greenlet_yield() -> Callable[[], None] | None:
    """The batch leader's wait for the ready connections, when this process runs on gevent's
    monkey-patched threading: ``gevent.idle`` at :data:`loop_turns.BATCH_LEADER` (the loop polls
    the sockets; ``sleep(0)`` did not, see :mod:`model_service.loop_turns`).

    Threads need no yield (the interpreter switches them every few milliseconds and while the
    model runs native code); ``time.sleep(0)`` there would hand the core to another process.
    """
    try:
        from gevent import idle, monkey
    except ImportError:
        return None
    if not monkey.is_module_patched("threading"):
        return None
    return functools.partial(idle, loop_turns.BATCH_LEADER)


def _interrupted(served: ServedModel, error: BaseException) -> PredictionError:
    return PredictionError(
        f"The batch for model {served.qualified_name} {served.version} was interrupted "
        f"({type(error).__name__}); retry the request."
    )
