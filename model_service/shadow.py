"""Shadow traffic: copies of requests' items predicted by other versions after the answer is sent.

Each worker holds a bounded queue (``SHADOW_QUEUE_SIZE`` items; a copy that does not fit is
dropped and counted) and one background runner that predicts the queued items in batches of up to
``SHADOW_BATCH_SIZE`` per version. Under gevent (threading monkey-patched) the runner is a
greenlet that yields between batches, so it never holds the event loop for long; under the sync
and gthread workers it is a daemon thread. Nothing a shadow does reaches a client: an exception is
counted and logged once per burst of failures, a prediction still running after
``SHADOW_TIMEOUT_S`` is cut (a ``gevent.Timeout``; in threads the runner stops waiting for it)
and counted. Each result is captured with decision ``shadow``, the primary's request id and the
items in the same order, so the comparison can pair them.

Counters: ``model_service_shadow_predictions_total``, ``..._errors_total`` and
``..._dropped_total`` (items, by ``model`` and ``version``).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask

from model_service import loop_turns, prediction
from model_service.errors import ModelNotFound
from model_service.model_manager import ServedModel
from model_service.routing import SHADOW
from model_service.runtime import EXTENSION_KEY, ServiceRuntime

logger = logging.getLogger(__name__)

SHADOW_KEY = "model_service.shadow"


@dataclass(frozen=True)
class ShadowJob:
    """One request's items, to be predicted by one shadow version."""

    model: str
    version: str
    items: Sequence[Any]
    request_id: str
    entry_point: str


class ShadowCounters:
    """What the runner reports; the metrics module supplies the Prometheus counters."""

    def predicted(self, model: str, version: str, items: int) -> None:
        """``items`` predicted by a shadow version."""

    def failed(self, model: str, version: str, items: int) -> None:
        """``items`` whose shadow prediction raised or timed out."""

    def dropped(self, model: str, version: str, items: int) -> None:
        """``items`` not shadowed because the queue was full (or the worker exited)."""


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return False
    return bool(monkey.is_module_patched("threading"))


class ShadowRunner:
    """The queue and background runner of one worker (see the module docstring).

    :param resolve: finds the served model of a (name, version), at the time of the prediction.
    :param capture: the runtime's capture hook, or ``None`` when capture is off.
    """

    def __init__(
        self,
        resolve: Callable[[str, str], ServedModel],
        capture: Any,
        counters: ShadowCounters,
        *,
        queue_size: int = 1000,
        batch_size: int = 32,
        timeout: float = 5.0,
    ) -> None:
        self.resolve = resolve
        self.capture = capture
        self.counters = counters
        self.queue_size = queue_size
        self.batch_size = max(1, batch_size)
        self.timeout = timeout
        self._jobs: deque[ShadowJob] = deque()
        self._queued_items = 0
        self._pid = 0
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._runner: threading.Thread | None = None
        self._failing: set[tuple[str, str]] = set()
        self._hung: dict[tuple[str, str], threading.Thread] = {}
        self._closed = False

    # --- request side ---------------------------------------------------------------------

    def submit(
        self,
        model: str,
        versions: Sequence[str],
        items: Sequence[Any],
        request_id: str,
        entry_point: str,
    ) -> None:
        """Queue a copy of ``items`` for each version; drop (and count) what does not fit."""
        self._ensure_runner()
        count = len(items)
        for version in versions:
            with self._lock:
                fits = not self._closed and self._queued_items + count <= self.queue_size
                if fits:
                    self._jobs.append(ShadowJob(model, version, items, request_id, entry_point))
                    self._queued_items += count
            if not fits:
                self.counters.dropped(model, version, count)
        self._wake.set()

    def _ensure_runner(self) -> None:
        """Start the runner in this process. After a fork (the runner was made in the preloading
        master) the queue and the synchronisation objects are made again: the worker's
        ``threading`` may be gevent's by now, and the master's jobs are not the worker's."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._wake = threading.Event()
            self._lock = threading.Lock()
            self._jobs.clear()
            self._queued_items = 0
            self._runner = None
        if self._runner is not None and self._runner.is_alive():
            return
        with self._lock:
            if self._runner is None or not self._runner.is_alive():
                self._runner = threading.Thread(
                    target=self._run, name="model-service-shadow", daemon=True
                )
                self._runner.start()

    # --- runner side ----------------------------------------------------------------------

    def pending(self) -> int:
        """Items queued and not yet predicted."""
        return self._queued_items

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            while self._when_idle() and self.run_once():
                pass

    def _when_idle(self) -> bool:
        """Under gevent, wait until the worker's event loop has nothing else to run: a shadow
        batch starts only between the requests, never ahead of one that is ready (when none is
        ever idle, the queue fills and copies are dropped and counted, not answers delayed).
        Threads are scheduled by the OS; there, only yield."""
        if _gevent_patched():
            import gevent

            gevent.idle(loop_turns.BACKGROUND)
        else:
            time.sleep(0)
        return True

    def run_once(self) -> bool:
        """Predict one batch of one version; False when the queue is empty."""
        batch = self._take_batch()
        if not batch:
            return False
        first = batch[0]
        items = [item for job in batch for item in job.items]
        try:
            served = self.resolve(first.model, first.version)
            started = time.perf_counter()
            results = self._predict(served, items, (first.model, first.version))
            seconds = time.perf_counter() - started
        except Exception as error:
            self._failed(first, len(items), error)
            return True
        self._failing.discard((first.model, first.version))
        self.counters.predicted(first.model, first.version, len(items))
        if self.capture is not None:
            start = 0
            for job in batch:
                end = start + len(job.items)
                self.capture(
                    served,
                    job.items,
                    results[start:end],
                    seconds,
                    decision=SHADOW,
                    request_id=job.request_id,
                    entry_point=job.entry_point,
                )
                start = end
        return True

    def _take_batch(self) -> list[ShadowJob]:
        """The oldest job and the following jobs of the same version, up to the batch size."""
        with self._lock:
            if not self._jobs:
                return []
            first = self._jobs.popleft()
            batch, size, kept = [first], len(first.items), deque[ShadowJob]()
            while self._jobs and size < self.batch_size:
                job = self._jobs.popleft()
                same = (job.model, job.version) == (first.model, first.version)
                if same and size + len(job.items) <= self.batch_size:
                    batch.append(job)
                    size += len(job.items)
                else:
                    kept.append(job)
            self._jobs.extendleft(reversed(kept))
            self._queued_items -= size
        return batch

    def _predict(self, served: ServedModel, items: list[Any], key: tuple[str, str]) -> list[Any]:
        if _gevent_patched():
            import gevent

            with gevent.Timeout(self.timeout, TimeoutError):
                return prediction.predict(served, items, True)
        # a thread cannot be stopped: while a version's last call still hangs, its next batches
        # fail at once instead of piling up threads
        hung = self._hung.get(key)
        if hung is not None and hung.is_alive():
            raise TimeoutError("an earlier call of this version has not returned yet")
        outcome: list[Any] = []
        done = threading.Event()

        def call() -> None:
            try:
                outcome.append(prediction.predict(served, items, True))
            except BaseException as error:  # handed over to the runner
                outcome.append(error)
            finally:
                done.set()

        caller = threading.Thread(target=call, name="model-service-shadow-call", daemon=True)
        caller.start()
        if not done.wait(self.timeout):
            self._hung[key] = caller
            raise TimeoutError(f"no answer within {self.timeout} s")
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return list(outcome[0])

    def _failed(self, job: ShadowJob, items: int, error: Exception) -> None:
        self.counters.failed(job.model, job.version, items)
        key = (job.model, job.version)
        if key not in self._failing:  # once per burst: again only after a success
            self._failing.add(key)
            if isinstance(error, ModelNotFound):
                reason = "the version is not loaded"
            else:
                reason = f"{type(error).__name__}: {error}"
            logger.error(
                "Shadow predictions of %s %s fail (%s); the clients are not affected",
                job.model,
                job.version,
                reason,
            )

    # --- exit -----------------------------------------------------------------------------

    def close(self, timeout: float = 0.0) -> int:
        """Stop taking copies; predict what is queued for up to ``timeout`` seconds, then drop
        (and count) the rest. Returns the items dropped. Never blocks longer than ``timeout``
        plus one batch's ``SHADOW_TIMEOUT_S``."""
        self._closed = True
        self._wake.set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.run_once():
            pass
        dropped = 0
        with self._lock:
            jobs, self._jobs, self._queued_items = list(self._jobs), deque(), 0
        for job in jobs:
            self.counters.dropped(job.model, job.version, len(job.items))
            dropped += len(job.items)
        return dropped


def init_app(app: Flask, counters: ShadowCounters) -> ShadowRunner:
    """Give the app's runtime a shadow runner (made before the fork; the thread or greenlet
    starts in each worker with its first shadowed request)."""
    runtime: ServiceRuntime = app.extensions[EXTENSION_KEY]
    runner = ShadowRunner(
        lambda name, version: runtime.manager.get_model(name, version),
        runtime.capture,
        counters,
        queue_size=int(app.config.get("SHADOW_QUEUE_SIZE", 1000)),
        batch_size=int(app.config.get("SHADOW_BATCH_SIZE", 32)),
        timeout=float(app.config.get("SHADOW_TIMEOUT_S", 5.0)),
    )
    runtime.shadow = runner
    app.extensions[SHADOW_KEY] = runner
    atexit.register(_drop_at_exit, weakref.ref(runner))
    return runner


def _drop_at_exit(runner: weakref.ref[ShadowRunner]) -> None:
    """At interpreter exit (a worker's ``sys.exit``), count what is still queued as dropped
    without predicting it, so shutdown never waits on a shadow (:func:`close_on_exit` drains)."""
    alive = runner()
    if alive is not None and alive.pending():
        alive.close(timeout=0)


def close_on_exit(app: Any, timeout: float = 2.0) -> int:
    """For gunicorn's ``worker_exit`` (before monitoring's flush): drain for up to ``timeout``
    seconds, then drop and count the rest."""
    runner: ShadowRunner | None = getattr(app, "extensions", {}).get(SHADOW_KEY)
    if runner is None:
        return 0
    dropped = runner.close(timeout)
    if dropped:
        logger.warning("Shadow traffic: %d queued item(s) dropped at worker exit", dropped)
    return dropped
