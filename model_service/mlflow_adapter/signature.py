"""An MLflow signature as the service's schemas, and request items as the DataFrame MLflow takes.

Each input of the signature becomes one :class:`InputField`: a column (``ColSpec``: double, float,
long, integer, boolean, string, datetime, binary; optional when not required) or a tensor
(``TensorSpec``: nested lists of its element type with its shape, the batch dimension left out).
Datetimes travel as ISO 8601 text and binary values as base64 text. Because the service validates
every item against this schema, :func:`frame_from_items` only converts: it builds the DataFrame
(or arrays, for tensors) with the dtypes MLflow's own schema enforcement would have produced, so
that enforcement need not run again.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from schema import And, Literal, Optional, Schema

from model_service.errors import ModelLoadError
from model_service.fields import Base64, DateTime, Example, Length

COLUMN_TYPES: dict[str, tuple[type, str]] = {
    "double": (float, "float64"),
    "float": (float, "float32"),
    "long": (int, "int64"),
    "integer": (int, "int32"),
    "boolean": (bool, "bool"),
    "string": (str, "object"),
    "datetime": (str, "datetime64[ns]"),
    "binary": (str, "object"),
}
"""MLflow column type -> (JSON value type, pandas dtype of the column)."""

_DESCRIPTIONS = {
    "datetime": "MLflow datetime column, as ISO 8601 text (YYYY-MM-DDTHH:MM:SS).",
    "binary": "MLflow binary column, as base64 text.",
}

UNNAMED_TENSOR = "input"
"""The field name of a signature's single unnamed tensor."""


@dataclass(frozen=True)
class InputField:
    """One input of the signature: a column, or a tensor of ``dtype`` with ``shape``."""

    name: str
    frame_key: str | int
    kind: str
    required: bool = True
    dtype: str = ""
    shape: tuple[int, ...] = ()

    @property
    def is_tensor(self) -> bool:
        return self.kind == "tensor"


def input_fields(inputs: Any) -> list[InputField]:
    """The fields of an MLflow input ``Schema`` (``signature.inputs``)."""
    fields = []
    for index, spec in enumerate(inputs.inputs):
        name = spec.name if spec.name is not None else None
        if inputs.is_tensor_spec():
            dtype = np.dtype(spec.type)
            fields.append(
                InputField(
                    name=str(name) if name is not None else UNNAMED_TENSOR,
                    frame_key=name if name is not None else index,
                    kind="tensor",
                    required=spec.required,
                    dtype=dtype.str,
                    shape=tuple(spec.shape),
                )
            )
            continue
        kind = getattr(spec.type, "name", str(spec.type))
        if kind not in COLUMN_TYPES:
            raise ModelLoadError(
                f"Input column {name or index!r} has the MLflow type {spec.type}, which this "
                f"service cannot take yet (it takes {', '.join(COLUMN_TYPES)} columns and "
                "tensors). Log the model with a signature of those types."
            )
        fields.append(
            InputField(
                name=str(name) if name is not None else f"column_{index}",
                frame_key=name if name is not None else index,
                kind=kind,
                required=spec.required,
            )
        )
    return fields


def _tensor_validator(dtype: np.dtype[Any], dimensions: Sequence[int]) -> Any:
    if not dimensions:
        return _scalar_type(dtype)
    inner = _tensor_validator(dtype, dimensions[1:])
    size = dimensions[0]
    return And([inner], Length(size, size)) if size >= 0 else [inner]


def _scalar_type(dtype: np.dtype[Any]) -> type:
    if dtype.kind == "b":
        return bool
    if dtype.kind in "iu":
        return int
    if dtype.kind == "f":
        return float
    return str


def field_validator(field: InputField, example: Any = None) -> Any:
    """The ``schema`` declaration of one field's value (with its example, when known)."""
    if field.is_tensor:
        declared = _tensor_validator(np.dtype(field.dtype), field.shape[1:])
    else:
        value_type = COLUMN_TYPES[field.kind][0]
        special = {"datetime": DateTime(), "binary": Base64()}.get(field.kind)
        declared = And(value_type, special) if special is not None else value_type
    if example is None:
        return declared
    parts = list(declared.args) if isinstance(declared, And) else [declared]
    return And(*parts, Example(example))


def input_schema(fields: Sequence[InputField], name: str, example: dict[str, Any] | None) -> Schema:
    """One item of the model's input: a JSON object with a key per field."""
    example = example or {}
    declared: dict[Any, Any] = {}
    for field in fields:
        description = _DESCRIPTIONS.get(field.kind, f"MLflow {field.kind} column")
        if field.is_tensor:
            description = (
                f"MLflow tensor of {np.dtype(field.dtype).name} with shape {list(field.shape)}"
            )
        key: Any = Literal(field.name, description=description)
        if not field.required:
            key = Optional(key)
        declared[key] = field_validator(field, example.get(field.name))
    return Schema(declared, name=name)


def frame_from_items(fields: Sequence[InputField], items: Sequence[dict[str, Any]]) -> Any:
    """The model input for validated ``items``: a DataFrame for columns, arrays for tensors."""
    if fields and fields[0].is_tensor:
        arrays = {
            field.frame_key: np.asarray([item.get(field.name) for item in items], field.dtype)
            for field in fields
        }
        if len(fields) == 1 and isinstance(fields[0].frame_key, int):
            return arrays[fields[0].frame_key]
        return arrays
    dtypes = {COLUMN_TYPES[field.kind][1] for field in fields}
    if len(dtypes) == 1 and dtypes.isdisjoint({"object", "datetime64[ns]"}):
        rows = [[item.get(field.name) for field in fields] for item in items]
        if not any(None in row for row in rows):  # the common case: one 2-D array, much faster
            keys = [field.frame_key for field in fields]
            return pd.DataFrame(np.array(rows, dtype=dtypes.pop()), columns=keys, copy=False)
    return pd.DataFrame(
        {
            field.frame_key: _column(field, [item.get(field.name) for item in items])
            for field in fields
        }
    )


def _column(field: InputField, values: list[Any]) -> Any:
    if field.kind == "datetime":
        # MLflow takes time-zone-naive datetimes: a value with an offset is converted to UTC.
        moments = pd.to_datetime(pd.Series(values, dtype="object"), format="ISO8601", utc=True)
        return moments.dt.tz_localize(None).astype("datetime64[ns]")
    if field.kind == "binary":
        return pd.Series([None if v is None else base64.b64decode(v) for v in values], dtype=object)
    dtype = COLUMN_TYPES[field.kind][1]
    if None in values:  # an optional column left out: missing values, as MLflow passes them
        return pd.Series(values, dtype="float64" if dtype != "object" else "object")
    return pd.Series(values, dtype=dtype)


def example_rows(example: Any, fields: Sequence[InputField]) -> list[dict[str, Any]]:
    """MLflow's saved input example as JSON-ready input items, one per row."""
    if isinstance(example, pd.DataFrame):
        records = [
            {field.name: row[field.frame_key] for field in fields if field.frame_key in row.index}
            for _, row in example.iterrows()
        ]
    elif isinstance(example, dict):
        columns = {str(name): list(np.asarray(value)) for name, value in example.items()}
        count = min((len(values) for values in columns.values()), default=0)
        records = [{name: values[i] for name, values in columns.items()} for i in range(count)]
    elif isinstance(example, np.ndarray) and len(fields) == 1:
        records = [{fields[0].name: row} for row in example]
    else:
        return []
    rows = [{name: _json_value(value) for name, value in record.items()} for record in records]
    return [{name: value for name, value in row.items() if value is not None} for row in rows]


def typical_item(rows: Sequence[dict[str, Any]], fields: Sequence[InputField]) -> dict[str, Any]:
    """A reference item from example rows: the mean of each number column, else the first value
    (what explanations compare with when MLflow recorded no training statistics)."""
    typical: dict[str, Any] = {}
    for field in fields:
        values = [row[field.name] for row in rows if field.name in row]
        if not values:
            continue
        numeric = field.kind in ("double", "float") and not field.is_tensor
        typical[field.name] = float(np.mean(values)) if numeric else values[0]
    return typical


def _json_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value != value:  # NaN: the example left it out
        return None
    return value
