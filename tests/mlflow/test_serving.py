"""An MLflow model directory served with no code answers like MLflow itself, through every API."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.mlflow import saved_models

pyfunc = pytest.importorskip("mlflow.pyfunc", reason="the mlflow extra is not installed")
import mlflow  # noqa: E402
import pandas as pd  # noqa: E402

NAMES = {"classifier": "iris", "forest": "iris_forest", "regressor": "rentals_regressor"}
TARGETS = {"classifier": "species", "forest": "prediction", "regressor": "prediction"}


def frame_of(kind: str) -> pd.DataFrame:
    if kind == "regressor":
        return saved_models.rentals_frame(rows=12)[0]
    return saved_models.iris_frame()[0].iloc[::13]


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as a JSON client sends them (datetimes as ISO 8601 text)."""
    rows = frame.to_dict(orient="records")
    return [
        {
            key: value.isoformat() if isinstance(value, pd.Timestamp) else value
            for key, value in row.items()
        }
        for row in rows
    ]


@pytest.mark.parametrize("kind", ["classifier", "forest", "regressor"])
def test_served_answers_equal_mlflow_pyfunc_predict(
    kind: str, saved: dict[str, Path], mlflow_client: FlaskClient
) -> None:
    frame = frame_of(kind)
    expected = list(pyfunc.load_model(str(saved[kind])).predict(frame))

    response = mlflow_client.post(f"/api/models/{NAMES[kind]}/predict", json=json_rows(frame))

    assert response.status_code == 200, response.get_json()
    answered = [result[TARGETS[kind]] for result in response.get_json()]
    if kind == "regressor":
        assert all(
            math.isclose(a, e, rel_tol=1e-9) for a, e in zip(answered, expected, strict=True)
        )
    else:
        assert answered == expected


def test_classifier_answers_a_probability_per_label(mlflow_client: FlaskClient) -> None:
    item = json_rows(frame_of("classifier"))[0]

    result = mlflow_client.post("/api/models/iris/predict", json=item).get_json()

    assert set(result["probabilities"]) == set(saved_models.IRIS_SPECIES)
    assert math.isclose(sum(result["probabilities"].values()), 1.0)
    assert result["species"] == max(result["probabilities"], key=result["probabilities"].get)


@pytest.mark.parametrize(
    ("name", "change", "path"),
    [
        ("iris", {"sepal length (cm)": "long"}, ["sepal length (cm)"]),
        ("iris", {"petal width (cm)": None}, ["petal width (cm)"]),
        ("rentals_regressor", {"moment": "next tuesday"}, ["moment"]),
        ("rentals_regressor", {"weather": 3}, ["weather"]),
        ("rentals_regressor", {"extra": 1}, ["extra"]),
    ],
)
def test_bad_input_is_a_field_level_400(
    name: str, change: dict[str, Any], path: list[str], mlflow_client: FlaskClient
) -> None:
    item = dict(mlflow_client.get(f"/api/models/{name}/metadata").get_json()["example_input"])
    item.update(change)

    response = mlflow_client.post(f"/api/models/{name}/predict", json=item)

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["type"] == "invalid_input"
    assert [detail["path"] for detail in error["details"]] == [path]


def test_a_missing_column_is_named(mlflow_client: FlaskClient) -> None:
    item = json_rows(frame_of("regressor"))[0]
    del item["temperature"]

    error = mlflow_client.post("/api/models/rentals_regressor/predict", json=item).get_json()

    assert error["error"]["details"] == [
        {"path": ["temperature"], "message": "required field is missing"}
    ]


def test_metadata_publishes_the_signature_as_json_schema(mlflow_client: FlaskClient) -> None:
    metadata = mlflow_client.get("/api/models/rentals_regressor/metadata").get_json()

    properties = metadata["input_schema"]["properties"]
    assert properties["moment"]["format"] == "date-time"
    assert properties["weather"]["type"] == "string"
    assert properties["temperature"]["type"] == "number"
    assert metadata["input_schema"]["required"] == ["moment", "weather", "temperature"]
    assert set(metadata["example_input"]) == {"moment", "weather", "temperature"}
    assert metadata["output_schema"]["properties"]["prediction"]["type"] == "number"


def test_v2_metadata_lists_the_columns(mlflow_client: FlaskClient) -> None:
    metadata = mlflow_client.get("/v2/models/rentals_regressor").get_json()

    datatypes = {tensor["name"]: tensor["datatype"] for tensor in metadata["inputs"]}
    assert datatypes == {"moment": "BYTES", "weather": "BYTES", "temperature": "FP64"}


def test_v2_inference_answers_like_rest(mlflow_client: FlaskClient) -> None:
    rows = json_rows(frame_of("classifier"))[:2]
    inputs = [
        {"name": name, "shape": [2], "datatype": "FP64", "data": [row[name] for row in rows]}
        for name in rows[0]
    ]

    response = mlflow_client.post("/v2/models/iris/infer", json={"inputs": inputs})

    assert response.status_code == 200, response.get_json()
    outputs = {output["name"]: output["data"] for output in response.get_json()["outputs"]}
    rest = mlflow_client.post("/api/models/iris/predict", json=rows).get_json()
    assert outputs["species"] == [result["species"] for result in rest]


def test_openapi_shows_the_signature_fields(mlflow_client: FlaskClient) -> None:
    document = mlflow_client.get("/api/openapi.json").get_json()

    schemas = document["components"]["schemas"]
    inputs = [schema for schema in schemas.values() if schema.get("title") == "IrisInput"]
    assert inputs, sorted(schemas)
    assert set(inputs[0]["properties"]) == set(saved_models.iris_frame()[0].columns)
    assert "/api/models/iris/predict" in document["paths"]


def test_explanations_compare_with_the_input_example(mlflow_client: FlaskClient) -> None:
    item = json_rows(frame_of("classifier"))[-1]

    response = mlflow_client.post("/api/models/iris/explain", json=item)

    assert response.status_code == 200, response.get_json()
    contributions = response.get_json()["contributions"]
    assert {entry["field"] for entry in contributions} == set(item)
    assert any(entry["contribution"] != 0 for entry in contributions)


def test_model_card_says_what_mlflow_recorded(mlflow_client: FlaskClient) -> None:
    card = mlflow_client.get("/api/models/iris_forest/metadata").get_json()["model_card"]

    assert card["saved_model"]["flavors"] == ["sklearn"]
    assert card["saved_model"]["serialization_format"] == "skops"
    assert len(card["saved_model"]["artifact_sha256"]) == 64
    assert card["library_versions"]["recorded"]["mlflow"] == mlflow.__version__
    assert card["library_versions"]["recorded"]["scikit-learn"]
    assert card["estimator"].startswith("RandomForestClassifier (sklearn flavor")


def test_the_model_page_shows_the_card(mlflow_client: FlaskClient) -> None:
    page = mlflow_client.get("/models/iris")

    assert page.status_code == 200
    assert b"LogisticRegression (sklearn flavor" in page.data
