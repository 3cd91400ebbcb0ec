"""Prometheus metrics of the gRPC calls, made in each gRPC server process.

The launcher runs prometheus-client in multiprocess mode (one directory of sample files that
``/metrics`` adds up, see :mod:`model_service.metrics`); the gRPC processes inherit it, so
whichever HTTP worker answers a scrape also reports the gRPC calls. Prediction metrics
(``model_service_predictions_total``...) are counted by the runtime for gRPC calls as for REST.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from model_service.metrics import LATENCY_BUCKETS


class GrpcMetrics:
    """``model_service_grpc_requests_total{method,code}`` and
    ``model_service_grpc_request_duration_seconds{method}``.
    Made once per gRPC server process, in prometheus-client's default registry.
    """

    def __init__(self) -> None:
        self.requests = Counter(
            "model_service_grpc_requests",
            "gRPC calls answered, by method and status code.",
            ["method", "code"],
        )
        self.seconds = Histogram(
            "model_service_grpc_request_duration_seconds",
            "Time from a gRPC call reaching the servicer to its answer.",
            ["method"],
            buckets=LATENCY_BUCKETS,
        )

    def observe(self, method: str, code: str, seconds: float) -> None:
        self.requests.labels(method, code).inc()
        self.seconds.labels(method).observe(seconds)
