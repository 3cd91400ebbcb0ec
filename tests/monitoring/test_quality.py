"""Quality figures computed by hand on a known set."""

from __future__ import annotations

import math

import pytest

from model_service.monitoring.quality import classification_metrics, regression_metrics

# predicted, actual
PAIRS = [
    ("setosa", "setosa"),
    ("setosa", "setosa"),
    ("setosa", "versicolor"),
    ("versicolor", "versicolor"),
    ("versicolor", "virginica"),
    ("virginica", "virginica"),
    ("virginica", "virginica"),
    ("virginica", "versicolor"),
]


def test_accuracy_precision_and_recall_by_hand() -> None:
    metrics = classification_metrics(PAIRS)
    assert metrics["accuracy"] == pytest.approx(5 / 8)
    per_class = metrics["per_class"]
    # setosa: predicted 3 times, 2 right; actually setosa twice, both found
    assert per_class["setosa"] == {"precision": pytest.approx(2 / 3), "recall": 1.0, "support": 2}
    # versicolor: predicted twice, 1 right; actually 3 times
    assert per_class["versicolor"] == {
        "precision": 0.5,
        "recall": pytest.approx(1 / 3),
        "support": 3,
    }
    # virginica: predicted 3 times, 2 right; actually 3 times
    assert per_class["virginica"]["precision"] == pytest.approx(2 / 3)
    assert per_class["virginica"]["recall"] == pytest.approx(2 / 3)


def test_a_class_never_predicted_has_no_precision() -> None:
    metrics = classification_metrics([("a", "a"), ("a", "b")])
    assert metrics["per_class"]["b"] == {"precision": None, "recall": 0.0, "support": 1}


def test_mae_and_rmse_by_hand() -> None:
    metrics = regression_metrics([(10.0, 12.0), (5.0, 1.0), (3.0, 3.0)])
    assert metrics["mae"] == pytest.approx((2 + 4 + 0) / 3)
    assert metrics["rmse"] == pytest.approx(math.sqrt((4 + 16 + 0) / 3))


def test_no_labels_no_metrics() -> None:
    assert classification_metrics([]) == {} and regression_metrics([]) == {}
