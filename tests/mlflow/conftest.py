"""Fixtures for the MLflow adapter: models saved by the real MLflow library, and an app with them.

The tests need the ``mlflow`` extra, which ``make test`` installs; each module skips, saying so,
without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from model_service import create_app
from tests.mlflow import saved_models


@pytest.fixture(scope="session")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every test model, saved once per run: ``{"classifier", "forest", "regressor",
    "tensor", "unsigned"}`` -> its MLflow directory."""
    root = tmp_path_factory.mktemp("mlflow-models")
    return {
        "classifier": saved_models.save_iris_classifier(root),
        "forest": saved_models.save_iris_forest(root),
        "regressor": saved_models.save_rentals_regressor(root),
        "tensor": saved_models.save_iris_tensor(root),
        "unsigned": saved_models.save_without_signature(root),
    }


def mlflow_settings(saved: dict[str, Path], **extra: Any) -> dict[str, Any]:
    """Testing settings serving the classifier, the regressor and the (trusted) forest."""
    return {
        "TESTING": True,
        "MODELS": [{"mlflow_model": str(saved["classifier"]), "qualified_name": "iris"}],
        "MLFLOW_MODELS": [str(saved["regressor"]), str(saved["forest"])],
        "MLFLOW_TRUSTED_TYPES": [saved_models.TREE_TYPE],
        "LOAD_ENTRY_POINTS": False,
        "BATCHING_ENABLED": False,
        **extra,
    }


@pytest.fixture(scope="module")
def mlflow_app(saved: dict[str, Path]) -> Iterator[Flask]:
    yield create_app(mlflow_settings(saved))


@pytest.fixture
def mlflow_client(mlflow_app: Flask) -> FlaskClient:
    return mlflow_app.test_client()
