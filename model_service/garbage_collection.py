"""Garbage collection for a serving process: the start-up heap frozen, young collections rarer,
no cycles made per request, and every pause measured.

CPython's cyclic collector stops the whole process while it runs, and a full (generation-2)
collection walks every object the process holds: the models, numpy, scikit-learn, Flask. Measured
in this service's workers under load, those collections took 25-190 ms several times a minute, and
under gevent a pause stalls every request of the worker. Two things remove them:

* **Freezing** (:func:`gc.freeze`) moves every object alive at that moment into a permanent
  generation that no collection walks again. The launcher freezes once in the master, after the
  models are loaded and warmed (so the workers share those pages copy-on-write, unmarked by the
  collector), and once more in each worker after its warm-up, when what a worker creates lazily
  (imports on first use, compiled templates, caches) exists too. Later collections only walk what
  requests create.
* **A higher first threshold** (``GC_THRESHOLDS``): the default of 700 allocations makes the
  collector run hundreds of times a second under load, each time walking the objects of every
  request in flight and promoting them to older generations, where they cost more later. Most of
  a request's objects are freed by reference counting before a higher threshold is reached.
* **No cycles per request**: what reference counting frees never reaches a collection, so a
  request that leaves no reference cycle adds nothing to the next one. werkzeug's URL matcher
  left one per request; :mod:`model_service.url_matching` remembers matches instead, and a
  worker under load now collects about once after start-up.

Every collection in a worker is timed into ``model_service_gc_pause_seconds{generation}``, and
``model_service_gc_frozen_objects`` and ``model_service_gc_threshold{generation}`` report, for
the worker that answers the scrape, what this module applied.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

GC_PAUSE = Histogram(
    "model_service_gc_pause_seconds",
    "Time the process stood still in one garbage collection, by generation collected.",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)


@dataclass(frozen=True)
class CollectorSettings:
    """``GC_FREEZE`` and ``GC_THRESHOLDS`` from the settings."""

    freeze: bool = True
    thresholds: tuple[int, int, int] | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> CollectorSettings:
        thresholds: Sequence[int] | None = settings.get("GC_THRESHOLDS")
        if thresholds is not None and len(thresholds) != 3:
            raise ValueError(
                f"GC_THRESHOLDS must list three numbers (generations 0, 1, 2), not {thresholds!r}."
            )
        return cls(
            freeze=bool(settings.get("GC_FREEZE", True)),
            thresholds=None if thresholds is None else (*map(int, thresholds),),  # type: ignore[arg-type]
        )

    def apply(self) -> None:
        """Set the thresholds (when configured); they are inherited by forked workers."""
        if self.thresholds is not None:
            gc.set_threshold(*self.thresholds)

    def freeze_heap(self) -> int:
        """Collect, then freeze what is left (when ``GC_FREEZE``); return the frozen count."""
        if self.freeze:
            gc.collect()
            gc.freeze()
        return gc.get_freeze_count()


class PauseTimer:
    """A :data:`gc.callbacks` entry that times each collection; :meth:`flush` records them.

    The callback runs wherever an allocation triggered the collection, possibly inside
    prometheus-client's own lock (which is not re-entrant), so it only appends to a list; the
    pauses reach :data:`GC_PAUSE` when :meth:`flush` runs after a request.
    """

    def __init__(self) -> None:
        self._started = 0.0
        self._pending: list[tuple[int, float]] = []
        self._observe = [GC_PAUSE.labels(str(generation)).observe for generation in range(3)]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._pending.append((info["generation"], time.perf_counter() - self._started))

    def flush(self) -> None:
        """Record the pauses timed since the last call."""
        pending = self._pending
        while pending:
            generation, seconds = pending.pop()
            self._observe[generation](seconds)


_timer: PauseTimer | None = None


def time_pauses() -> None:
    """Time every later collection of this process (a worker, once it has forked)."""
    global _timer
    if _timer is None:
        _timer = PauseTimer()
        gc.callbacks.append(_timer)


def record_pauses() -> None:
    """Record the pauses timed so far (cheap when there are none)."""
    if _timer is not None:
        _timer.flush()


class CollectorStateCollector(Collector):
    """What the answering process's collector runs with, read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "model_service_gc_frozen_objects",
            "Objects frozen out of garbage collection in the process that answered this scrape.",
            value=gc.get_freeze_count(),
        )
        threshold = GaugeMetricFamily(
            "model_service_gc_threshold",
            "Allocations (generation 0) or younger collections (1, 2) that trigger a collection.",
            labels=["generation"],
        )
        for generation, value in enumerate(gc.get_threshold()):
            threshold.add_metric([str(generation)], value)
        yield threshold
