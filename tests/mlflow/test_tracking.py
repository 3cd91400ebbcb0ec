"""``runs:/`` and ``models:/`` URIs from a local tracking store; the run's record in the card."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model_service.model_manager import ModelManager
from model_service.settings import load_settings, model_entries
from tests.mlflow import saved_models

mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")


@pytest.fixture
def logged_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A run in a file tracking store that logged a metric, a parameter and a registered model."""
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    # MLflow 3 keeps its file store only for those who ask for it (SQLite needs SQLAlchemy).
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    tracking_uri = (tmp_path / "mlruns").as_uri()
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    features, species = saved_models.iris_frame()
    try:
        mlflow.set_experiment("iris")
        with mlflow.start_run() as run:
            model = LogisticRegression(C=0.5, max_iter=500).fit(features, species)
            mlflow.log_param("C", 0.5)
            mlflow.log_metric("accuracy", 0.96)
            mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(features, model.predict(features)),
                input_example=features.head(2),
                registered_model_name="flowers",
            )
        yield {"tracking_uri": tracking_uri, "run_id": run.info.run_id}
    finally:
        mlflow.set_tracking_uri(previous)


def load(entries: list[dict[str, Any]]) -> ModelManager:
    manager = ModelManager(strict=True)
    manager.load(entries, discover_entry_points=False)
    return manager


def test_a_registered_version_is_served_with_the_runs_metrics(logged_run: dict[str, str]) -> None:
    settings = {
        **load_settings("config.TestingConfig"),
        "MODELS": [],
        "MLFLOW_MODELS": ["models:/flowers/1"],
        "MLFLOW_TRACKING_URI": logged_run["tracking_uri"],
    }

    served = load(model_entries(settings)).get_model("flowers")

    assert served.version == "1.0.0"
    assert served.model_card["metrics"] == {"accuracy": 0.96}
    assert served.model_card["parameters"] == {"C": "0.5"}
    assert served.model_card["saved_model"]["run_id"] == logged_run["run_id"]


def test_a_run_artifact_is_served_by_its_uri(logged_run: dict[str, str]) -> None:
    entry = {
        "mlflow_model": f"runs:/{logged_run['run_id']}/model",
        "tracking_uri": logged_run["tracking_uri"],
        "qualified_name": "from_run",
    }

    served = load([entry]).get_model("from_run")

    assert served.model.predict(served.example_input)["prediction"] in saved_models.IRIS_SPECIES
