"""The iris example package: loads checked, predicts, refuses bad input, retrains reproducibly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from iris_model import IrisModel
from iris_model import model as model_module
from iris_model.train import train
from model_service.errors import ModelLoadError
from model_service.validation import compile_schema


@pytest.fixture(scope="module")
def iris() -> IrisModel:
    return IrisModel()


def test_example_is_predicted_as_setosa(iris: IrisModel) -> None:
    result = iris.predict(iris.example_input())
    assert result["species"] == "setosa"
    assert sum(result["probabilities"].values()) == pytest.approx(1.0)


def test_results_match_the_output_schema(iris: IrisModel) -> None:
    result = iris.predict(iris.example_input())
    assert compile_schema(IrisModel.output_schema).validate(result)[1] == []


def test_batch_equals_single_predictions(iris: IrisModel) -> None:
    items = [
        iris.example_input(),
        {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3},
        {"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 4.2, "petal_width": 1.5},
    ]
    batch = iris.predict_batch(items)
    singles = [iris.predict(item) for item in items]
    assert [r["species"] for r in batch] == ["setosa", "virginica", "versicolor"]
    assert [r["species"] for r in singles] == ["setosa", "virginica", "versicolor"]
    for in_batch, alone in zip(batch, singles, strict=True):
        # BLAS may sum in another order for a longer matrix: equal up to the last bits
        assert in_batch["probabilities"] == pytest.approx(alone["probabilities"], rel=1e-12)


@pytest.mark.parametrize(
    "bad",
    [
        {"sepal_length": -1.0},
        {"sepal_length": 11.0},
        {"sepal_length": "long"},
        {"colour": "blue"},
    ],
)
def test_input_schema_refuses_bad_values(iris: IrisModel, bad: dict[str, object]) -> None:
    _, problems = compile_schema(IrisModel.input_schema).validate({**iris.example_input(), **bad})
    assert problems


def test_model_card_reports_held_out_metrics(iris: IrisModel) -> None:
    card = iris.model_card()
    assert card["metrics"]["accuracy"] > 0.85
    assert card["metrics"]["confusion_matrix"]["labels"] == ["setosa", "versicolor", "virginica"]
    assert set(card["feature_importances"]) == set(iris.example_input())
    assert card["limitations"]


def test_retraining_reproduces_the_shipped_model(tmp_path: Path, iris: IrisModel) -> None:
    record = train(tmp_path / "model.joblib")
    shipped = json.loads(model_module.ARTIFACT.with_name("model.joblib.json").read_text())
    assert record["metrics"] == shipped["metrics"]
    assert record["feature_importances"] == shipped["feature_importances"]


def test_a_tampered_artifact_stops_the_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "model.joblib"
    shutil.copy(model_module.ARTIFACT, copy)
    shutil.copy(model_module.ARTIFACT.with_name("model.joblib.json"), tmp_path)
    copy.write_bytes(copy.read_bytes()[:-1] + b"!")
    monkeypatch.setattr(model_module, "ARTIFACT", copy)
    with pytest.raises(ModelLoadError, match="sha256"):
        IrisModel()


def test_the_candidate_is_1_1_0_with_the_same_schemas_and_a_few_other_labels(
    iris: IrisModel,
) -> None:
    from sklearn.datasets import load_iris

    from iris_model.candidate import IrisCandidateModel
    from iris_model.features import FEATURES

    candidate = IrisCandidateModel()
    assert (candidate.qualified_name, candidate.version) == ("iris_model", "1.1.0")
    assert candidate.input_schema is iris.input_schema
    assert candidate.output_schema is iris.output_schema
    flowers = [dict(zip(FEATURES, map(float, row), strict=True)) for row in load_iris().data]
    labels = [r["species"] for r in iris.predict_batch(flowers)]
    candidate_labels = [r["species"] for r in candidate.predict_batch(flowers)]
    differing = sum(a != b for a, b in zip(labels, candidate_labels, strict=True))
    assert 0 < differing < 15
