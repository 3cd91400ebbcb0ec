"""The bike demand package: it loads, forecasts, validates its inputs and retrains reproducibly."""

from __future__ import annotations

from typing import Any

import pytest

from bike_demand_model.data import generate_days
from bike_demand_model.features import COLUMNS
from bike_demand_model.model import ARTIFACT, BikeDemandModel
from bike_demand_model.train import train
from model_service.artifacts import read_record
from model_service.validation import compile_schema

INPUT = compile_schema(BikeDemandModel.input_schema)
OUTPUT = compile_schema(BikeDemandModel.output_schema)


@pytest.fixture(scope="module")
def model() -> BikeDemandModel:
    return BikeDemandModel()


def generated_items(count: int) -> list[dict[str, Any]]:
    rows, _ = generate_days(seed=3, days=count)
    return [dict(zip(COLUMNS, row.tolist(), strict=True)) for row in rows]


def test_example_input_is_valid_and_forecasts_a_plausible_number(model: BikeDemandModel) -> None:
    example, problems = INPUT.validate(model.example_input())
    assert problems == []
    result = model.predict(example)
    assert OUTPUT.validate(result)[1] == []
    assert 1000 < result["rentals"] < 12000


def test_baseline_in_the_card_is_a_valid_input(model: BikeDemandModel) -> None:
    card = model.model_card()
    assert INPUT.validate(card["baseline"])[1] == []
    assert set(card["feature_importances"]) == set(COLUMNS)
    assert {"mae", "r2"} <= set(card["metrics"])


def test_batch_equals_one_by_one(model: BikeDemandModel) -> None:
    items = generated_items(40)
    assert model.predict_batch(items) == [model.predict(item) for item in items]


def test_forecast_follows_the_weather(model: BikeDemandModel) -> None:
    summer_day = model.example_input()
    rainy = model.predict({**summer_day, "weather": "heavy_rain"})["rentals"]
    freezing = model.predict({**summer_day, "temperature": -5.0})["rentals"]
    assert rainy < model.predict(summer_day)["rentals"]
    assert freezing < model.predict(summer_day)["rentals"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date", "2023-02-30"),
        ("date", "14/06/2024"),
        ("season", "monsoon"),
        ("weather", "snow"),
        ("holiday", "no"),
        ("working_day", 1),
        ("temperature", -40.0),
        ("humidity", 150.0),
        ("wind_speed", -1.0),
    ],
)
def test_input_schema_rejects_impossible_values(
    model: BikeDemandModel, field: str, value: Any
) -> None:
    _, problems = INPUT.validate({**model.example_input(), field: value})
    assert [problem.path for problem in problems] == [(field,)]


def test_published_schema_carries_formats_enums_and_bounds() -> None:
    properties = INPUT.json_schema["properties"]
    assert properties["date"]["format"] == "date"
    assert properties["season"] == {**properties["season"], "type": "string"}
    assert set(properties["season"]["enum"]) == {"winter", "spring", "summer", "autumn"}
    assert properties["weather"]["type"] == "string"
    assert properties["holiday"]["type"] == properties["working_day"]["type"] == "boolean"
    assert (properties["humidity"]["minimum"], properties["humidity"]["maximum"]) == (0, 100)
    for name in ("temperature", "wind_speed"):
        assert {"minimum", "maximum", "x-unit", "description"} <= set(properties[name])


def test_retraining_reproduces_the_recorded_metrics(tmp_path: Any) -> None:
    shipped = read_record(ARTIFACT)
    retrained = train(tmp_path / "model.joblib")
    assert retrained["metrics"] == shipped["metrics"]
    assert retrained["feature_importances"] == shipped["feature_importances"]
    assert retrained["baseline"] == shipped["baseline"]
