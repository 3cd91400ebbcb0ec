"""The mapping from a field's JSON schema to a V2 tensor: datatype, shape, parameters."""

from __future__ import annotations

from typing import Any

import pytest

from model_service.v2.mapping import build_mapping, field_spec

NUMBERS = {"type": "number"}


@pytest.mark.parametrize(
    ("field_schema", "metadata"),
    [
        ({"type": "number", "minimum": 0}, {"datatype": "FP64", "shape": [-1]}),
        ({"type": "integer"}, {"datatype": "INT64", "shape": [-1]}),
        ({"type": "boolean"}, {"datatype": "BOOL", "shape": [-1]}),
        ({"type": "string", "format": "date"}, {"datatype": "BYTES", "shape": [-1]}),
        ({"enum": ["a", "b"], "type": "string"}, {"datatype": "BYTES", "shape": [-1]}),
        ({"enum": [1, 2, 3]}, {"datatype": "INT64", "shape": [-1]}),
        ({"enum": [0.5, 1]}, {"datatype": "FP64", "shape": [-1]}),
        ({"enum": [True, False]}, {"datatype": "BOOL", "shape": [-1]}),
        (
            {"type": "array", "items": NUMBERS, "minItems": 64, "maxItems": 64},
            {"datatype": "FP64", "shape": [-1, 64]},
        ),
        (
            {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            {"datatype": "BYTES", "shape": [-1, -1]},
        ),
        (
            {
                "type": "object",
                "properties": {"b": NUMBERS, "a": {"type": "integer"}},
                "required": ["b", "a"],
                "additionalProperties": False,
            },
            {"datatype": "FP64", "shape": [-1, 2], "parameters": {"columns": "b,a"}},
        ),
        (
            {"type": "object", "properties": {"b": NUMBERS}, "required": []},
            {
                "datatype": "BYTES",
                "shape": [-1],
                "parameters": {"content_type": "application/json"},
            },
        ),
        (
            {"type": "object"},
            {
                "datatype": "BYTES",
                "shape": [-1],
                "parameters": {"content_type": "application/json"},
            },
        ),
        (
            {"type": "array", "items": {"type": "array"}},
            {
                "datatype": "BYTES",
                "shape": [-1],
                "parameters": {"content_type": "application/json"},
            },
        ),
        (
            {"anyOf": [{"type": "number"}, {"type": "null"}]},
            {
                "datatype": "BYTES",
                "shape": [-1],
                "parameters": {"content_type": "application/json"},
            },
        ),
    ],
)
def test_each_json_schema_type_has_its_tensor(
    field_schema: dict[str, Any], metadata: dict[str, Any]
) -> None:
    assert field_spec("f", field_schema, required=True).metadata() == {"name": "f", **metadata}


def test_an_optional_field_says_so() -> None:
    assert field_spec("f", NUMBERS, required=False).metadata()["parameters"] == {"optional": True}


def test_tensors_follow_schema_order_and_the_matrix_needs_all_numeric_fields() -> None:
    numeric = {"type": "object", "properties": {"b": NUMBERS, "a": {"type": "integer"}}}
    mixed = {"type": "object", "properties": {"b": NUMBERS, "c": {"type": "string"}}}
    mapping = build_mapping(numeric, {"type": "object", "properties": {"y": NUMBERS}})
    assert [spec.name for spec in mapping.inputs] == ["b", "a"]
    assert mapping.parameters()["matrix_input_columns"] == "b,a"
    assert "matrix_input" not in build_mapping(mixed, numeric).parameters()


def test_an_optional_2d_output_becomes_json_so_a_missing_value_can_be_null() -> None:
    output = {
        "type": "object",
        "properties": {"scores": {"type": "array", "items": NUMBERS}},
        "required": [],
    }
    (scores,) = build_mapping({"type": "object"}, output).outputs
    assert (scores.datatype, scores.layout) == ("BYTES", "json")


def test_a_schema_without_fields_travels_whole_as_one_json_tensor() -> None:
    mapping = build_mapping({"type": "object"}, {"type": "object"})
    assert [(spec.name, spec.whole) for spec in mapping.inputs] == [("item", True)]
    assert [(spec.name, spec.whole) for spec in mapping.outputs] == [("result", True)]


def test_a_union_of_types_travels_as_json_text() -> None:
    spec = field_spec("f", {"type": ["number", "null"]}, required=True)
    assert (spec.datatype, spec.layout) == ("BYTES", "json")
