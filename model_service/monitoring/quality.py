"""Live quality from predictions that received feedback: classification or regression metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from model_service.monitoring.profiles import category_key

Pair = tuple[Any, Any]
"""``(predicted, actual)`` of one labelled prediction."""


def classification_metrics(pairs: Sequence[Pair]) -> dict[str, Any]:
    """Accuracy, and precision, recall and support per class (classes compared as text)."""
    if not pairs:
        return {}
    predicted = [category_key(p) for p, _ in pairs]
    actual = [category_key(a) for _, a in pairs]
    correct = sum(p == a for p, a in zip(predicted, actual, strict=True))
    per_class = {}
    for label in sorted(set(predicted) | set(actual)):
        true_positive = sum(p == a == label for p, a in zip(predicted, actual, strict=True))
        predicted_as = predicted.count(label)
        support = actual.count(label)
        per_class[label] = {
            "precision": true_positive / predicted_as if predicted_as else None,
            "recall": true_positive / support if support else None,
            "support": support,
        }
    return {"accuracy": correct / len(pairs), "per_class": per_class}


def regression_metrics(pairs: Sequence[Pair]) -> dict[str, Any]:
    """Mean absolute error and root mean squared error."""
    if not pairs:
        return {}
    errors = [float(p) - float(a) for p, a in pairs]
    return {
        "mae": sum(abs(error) for error in errors) / len(errors),
        "rmse": math.sqrt(sum(error * error for error in errors) / len(errors)),
    }


def headline(kind: str | None, pairs: Sequence[Pair]) -> float | None:
    """The one figure charted over time: accuracy (classification) or MAE (regression)."""
    if not pairs or kind is None:
        return None
    metrics = (
        classification_metrics(pairs) if kind == "classification" else regression_metrics(pairs)
    )
    return float(metrics["accuracy"] if kind == "classification" else metrics["mae"])
