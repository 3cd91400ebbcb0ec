"""Request items become the DataFrame MLflow's own schema enforcement would have produced."""

from __future__ import annotations

import base64

import pytest

pd = pytest.importorskip("pandas", reason="the mlflow extra is not installed")

from model_service.mlflow_adapter.signature import (  # noqa: E402
    InputField,
    frame_from_items,
    input_schema,
    typical_item,
)
from model_service.validation import compile_schema  # noqa: E402

COLUMNS = [
    InputField("when", "when", "datetime"),
    InputField("count", "count", "long"),
    InputField("ratio", "ratio", "float"),
    InputField("flag", "flag", "boolean"),
    InputField("label", "label", "string"),
    InputField("blob", "blob", "binary"),
    InputField("note", "note", "double", required=False),
]
ITEM = {
    "when": "2026-03-01T08:30:00",
    "count": 3,
    "ratio": 0.5,
    "flag": True,
    "label": "a",
    "blob": base64.b64encode(b"\x00\x01").decode(),
}


def test_each_column_gets_the_dtype_mlflow_gives_it() -> None:
    later = {**ITEM, "when": "2026-03-01T10:30:00+02:00", "note": 1.5}

    frame = frame_from_items(COLUMNS, [ITEM, later])

    assert [str(dtype) for dtype in frame.dtypes] == [
        "datetime64[ns]",
        "int64",
        "float32",
        "bool",
        "object",
        "object",
        "float64",
    ]
    assert frame["blob"][0] == b"\x00\x01"
    assert frame["when"].tolist() == [pd.Timestamp("2026-03-01 08:30")] * 2  # offsets: UTC
    assert pd.isna(frame["note"][0]) and frame["note"][1] == 1.5


def test_numbers_of_one_type_make_one_array_with_the_column_names() -> None:
    fields = [InputField("a b", "a b", "double"), InputField("c", "c", "double")]

    frame = frame_from_items(fields, [{"a b": 1, "c": 2.5}, {"a b": 3.0, "c": 4}])

    assert list(frame.columns) == ["a b", "c"]
    assert frame.to_numpy().tolist() == [[1.0, 2.5], [3.0, 4.0]]
    assert str(frame.dtypes.iloc[0]) == "float64"


@pytest.mark.parametrize(
    ("field", "value"),
    [("when", "2026-03-01"), ("when", "yesterday"), ("blob", "not base64!"), ("count", 1.5)],
)
def test_the_schema_refuses_what_the_column_cannot_hold(field: str, value: object) -> None:
    compiled = compile_schema(input_schema(COLUMNS, "Example", None))

    _, problems = compiled.validate({**ITEM, field: value})

    assert [problem.path for problem in problems] == [(field,)]


def test_the_json_schema_shows_formats_and_optional_columns() -> None:
    exported = compile_schema(input_schema(COLUMNS, "Example", ITEM)).json_schema

    assert exported["properties"]["when"]["format"] == "date-time"
    assert exported["properties"]["blob"]["contentEncoding"] == "base64"
    assert exported["properties"]["count"]["examples"] == [3]
    assert "note" not in exported["required"]


def test_the_typical_item_averages_numbers_and_keeps_the_first_other_value() -> None:
    rows = [{**ITEM, "note": 1.0}, {**ITEM, "note": 3.0, "label": "b"}]

    typical = typical_item(rows, COLUMNS)

    assert typical["note"] == 2.0
    assert typical["label"] == "a"
