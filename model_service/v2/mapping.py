"""How a model's JSON schemas become V2 tensors: one tensor per field, in schema order.

The mapping is derived once per served model from ``input_schema.json_schema`` and
``output_schema.json_schema`` and is what the model metadata endpoint publishes:

* a ``number`` field is an ``FP64`` tensor of shape ``[-1]`` (one element per row); an
  ``integer`` field ``INT64``; a ``boolean`` field ``BOOL``; a ``string`` field (enums and dates
  too) ``BYTES``;
* an ``array`` of such scalars is a 2-D tensor ``[-1, k]`` (``k`` fixed when the schema fixes the
  length, else ``-1``: every row of one request then has the same length);
* an ``object`` whose properties are all required numbers (``probabilities`` of a classifier) is a
  ``[-1, k]`` tensor whose columns are the keys in schema order (parameter ``columns``);
* anything else is a ``BYTES`` tensor whose elements are JSON texts (parameter
  ``content_type: application/json``); so is an optional output that would be 2-D, so a row
  without it can say ``null``;
* a schema that declares no fields travels whole, as one JSON-text tensor (:data:`WHOLE_INPUT`,
  :data:`WHOLE_OUTPUT`).

When every input field is a scalar number or integer, the model also takes the whole batch as one
``FP64`` tensor named :data:`MATRIX_INPUT` of shape ``[-1, F]``, columns in schema order.
This module imports nothing of Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from model_service.model_manager import ServedModel

MATRIX_INPUT = "input-0"
"""Name of the optional single 2-D input tensor holding every numeric field, in schema order."""

FLOAT_TYPES = frozenset({"FP16", "FP32", "FP64"})
INTEGER_RANGES = {
    "INT8": (-(2**7), 2**7 - 1),
    "INT16": (-(2**15), 2**15 - 1),
    "INT32": (-(2**31), 2**31 - 1),
    "INT64": (-(2**63), 2**63 - 1),
    "UINT8": (0, 2**8 - 1),
    "UINT16": (0, 2**16 - 1),
    "UINT32": (0, 2**32 - 1),
    "UINT64": (0, 2**64 - 1),
}
DATATYPES = ("BOOL", *INTEGER_RANGES, "FP16", "FP32", "FP64", "BYTES")
"""Every V2 datatype, in the order the protocol lists them."""

NUMERIC_TYPES = FLOAT_TYPES | frozenset(INTEGER_RANGES)
_DATATYPE_OF_KIND = {"number": "FP64", "integer": "INT64", "boolean": "BOOL", "string": "BYTES"}
_ACCEPTED_OF_KIND = {
    "number": NUMERIC_TYPES,
    "integer": NUMERIC_TYPES,  # floats are accepted; validation refuses a non-integral value
    "boolean": frozenset({"BOOL"}),
    "string": frozenset({"BYTES"}),
    "json": frozenset({"BYTES"}),
}
PLATFORM = "model_service"
"""The ``platform`` of every model's metadata: a Python :class:`MLModel` class."""
JSON_CONTENT_TYPE = "application/json"
WHOLE_INPUT = "item"
WHOLE_OUTPUT = "result"


def describe_datatypes(preferred: str, accepted: frozenset[str]) -> str:
    """``FP64 (or any INT, UINT or FP type)`` for numbers, else the accepted types listed."""
    if accepted == NUMERIC_TYPES:
        return f"{preferred} (or any INT, UINT or FP type)"
    return ", ".join(name for name in DATATYPES if name in accepted)


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor of a model's inputs or outputs, and the field it stands for.

    :param layout: ``scalar`` (shape ``[-1]``), ``array`` or ``object`` (``[-1, k]``), or
        ``json`` (``[-1]`` of JSON texts).
    :param kind: the JSON type of one element: ``number``, ``integer``, ``boolean``, ``string``
        or ``json``.
    :param width: ``k`` of a 2-D tensor; ``-1`` when it varies.
    :param columns: the object keys of an ``object`` tensor's last dimension, in order.
    """

    name: str
    kind: str
    layout: str
    required: bool = True
    width: int = -1
    columns: tuple[str, ...] = ()
    whole: bool = False
    """The tensor carries the whole item or result (a schema that declares no fields)."""

    @property
    def datatype(self) -> str:
        return _DATATYPE_OF_KIND.get(self.kind, "BYTES")

    @property
    def accepted_datatypes(self) -> frozenset[str]:
        return _ACCEPTED_OF_KIND[self.kind]

    @property
    def shape(self) -> list[int]:
        return [-1] if self.layout in ("scalar", "json") else [-1, self.width]

    def metadata(self) -> dict[str, Any]:
        """The ``$metadata_tensor`` of the V2 model metadata response."""
        described: dict[str, Any] = {
            "name": self.name,
            "datatype": self.datatype,
            "shape": self.shape,
        }
        parameters: dict[str, Any] = {}
        if self.columns:
            parameters["columns"] = ",".join(self.columns)
        if self.layout == "json":
            parameters["content_type"] = JSON_CONTENT_TYPE
        if not self.required:
            parameters["optional"] = True
        if parameters:
            described["parameters"] = parameters
        return described


@dataclass(frozen=True)
class TensorMapping:
    """The input and output tensors of one served model."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    matrix_columns: tuple[str, ...] = ()
    """Input fields of the :data:`MATRIX_INPUT` tensor; empty when the model has none."""

    def input_named(self, name: str) -> TensorSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)

    def output_named(self, name: str) -> TensorSpec | None:
        return next((spec for spec in self.outputs if spec.name == name), None)

    def parameters(self) -> dict[str, Any]:
        """Model-level metadata parameters: how rows map to tensors, and the matrix option."""
        parameters: dict[str, Any] = {
            "tensor_mapping": "one tensor per field; the first dimension is the row",
        }
        if self.matrix_columns:
            parameters["matrix_input"] = MATRIX_INPUT
            parameters["matrix_input_datatype"] = "FP64"
            parameters["matrix_input_columns"] = ",".join(self.matrix_columns)
        return parameters


def _kind(field_schema: Mapping[str, Any]) -> str:
    """The element type of a field: a JSON scalar type, or ``json`` for anything else."""
    declared = field_schema.get("type")
    if isinstance(declared, str) and declared in _DATATYPE_OF_KIND:
        return declared
    enum = field_schema.get("enum")
    if declared is None and isinstance(enum, list) and enum:
        return _kind_of_values(enum)
    return "json"


def _kind_of_values(values: list[Any]) -> str:
    if all(isinstance(value, str) for value in values):
        return "string"
    if all(isinstance(value, bool) for value in values):
        return "boolean"
    if all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return "integer"
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
        return "number"
    return "json"


def _fixed_length(field_schema: Mapping[str, Any]) -> int:
    low = field_schema.get("minItems", field_schema.get("minLength"))
    high = field_schema.get("maxItems", field_schema.get("maxLength"))
    return int(low) if isinstance(low, int) and low == high else -1


def field_spec(name: str, field_schema: Mapping[str, Any], required: bool) -> TensorSpec:
    """The tensor that carries field ``name`` described by ``field_schema``."""
    kind = _kind(field_schema)
    if kind != "json":
        return TensorSpec(name, kind, "scalar", required)
    if field_schema.get("type") == "array":
        item_kind = _kind(field_schema.get("items") or {})
        if item_kind != "json":
            return TensorSpec(name, item_kind, "array", required, _fixed_length(field_schema))
    columns = _numeric_columns(field_schema)
    if columns:
        return TensorSpec(name, "number", "object", required, len(columns), columns)
    return TensorSpec(name, "json", "json", required)


def _numeric_columns(field_schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys of an object of required numbers with no other keys; empty otherwise."""
    properties = field_schema.get("properties")
    if field_schema.get("type") != "object" or not isinstance(properties, dict) or not properties:
        return ()
    if field_schema.get("additionalProperties", True) is not False:
        return ()
    if set(field_schema.get("required", [])) != set(properties):
        return ()
    if any(_kind(value) not in ("number", "integer") for value in properties.values()):
        return ()
    return tuple(properties)


def _specs(json_schema: Mapping[str, Any], whole_name: str) -> tuple[TensorSpec, ...]:
    """One spec per property; a schema without properties travels whole as one JSON tensor."""
    properties = json_schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return (TensorSpec(whole_name, "json", "json", whole=True),)
    required = set(json_schema.get("required") or [])
    return tuple(
        field_spec(name, field_schema, name in required)
        for name, field_schema in properties.items()
    )


def build_mapping(
    input_json_schema: Mapping[str, Any], output_json_schema: Mapping[str, Any]
) -> TensorMapping:
    """The tensors of a model whose items and results have these JSON schemas."""
    inputs = _specs(input_json_schema, WHOLE_INPUT)
    numeric = all(spec.layout == "scalar" and spec.kind in ("number", "integer") for spec in inputs)
    matrix_columns = tuple(spec.name for spec in inputs) if numeric else ()
    outputs = tuple(_nullable(spec) for spec in _specs(output_json_schema, WHOLE_OUTPUT))
    return TensorMapping(inputs, outputs, matrix_columns)


def _nullable(spec: TensorSpec) -> TensorSpec:
    """An optional 2-D output becomes JSON text, which can say ``null`` where a row has none."""
    if spec.required or spec.layout in ("scalar", "json"):
        return spec
    return replace(spec, kind="json", layout="json", width=-1, columns=())


_cache: dict[tuple[str, str], tuple[ServedModel, TensorMapping]] = {}


def mapping_for(served: ServedModel) -> TensorMapping:
    """The mapping of ``served``, derived on first use and kept (a reloaded model: a new one)."""
    key = (served.qualified_name, served.version)
    cached = _cache.get(key)
    if cached is not None and cached[0] is served:
        return cached[1]
    mapping = build_mapping(served.input_schema.json_schema, served.output_schema.json_schema)
    _cache[key] = (served, mapping)
    return mapping


def describe_model(served: ServedModel, versions: list[str]) -> dict[str, Any]:
    """The ``$metadata_model_response`` of ``served``; ``versions``: every version loaded."""
    mapping = mapping_for(served)
    return {
        "name": served.qualified_name,
        "versions": versions,
        "platform": PLATFORM,
        "inputs": [spec.metadata() for spec in mapping.inputs],
        "outputs": [spec.metadata() for spec in mapping.outputs],
        "parameters": {"version": served.version, **mapping.parameters()},
    }
