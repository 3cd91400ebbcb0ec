"""The three example model packages served together through the REST API."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from bike_demand_model import BikeDemandModel
from digits_model import DigitsModel
from iris_model import IrisModel
from model_service import create_app
from model_service.ml_model import MLModel
from tests.support import run_service

EXAMPLES: list[type[MLModel]] = [IrisModel, BikeDemandModel, DigitsModel]


@pytest.fixture(scope="module")
def app() -> Flask:
    models = [{"module_name": cls.__module__, "class_name": cls.__name__} for cls in EXAMPLES]
    return create_app({"MODELS": models, "LOAD_ENTRY_POINTS": False})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_all_three_examples_are_listed(client: FlaskClient) -> None:
    response = client.get("/api/models")
    assert response.status_code == 200
    names = [model["qualified_name"] for model in response.get_json()["models"]]
    assert sorted(names) == ["bike_demand_model", "digits_model", "iris_model"]


@pytest.mark.parametrize("model_class", EXAMPLES, ids=lambda cls: cls.qualified_name)
def test_api_prediction_of_the_example_equals_the_in_process_one(
    client: FlaskClient, model_class: type[MLModel]
) -> None:
    model = model_class()
    example = model.example_input()
    assert example is not None
    response = client.post(f"/api/models/{model_class.qualified_name}/predict", json=example)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == model.predict(example)


@pytest.mark.parametrize("model_class", EXAMPLES, ids=lambda cls: cls.qualified_name)
def test_metadata_publishes_card_and_example(
    client: FlaskClient, model_class: type[MLModel]
) -> None:
    metadata = client.get(f"/api/models/{model_class.qualified_name}/metadata").get_json()
    assert metadata["example_input"] == model_class().example_input()
    assert metadata["model_card"]["metrics"]
    assert metadata["model_card"]["limitations"]
    assert set(metadata["model_card"]["baseline"]) == set(metadata["input_schema"]["properties"])


def test_bike_model_names_every_impossible_field_in_one_400(client: FlaskClient) -> None:
    day: dict[str, Any] = {
        **BikeDemandModel().example_input(),
        "date": "2023-02-30",
        "season": "monsoon",
        "humidity": 150,
    }
    response = client.post("/api/models/bike_demand_model/predict", json=day)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["type"] == "invalid_input"
    paths = sorted(tuple(detail["path"]) for detail in error["details"])
    assert paths == [("date",), ("humidity",), ("season",)]


@pytest.mark.server
@pytest.mark.slow
def test_make_run_settings_serve_the_three_examples_through_entry_points() -> None:
    """``make run`` serves with the development settings, which discover installed examples."""
    with run_service(
        ["--workers", "1"], env={"APP_SETTINGS": "config.DevelopmentConfig"}
    ) as service:
        models = requests.get(service.url("/api/models"), timeout=10).json()["models"]
        names = {model["qualified_name"] for model in models}
        assert {"iris_model", "bike_demand_model", "digits_model"} <= names, service.log()
        day = BikeDemandModel().example_input()
        answer = requests.post(
            service.url("/api/models/bike_demand_model/predict"), json=day, timeout=10
        )
        assert answer.json() == BikeDemandModel().predict(day)
