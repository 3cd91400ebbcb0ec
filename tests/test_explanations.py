"""Explanations: the generic method where the answer is known, the iris override, the endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from schema import And, Schema

from model_service import create_app
from model_service.fields import Range
from model_service.ml_model import MLModel
from tests.fixtures import entry

COEFFICIENTS = {"a": 2.0, "b": -3.0, "c": 0.5}
BASELINE = {"a": 1.0, "b": 2.0, "c": -4.0}


class LinearModel(MLModel):
    """y = 2a - 3b + 0.5c + 7: contributions are known by construction."""

    qualified_name = "linear"
    display_name = "Linear"
    description = "A hand-written linear model."
    version = "1.0.0"
    input_schema = Schema({name: And(float, Range(-100, 100)) for name in COEFFICIENTS})
    output_schema = Schema({"y": float})

    def __init__(self) -> None:
        self.batch_calls = 0

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"y": sum(COEFFICIENTS[name] * data[name] for name in COEFFICIENTS) + 7.0}

    def predict_batch(self, items: Any) -> list[dict[str, Any]]:
        self.batch_calls += 1
        return [self.predict(item) for item in items]

    def model_card(self) -> dict[str, Any]:
        return {"baseline": BASELINE}


class OpaqueModel(LinearModel):
    qualified_name = "opaque"
    explainable = False


class NoBaselineModel(LinearModel):
    qualified_name = "no_baseline"

    def model_card(self) -> dict[str, Any]:
        return {}


@pytest.fixture
def explain_app() -> Iterator[Flask]:
    models = [LinearModel, OpaqueModel, NoBaselineModel]
    yield create_app({"MODELS": [entry(model) for model in models], "LOAD_ENTRY_POINTS": False})


@pytest.fixture
def explain_client(explain_app: Flask) -> FlaskClient:
    return explain_app.test_client()


def test_generic_method_equals_coefficient_times_distance_to_baseline() -> None:
    model = LinearModel()
    data = {"a": 3.0, "b": -1.0, "c": 10.0}
    explanation = model.explain(data).to_dict()
    assert explanation["method"] == "baseline_substitution"
    assert explanation["target"] == "y"
    assert explanation["explained_value"] == pytest.approx(model.predict(data)["y"])
    contributions = {item["field"]: item for item in explanation["contributions"]}
    for name, coefficient in COEFFICIENTS.items():
        expected = coefficient * (data[name] - BASELINE[name])
        assert contributions[name]["contribution"] == pytest.approx(expected)
        assert contributions[name]["baseline"] == BASELINE[name]
    magnitudes = [abs(item["contribution"]) for item in explanation["contributions"]]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert model.batch_calls == 1


def test_endpoint_explains_one_item_and_a_batch(explain_client: FlaskClient) -> None:
    one = {"a": 3.0, "b": -1.0, "c": 10.0}
    single = explain_client.post("/api/models/linear/explain", json=one)
    assert single.status_code == 200
    assert len(single.get_json()["contributions"]) == 3
    batch = explain_client.post(
        "/api/models/linear/versions/1.0.0/explain", json=[one, {**one, "a": 1.0}]
    )
    first, second = batch.get_json()
    contributions = {item["field"]: item["contribution"] for item in second["contributions"]}
    assert contributions["a"] == pytest.approx(0.0)
    assert first["prediction"] == {"y": pytest.approx(LinearModel().predict(one)["y"])}


def test_invalid_input_gives_the_same_400_as_predict(explain_client: FlaskClient) -> None:
    bad = {"a": "x", "b": 500}
    explained = explain_client.post("/api/models/linear/explain", json=bad)
    predicted = explain_client.post("/api/models/linear/predict", json=bad)
    assert explained.status_code == predicted.status_code == 400
    assert explained.get_json()["error"]["details"] == predicted.get_json()["error"]["details"]


def test_a_model_that_declares_itself_opaque_has_no_explanations(
    explain_client: FlaskClient,
) -> None:
    response = explain_client.post("/api/models/opaque/explain", json={"a": 1, "b": 1, "c": 1})
    assert response.status_code == 404
    assert response.get_json()["error"]["type"] == "explanation_unavailable"


def test_a_model_without_baseline_fails_cleanly(explain_client: FlaskClient) -> None:
    response = explain_client.post("/api/models/no_baseline/explain", json={"a": 1, "b": 1, "c": 1})
    assert response.status_code == 500
    assert response.get_json()["error"]["type"] == "prediction_error"


def test_iris_override_matches_a_direct_computation() -> None:
    from iris_model import IrisModel

    model = IrisModel()
    data = {"sepal_length": 6.1, "sepal_width": 2.8, "petal_length": 4.7, "petal_width": 1.2}
    explanation = model.explain(data).to_dict()
    pipeline = model._pipeline
    scaler, classifier = pipeline.named_steps["scale"], pipeline.named_steps["classify"]
    names = list(data)
    x = np.array([[data[name] for name in names]])
    baseline = np.array([[model.baseline()[name] for name in names]])  # type: ignore[index]
    species = explanation["prediction"]["species"]
    row = list(classifier.classes_).index(["setosa", "versicolor", "virginica"].index(species))
    expected = classifier.coef_[row] * ((x - baseline) / scaler.scale_)[0]
    contributions = {item["field"]: item["contribution"] for item in explanation["contributions"]}
    assert [contributions[name] for name in names] == pytest.approx(expected.tolist())
    assert explanation["method"] == "linear_coefficients"
    assert explanation["explained_value"] == pytest.approx(
        float(classifier.decision_function(scaler.transform(x))[0][row])
    )


def test_every_iris_field_gets_one_contribution() -> None:
    from iris_model import IrisModel

    model = IrisModel()
    explanation = model.explain(model.example_input()).to_dict()
    assert sorted(item["field"] for item in explanation["contributions"]) == sorted(
        model.example_input()
    )
