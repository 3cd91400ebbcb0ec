"""The schema compiler: what a client's input must look like, and what the published schema says."""

from __future__ import annotations

from typing import Any

import pytest
from schema import And, Literal, Optional, Or, Regex, Schema, Use

from model_service.fields import Date, Example, Length, Range, Unit
from model_service.validation import compile_schema

ITEM = Schema(
    {
        Literal("x", description="A bounded number."): And(float, Range(0, 100), Unit("cm")),
        "count": int,
        "flag": bool,
        "colour": Or("red", "green"),
        Optional("note", default="none"): And(str, Length(max_length=5)),
        Optional("day"): Date(),
        Optional("values"): And([And(float, Range(0, 16))], Length(2, 3)),
    },
    name="Item",
)
VALID = {"x": 1.5, "count": 2, "flag": True, "colour": "red"}


def problems(declared: Any, value: Any) -> dict[tuple[Any, ...], str]:
    cleaned, details = compile_schema(declared).validate(value)
    assert (cleaned is None) == bool(details)
    return {detail.path: detail.message for detail in details}


def test_valid_item_is_cleaned_and_defaults_filled() -> None:
    cleaned, details = compile_schema(ITEM).validate({**VALID, "x": 2})
    assert details == []
    assert cleaned == {**VALID, "x": 2.0, "note": "none"}
    assert isinstance(cleaned["x"], float)


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    found = problems(ITEM, {"x": "a", "flag": 1, "colour": "blue", "extra": 1, "note": "toolong"})
    assert set(found) == {("x",), ("count",), ("flag",), ("colour",), ("extra",), ("note",)}
    assert "missing" in found[("count",)]
    assert "unexpected" in found[("extra",)]
    assert "'blue'" in found[("colour",)]


@pytest.mark.parametrize(
    ("field", "value", "message_part"),
    [
        ("x", True, "expected a number"),
        ("x", float("nan"), "finite"),
        ("x", float("inf"), "finite"),
        ("x", 10**400, "a float can hold"),
        ("x", 101, "out of range"),
        ("x", -0.5, "out of range"),
        ("count", 1.5, "expected an integer"),
        ("count", True, "expected an integer"),
        ("flag", "true", "expected a boolean"),
        ("day", "2023-02-30", "not a valid date"),
        ("day", "2023-2-3", "not a valid date"),
        ("day", 20230203, "not a date string"),
        ("values", [1.0], "below the minimum"),
        ("values", [1.0, 2.0, 3.0, 4.0], "above the maximum"),
    ],
)
def test_wrong_values_are_refused(field: str, value: Any, message_part: str) -> None:
    found = problems(ITEM, {**VALID, field: value})
    assert message_part in found[(field,)]


def test_array_items_are_reported_by_index() -> None:
    found = problems(ITEM, {**VALID, "values": [1.0, 17.0, "a"]})
    assert set(found) == {("values", 1), ("values", 2)}


def test_integral_float_is_an_integer() -> None:
    cleaned, _ = compile_schema(ITEM).validate({**VALID, "count": 3.0})
    assert cleaned["count"] == 3 and isinstance(cleaned["count"], int)


def test_non_object_item_is_refused() -> None:
    assert problems(ITEM, [1, 2]) == {(): "expected an object, got array"}


def test_callable_and_use_are_still_applied() -> None:
    declared = Schema({"even": And(int, lambda n: n % 2 == 0), "upper": Use(str.upper)})
    assert problems(declared, {"even": 3, "upper": "a"})[("even",)]
    cleaned, _ = compile_schema(declared).validate({"even": 4, "upper": "abc"})
    assert cleaned == {"even": 4, "upper": "ABC"}


def test_regex_validates_and_exports_its_pattern() -> None:
    declared = Schema({"code": Regex(r"^[A-Z]{3}$")})
    assert problems(declared, {"code": "abc"})
    assert compile_schema(declared).json_schema["properties"]["code"] == {
        "type": "string",
        "pattern": "^[A-Z]{3}$",
    }


def test_ignore_extra_keys_accepts_unknown_fields() -> None:
    declared = Schema({"a": int}, ignore_extra_keys=True)
    assert problems(declared, {"a": 1, "b": 2}) == {}


def test_json_schema_exports_bounds_enums_dates_lengths_and_descriptions() -> None:
    exported = compile_schema(ITEM).json_schema
    properties = exported["properties"]
    assert exported["title"] == "Item"
    assert exported["required"] == ["x", "count", "flag", "colour"]
    assert exported["additionalProperties"] is False
    assert properties["x"] == {
        "type": "number",
        "minimum": 0,
        "maximum": 100,
        "x-unit": "cm",
        "description": "A bounded number.",
    }
    assert properties["colour"] == {"enum": ["red", "green"], "type": "string"}
    assert properties["note"] == {"type": "string", "maxLength": 5, "default": "none"}
    assert properties["day"] == {"type": "string", "format": "date"}
    assert properties["values"] == {
        "type": "array",
        "items": {"type": "number", "minimum": 0, "maximum": 16},
        "minItems": 2,
        "maxItems": 3,
    }


def test_example_is_documented_but_accepts_everything() -> None:
    declared = Schema({"x": And(float, Example(2.5))})
    assert compile_schema(declared).json_schema["properties"]["x"]["examples"] == [2.5]
    assert problems(declared, {"x": 7.0}) == {}


def test_fields_validators_work_with_schema_library_too() -> None:
    assert ITEM.validate({**VALID, "day": "2024-01-31"})["day"] == "2024-01-31"
    with pytest.raises(Exception, match="out of range"):
        Schema(And(float, Range(0, 1))).validate(2.0)
