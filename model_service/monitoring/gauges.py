"""Prometheus gauges of drift and live quality, refreshed by the capture writer periodically
(``MONITORING_GAUGE_REFRESH_S``), never per scrape, so alerts can fire on drift.

Under gunicorn every worker refreshes from the shared store; multiprocess mode keeps the most
recent value (``mostrecent``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import Gauge

PREDICTION_FIELD = "(prediction)"

DRIFT_PSI = Gauge(
    "model_service_drift_psi",
    "Population stability index of a field (or of the prediction) over MONITORING_GAUGE_WINDOW.",
    ["model", "version", "field"],
    multiprocess_mode="mostrecent",
)
QUALITY = Gauge(
    "model_service_quality",
    "Live quality over MONITORING_GAUGE_WINDOW: accuracy, or mae and rmse.",
    ["model", "version", "metric"],
    multiprocess_mode="mostrecent",
)
LABELLED = Gauge(
    "model_service_labelled_predictions",
    "Predictions with feedback over MONITORING_GAUGE_WINDOW.",
    ["model", "version"],
    multiprocess_mode="mostrecent",
)

VERSION_AGREEMENT = Gauge(
    "model_service_version_agreement",
    "Share of shadow items whose label agrees with the primary version's answer, over "
    "MONITORING_GAUGE_WINDOW (classification models with shadow traffic).",
    ["model", "version"],
    multiprocess_mode="mostrecent",
)


def publish_gauges(summaries: Sequence[dict[str, Any]]) -> None:
    """Set the gauges from monitoring summaries (see :meth:`Monitor.summary`)."""
    for summary in summaries:
        labels = (summary["model"], summary["version"])
        drift = summary["drift"]
        fields = {**drift["features"], PREDICTION_FIELD: drift["prediction"]}
        for field, figures in fields.items():
            if figures["psi"] is not None:
                DRIFT_PSI.labels(*labels, field).set(figures["psi"])
        quality = summary["quality"]
        LABELLED.labels(*labels).set(quality["labelled"])
        for metric in ("accuracy", "mae", "rmse"):
            value = quality["metrics"].get(metric)
            if value is not None:
                QUALITY.labels(*labels, metric).set(value)


def publish_agreement(model: str, versions: dict[str, Any]) -> None:
    """Set the agreement gauge of each compared version (see :func:`.compare_versions`)."""
    for entry in versions["compared"]:
        if entry["agreement"] is not None:
            VERSION_AGREEMENT.labels(model, entry["version"]).set(entry["agreement"])
