"""Figures over a window of captured rows: drift per field, quality, latency, a timeline.

Pure functions of the rows the store returned and the model's :class:`ModelReference`; the
:class:`~model_service.monitoring.monitor.Monitor` fetches the rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import numpy as np

from model_service.monitoring.drift import drift_status, population_stability_index, shares
from model_service.monitoring.profiles import FieldProfile
from model_service.monitoring.quality import (
    classification_metrics,
    headline,
    regression_metrics,
)
from model_service.monitoring.reference import ModelReference


def latency_percentiles(latencies: Sequence[float]) -> dict[str, float | None]:
    """p50 and p99 in milliseconds (None without data)."""
    if not latencies:
        return {"p50": None, "p99": None}
    p50, p99 = np.percentile(np.asarray(latencies, dtype=float), [50, 99])
    return {"p50": round(float(p50), 3), "p99": round(float(p99), 3)}


def field_drift(
    profile: FieldProfile, values: Sequence[Any], watch: float, drift: float
) -> dict[str, Any]:
    """``{"psi", "status", "out_of_range_rate"}`` of ``values`` against ``profile``."""
    counts, binned, out_of_range = profile.count(values)
    psi = population_stability_index(profile.reference_counts, counts)
    return {
        "psi": None if psi is None else round(psi, 6),
        "status": drift_status(psi, watch, drift),
        "out_of_range_rate": out_of_range / binned if binned else None,
    }


def drift_report(
    reference: ModelReference,
    inputs: Sequence[dict[str, Any]],
    predictions: Sequence[Any],
    watch: float,
    drift: float,
) -> dict[str, Any]:
    """Drift of every profiled input field and of the prediction."""
    features = {
        name: field_drift(profile, [item.get(name) for item in inputs], watch, drift)
        for name, profile in reference.fields.items()
    }
    prediction: dict[str, Any] = {"psi": None, "status": drift_status(None, watch, drift)}
    if reference.prediction is not None:
        values = [reference.predicted_value(result) for result in predictions]
        found = field_drift(reference.prediction, values, watch, drift)
        prediction = {"psi": found["psi"], "status": found["status"]}
    return {"features": features, "prediction": prediction}


def labelled_pairs(reference: ModelReference, rows: Sequence[Any]) -> list[tuple[Any, Any]]:
    """``(predicted, actual)`` of rows with ``prediction`` and ``actual`` attributes."""
    return [(reference.predicted_value(row.prediction), row.actual) for row in rows]


def quality_report(reference: ModelReference, pairs: Sequence[tuple[Any, Any]]) -> dict[str, Any]:
    """``{"labelled", "kind", "metrics"}`` for the labelled predictions of a window."""
    kind = reference.quality_kind
    if kind == "classification":
        metrics = classification_metrics(pairs)
    elif kind == "regression":
        metrics = regression_metrics(pairs)
    else:
        metrics = {}
    return {"labelled": len(pairs), "kind": kind, "metrics": metrics}


def histogram(profile: FieldProfile, values: Sequence[Any]) -> dict[str, Any]:
    """The profile's bins with the reference's and the live values' shares."""
    counts, _, _ = profile.count(values)
    return {
        "kind": profile.kind,
        "bins": list(profile.labels),
        "reference": shares(profile.reference_counts),
        "live": shares(counts),
    }


def timeline(
    start: float,
    end: float,
    buckets: int,
    rows: Sequence[Any],
    error_times: Sequence[float],
    labelled: Sequence[tuple[float, Any, Any]],
    quality_kind: str | None,
) -> list[dict[str, Any]]:
    """Split ``[start, end]`` into ``buckets`` equal spans with the figures of each.

    :param rows: captures with ``created`` and ``latency_ms`` attributes.
    :param labelled: ``(created, predicted, actual)`` of labelled captures.
    """
    buckets = max(1, buckets)
    width = max(end - start, 1e-6) / buckets

    def slot(moment: float) -> int:
        return min(buckets - 1, max(0, int((moment - start) / width)))

    latencies: list[list[float]] = [[] for _ in range(buckets)]
    errors = [0] * buckets
    pairs: list[list[tuple[Any, Any]]] = [[] for _ in range(buckets)]
    for row in rows:
        latencies[slot(row.created)].append(row.latency_ms)
    for moment in error_times:
        errors[slot(moment)] += 1
    for moment, predicted, actual in labelled:
        pairs[slot(moment)].append((predicted, actual))
    result = []
    for index in range(buckets):
        percentiles = latency_percentiles(latencies[index])
        result.append(
            {
                "start": _iso(start + index * width),
                "end": _iso(start + (index + 1) * width),
                "predictions": len(latencies[index]),
                "errors": errors[index],
                "p50_ms": percentiles["p50"],
                "p99_ms": percentiles["p99"],
                "labelled": len(pairs[index]),
                "quality": headline(quality_kind, pairs[index]),
            }
        )
    return result


def _iso(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).isoformat(timespec="seconds")
