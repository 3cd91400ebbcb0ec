"""Prometheus metrics at ``GET /metrics``: requests, latencies, predictions, the loaded models.

* ``model_service_requests_total``: requests answered, by ``endpoint`` (URL rule), ``model``,
  ``version`` and ``status``; ``model_service_request_duration_seconds``: their durations;
* ``model_service_predictions_total``: items (rows) predicted, by ``model`` and ``version``;
  ``model_service_prediction_duration_seconds``: validate + predict + check, per call;
* ``model_service_model_info``, ``model_service_model_load_seconds``: one series per loaded model;
  ``model_service_model_load_failures``: models that configuration named but failed to load;
* ``model_service_shadow_predictions_total``, ``..._shadow_errors_total``,
  ``..._shadow_dropped_total``: items predicted, failed (raised or timed out) and dropped (queue
  full) by shadow versions, by ``model`` and ``version`` (see :mod:`model_service.shadow`);
* ``model_service_batch_size``: items per ``predict_batch`` call, defined by the batcher;
* ``model_service_gc_pause_seconds``: garbage-collection pauses of the workers, and
  ``model_service_gc_frozen_objects`` / ``model_service_gc_threshold`` for the answering worker
  (see :mod:`model_service.garbage_collection`).

Under the launcher several gunicorn workers answer requests, so each one writes its samples to
files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, which the launcher
switches on before any metric exists) and ``/metrics`` adds up the files of every worker, whichever
worker answers the scrape. Outside the launcher (tests, ``flask run``) each app has its own
registry, served together with the process-wide default one.

The loaded-model metrics are read from the answering worker's :class:`ModelManager` at scrape
time, so they always describe what is being served.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from model_service.flask_locals import current_globals, current_request
from model_service.garbage_collection import CollectorStateCollector, record_pauses
from model_service.model_manager import ServedModel
from model_service.observability import model_of, seconds_of
from model_service.runtime import EXTENSION_KEY, ServiceRuntime
from model_service.shadow import ShadowCounters

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's own switch for multiprocess mode; the launcher sets it."""

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
"""Seconds: from a sub-millisecond cached prediction to a request near the prediction timeout."""


class ServiceMetrics:
    """The counters and histograms the app updates as it answers.

    :param registry: where to register them; ``None`` in multiprocess mode, where the samples go
        to the worker's files instead.
    """

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self._labelled: dict[tuple[Any, tuple[str, ...]], Any] = {}
        model_labels = ["model", "version"]
        self.requests = Counter(
            "model_service_requests",
            "HTTP requests answered, by endpoint (URL rule), model, version and status.",
            ["endpoint", *model_labels, "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "model_service_request_duration_seconds",
            "Time from the request reaching Flask to its response being built.",
            ["endpoint", *model_labels],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.predictions = Counter(
            "model_service_predictions",
            "Items (rows) predicted successfully, by model and version.",
            model_labels,
            registry=registry,
        )
        self.prediction_seconds = Histogram(
            "model_service_prediction_duration_seconds",
            "Time to validate, predict and check one request's items (batch waits included).",
            model_labels,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

        self.shadow_predictions = Counter(
            "model_service_shadow_predictions",
            "Items predicted by shadow versions (answers never returned), by model and version.",
            model_labels,
            registry=registry,
        )
        self.shadow_errors = Counter(
            "model_service_shadow_errors",
            "Items whose shadow prediction raised or timed out, by model and version.",
            model_labels,
            registry=registry,
        )
        self.shadow_dropped = Counter(
            "model_service_shadow_dropped",
            "Items not shadowed because the worker's shadow queue was full, by model and version.",
            model_labels,
            registry=registry,
        )

    def labelled(self, metric: Any, *values: str) -> Any:
        """``metric.labels(*values)``, remembered: prometheus-client checks the values and takes
        a lock on every call (0.8 us, four calls a prediction). The label sets are bounded
        (loaded models, URL rules, status codes), so the cache is too."""
        key = (metric, values)
        child = self._labelled.get(key)
        if child is None:
            child = self._labelled[key] = metric.labels(*values)
        return child

    def observe_request(self, status: int) -> None:
        """Count the current request (called after its response is built)."""
        state, current = current_globals(), current_request()
        rule = current.url_rule
        endpoint = rule.rule if rule is not None else "unmatched"
        model, version = model_of(state, current)
        self.labelled(self.requests, endpoint, model, version, str(status)).inc()
        self.labelled(self.request_seconds, endpoint, model, version).observe(seconds_of(state))

    def observe_prediction(self, served: ServedModel, items: int, seconds: float) -> None:
        """A :data:`~model_service.runtime.PredictionObserver`: count rows and time the call."""
        model, version = served.qualified_name, served.version
        self.labelled(self.predictions, model, version).inc(items)
        self.labelled(self.prediction_seconds, model, version).observe(seconds)


class ShadowMetrics(ShadowCounters):
    """The shadow runner's counters (:class:`~model_service.shadow.ShadowCounters`)."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self.metrics = metrics

    def predicted(self, model: str, version: str, items: int) -> None:
        self.metrics.shadow_predictions.labels(model, version).inc(items)

    def failed(self, model: str, version: str, items: int) -> None:
        self.metrics.shadow_errors.labels(model, version).inc(items)

    def dropped(self, model: str, version: str, items: int) -> None:
        self.metrics.shadow_dropped.labels(model, version).inc(items)


class LoadedModelsCollector(Collector):
    """Describes the models the runtime serves (and failed to load) when scraped."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        manager = self.runtime.manager
        info = GaugeMetricFamily(
            "model_service_model_info",
            "A loaded model version (always 1), with the class or entry point it came from.",
            labels=["model", "version", "source"],
        )
        load_seconds = GaugeMetricFamily(
            "model_service_model_load_seconds",
            "Seconds the model took to import and instantiate.",
            labels=["model", "version"],
        )
        for served in manager.served_models():
            info.add_metric([served.qualified_name, served.version, served.source], 1)
            load_seconds.add_metric([served.qualified_name, served.version], served.load_seconds)
        yield info
        yield load_seconds
        yield GaugeMetricFamily(
            "model_service_model_load_failures",
            "Models named by configuration or entry points that failed to load.",
            value=len(manager.failures),
        )


def multiprocess_directory() -> str | None:
    """The multiprocess directory when the launcher switched that mode on, else ``None``."""
    return os.environ.get(MULTIPROCESS_ENV) or None


def _exposed_registries(runtime: ServiceRuntime) -> tuple[ServiceMetrics, list[CollectorRegistry]]:
    own = CollectorRegistry(auto_describe=True)
    own.register(LoadedModelsCollector(runtime))
    own.register(CollectorStateCollector())
    if multiprocess_directory():
        MultiProcessCollector(own)
        return ServiceMetrics(registry=None), [own]
    return ServiceMetrics(registry=own), [own, REGISTRY]


def init_app(app: Flask) -> ShadowCounters:
    """Serve ``/metrics`` and count every request and prediction of ``app``; return the counters
    the shadow runner reports to."""
    runtime: ServiceRuntime = app.extensions[EXTENSION_KEY]
    metrics, registries = _exposed_registries(runtime)
    runtime.prediction_observers.append(metrics.observe_prediction)

    @app.after_request
    def count_request(response: Response) -> Response:
        metrics.observe_request(response.status_code)
        record_pauses()
        return response

    def serve_metrics() -> Response:
        """Every metric in Prometheus text format."""
        record_pauses()
        body = b"".join(generate_latest(registry) for registry in registries)
        return Response(body, content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", serve_metrics, methods=["GET"])
    return ShadowMetrics(metrics)
