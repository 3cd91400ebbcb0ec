"""The MLModel contract and the artifact checks model packages rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sklearn
from schema import Schema
from sklearn.dummy import DummyClassifier

from model_service.artifacts import artifact_record_path, load_artifact, save_artifact
from model_service.errors import ModelLoadError
from model_service.ml_model import MLModel
from tests.fixtures import EchoModel


def test_model_packages_can_import_the_contract_without_flask() -> None:
    code = "import sys, model_service.ml_model, iris_model; print('flask' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "False"


def test_predict_is_required() -> None:
    class NoPredict(MLModel):
        qualified_name = "no_predict"

    with pytest.raises(TypeError, match="predict"):
        NoPredict()  # type: ignore[abstract]


def test_default_predict_batch_loops_over_predict_in_order() -> None:
    class Doubler(MLModel):
        def predict(self, data: dict[str, Any]) -> dict[str, Any]:
            return {"y": data["x"] * 2}

    assert Doubler().predict_batch([{"x": 1}, {"x": 2}, {"x": 3}]) == [
        {"y": 2},
        {"y": 4},
        {"y": 6},
    ]


def test_optional_hooks_default_to_none() -> None:
    class Plain(MLModel):
        def predict(self, data: dict[str, Any]) -> dict[str, Any]:
            return {}

    model = Plain()
    assert model.model_card() is None
    assert model.example_input() is None
    assert model.baseline() is None


def test_a_well_declared_model_passes_the_check() -> None:
    EchoModel.check_declaration()


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("qualified_name", "Bad Name", "URL-safe"),
        ("qualified_name", "", "non-empty string"),
        ("version", "latest", "semantic version"),
        ("display_name", None, "display_name"),
        ("input_schema", {"x": float}, "schema.Schema"),
    ],
)
def test_declaration_mistakes_name_the_class_and_attribute(
    attribute: str, value: Any, message: str
) -> None:
    broken = type("Broken", (EchoModel,), {attribute: value})
    with pytest.raises(ModelLoadError, match=message) as raised:
        broken.check_declaration()
    assert "Broken" in str(raised.value)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    estimator = DummyClassifier(strategy="most_frequent").fit([[0], [1]], [0, 0])
    artifact = tmp_path / "model.joblib"
    save_artifact(estimator, artifact, metrics={"accuracy": 1.0})
    return artifact


def test_saved_artifact_loads_with_its_record(saved: Path) -> None:
    estimator, record = load_artifact(saved)
    assert estimator.predict([[3]]).tolist() == [0]
    assert record["metrics"] == {"accuracy": 1.0}
    assert record["sklearn_version"] == sklearn.__version__


def test_tampered_artifact_is_refused_naming_the_file(saved: Path) -> None:
    saved.write_bytes(saved.read_bytes() + b"tampered")
    with pytest.raises(ModelLoadError, match="does not match its recorded sha256") as raised:
        load_artifact(saved)
    assert str(saved) in str(raised.value)


def test_missing_artifact_is_refused(saved: Path) -> None:
    saved.unlink()
    with pytest.raises(ModelLoadError, match="missing"):
        load_artifact(saved)


def test_missing_record_is_refused(saved: Path) -> None:
    artifact_record_path(saved).unlink()
    with pytest.raises(ModelLoadError, match="record"):
        load_artifact(saved)


def test_other_sklearn_version_is_refused_with_what_to_do(saved: Path) -> None:
    record_path = artifact_record_path(saved)
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, "sklearn_version": "0.1.0"}))
    with pytest.raises(ModelLoadError, match=r"scikit-learn==0\.1\.0"):
        load_artifact(saved)


def test_schema_attributes_are_schema_objects() -> None:
    assert isinstance(EchoModel.input_schema, Schema)
