"""The digits package: it loads, classifies, validates its inputs and retrains reproducibly."""

from __future__ import annotations

from typing import Any

import pytest
from sklearn.datasets import load_digits

from digits_model.features import DIGITS
from digits_model.model import ARTIFACT, DigitsModel
from digits_model.train import train
from model_service.artifacts import read_record
from model_service.validation import compile_schema

INPUT = compile_schema(DigitsModel.input_schema)
OUTPUT = compile_schema(DigitsModel.output_schema)


@pytest.fixture(scope="module")
def model() -> DigitsModel:
    return DigitsModel()


def test_example_input_is_recognised(model: DigitsModel) -> None:
    example, problems = INPUT.validate(model.example_input())
    assert problems == []
    result = model.predict(example)
    assert OUTPUT.validate(result)[1] == []
    assert result["digit"] == read_record(ARTIFACT)["example"]["label"]
    assert set(result["probabilities"]) == set(DIGITS)
    assert sum(result["probabilities"].values()) == pytest.approx(1.0)


def test_card_has_accuracy_confusion_matrix_and_a_valid_baseline(model: DigitsModel) -> None:
    card = model.model_card()
    confusion = card["metrics"]["confusion_matrix"]
    assert confusion["labels"] == list(DIGITS)
    assert sum(map(sum, confusion["matrix"])) == read_record(ARTIFACT)["test_rows"]
    assert card["metrics"]["accuracy"] > 0.9
    assert INPUT.validate(card["baseline"])[1] == []


def test_batch_equals_one_by_one(model: DigitsModel) -> None:
    items = [{"pixels": image.tolist()} for image in load_digits().data[:50]]
    batch = model.predict_batch(items)
    singles = [model.predict(item) for item in items]
    assert [result["digit"] for result in batch] == [result["digit"] for result in singles]
    for batched, single in zip(batch, singles, strict=True):
        # a matrix product over many rows may round differently in the last bit than over one
        assert batched["probabilities"] == pytest.approx(single["probabilities"], abs=1e-12)


@pytest.mark.parametrize(
    ("pixels", "path"),
    [
        ([0.0] * 63, ("pixels",)),
        ([0.0] * 65, ("pixels",)),
        ([0.0] * 10 + [17.0] + [0.0] * 53, ("pixels", 10)),
        ([0.0] * 63 + [-1.0], ("pixels", 63)),
        ([0.0] * 5 + ["dark"] + [0.0] * 58, ("pixels", 5)),
        ("0" * 64, ("pixels",)),
    ],
    ids=["too-short", "too-long", "above-16", "negative", "not-a-number", "a-string"],
)
def test_input_schema_rejects_malformed_images(pixels: Any, path: tuple[Any, ...]) -> None:
    _, problems = INPUT.validate({"pixels": pixels})
    assert [problem.path for problem in problems] == [path]


def test_published_schema_is_an_array_of_64_bounded_numbers() -> None:
    pixels = INPUT.json_schema["properties"]["pixels"]
    assert (pixels["type"], pixels["minItems"], pixels["maxItems"]) == ("array", 64, 64)
    assert pixels["items"] == {"type": "number", "minimum": 0, "maximum": 16}
    assert "row-major" in pixels["description"]


def test_retraining_reproduces_the_recorded_metrics(tmp_path: Any) -> None:
    shipped = read_record(ARTIFACT)
    retrained = train(tmp_path / "model.joblib")
    assert retrained["metrics"] == shipped["metrics"]
    assert retrained["example"] == shipped["example"]
