"""The per-model parts of the V2 OpenAPI document: tensor schemas, mapping table, example.

Each model version's infer request and response are described as JSON schemas that name its
tensors (one ``oneOf`` branch per tensor, with the datatypes it accepts and its rank), so a
generated client or Swagger UI shows exactly what to send.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from model_service.json_provider import dumps_bytes
from model_service.model_manager import ServedModel
from model_service.v2.mapping import (
    DATATYPES,
    MATRIX_INPUT,
    NUMERIC_TYPES,
    TensorMapping,
    TensorSpec,
    describe_datatypes,
)


def mapping_table(mapping: TensorMapping) -> str:
    """A Markdown table of the model's tensors, for the infer operation's description."""
    lines = [
        "Send one tensor per input field (the first dimension is the row); get one tensor per "
        "output field. Rows are validated against the model's input schema exactly as "
        '`/api` does; errors answer `{"error": "...", "details": [...]}`.',
        "",
        "| direction | tensor | datatype | shape | notes |",
        "| --- | --- | --- | --- | --- |",
    ]
    for direction, specs in (("input", mapping.inputs), ("output", mapping.outputs)):
        lines += [_table_row(direction, spec) for spec in specs]
    if mapping.matrix_columns:
        lines += [
            "",
            f"Alternatively send every input as one FP64 tensor `{MATRIX_INPUT}` of shape "
            f"`[-1, {len(mapping.matrix_columns)}]`, columns in this order: "
            + ", ".join(f"`{column}`" for column in mapping.matrix_columns)
            + ".",
        ]
    return "\n".join(lines)


def _table_row(direction: str, spec: TensorSpec) -> str:
    notes = []
    if spec.columns:
        notes.append("columns: " + ", ".join(spec.columns))
    if spec.layout == "json":
        notes.append("each element is JSON text")
    if not spec.required:
        notes.append("optional")
    accepted = (
        spec.datatype
        if direction == "output"
        else describe_datatypes(spec.datatype, spec.accepted_datatypes)
    )
    return f"| {direction} | `{spec.name}` | {accepted} | `{spec.shape}` | {'; '.join(notes)} |"


def register_model_components(
    spec: APISpec, served: ServedModel, mapping: TensorMapping, prefix: str
) -> None:
    inputs = [_input_tensor_schema(spec_) for spec_ in mapping.inputs]
    if mapping.matrix_columns:
        width = len(mapping.matrix_columns)
        inputs.append(_tensor_schema(MATRIX_INPUT, _datatypes("FP64", NUMERIC_TYPES), 2, width))
    output_names = [output.name for output in mapping.outputs]
    request = {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": ["string", "null"], "description": "Echoed in the response."},
            "parameters": {"type": "object"},
            "inputs": {"type": "array", "minItems": 1, "items": {"oneOf": inputs}},
            "outputs": {
                "type": ["array", "null"],
                "description": "Outputs to return; absent or null: all of them.",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"enum": output_names},
                        "parameters": {"type": "object"},
                    },
                },
            },
        },
    }
    response = {
        "type": "object",
        "required": ["model_name", "model_version", "outputs"],
        "properties": {
            "model_name": {"const": served.qualified_name},
            "model_version": {"const": served.version},
            "id": {"type": "string"},
            "outputs": {"type": "array", "items": {"oneOf": _output_schemas(mapping)}},
        },
    }
    spec.components.schema(f"{prefix}_V2InferRequest", component=request)
    spec.components.schema(f"{prefix}_V2InferResponse", component=response)
    example = example_request(served, mapping)
    if example is not None:
        spec.components.example(f"{prefix}_V2InferExample", {"value": example})


def _input_tensor_schema(tensor: TensorSpec) -> dict[str, Any]:
    datatypes = _datatypes(tensor.datatype, tensor.accepted_datatypes)
    return _tensor_schema(tensor.name, datatypes, len(tensor.shape), tensor.shape[-1])


def _datatypes(preferred: str, accepted: frozenset[str]) -> list[str]:
    """``preferred`` first, then the others in the protocol's order (a stable document)."""
    return [preferred, *(name for name in DATATYPES if name in accepted and name != preferred)]


def _tensor_schema(name: str, datatypes: list[str], rank: int, width: int) -> dict[str, Any]:
    shape: dict[str, Any] = {"type": "array", "items": {"type": "integer", "minimum": 0}}
    if rank == 2 and width >= 0:
        shape["prefixItems"] = [{"type": "integer", "minimum": 0}, {"const": width}]
    shape["minItems"], shape["maxItems"] = (rank, 2)
    return {
        "type": "object",
        "title": name,
        "required": ["name", "shape", "datatype", "data"],
        "properties": {
            "name": {"const": name},
            "shape": shape,
            "datatype": {"enum": datatypes},
            "parameters": {"type": "object"},
            "data": {"type": "array"},
        },
    }


def _output_schemas(mapping: TensorMapping) -> list[dict[str, Any]]:
    return [
        {
            "type": "object",
            "title": output.name,
            "required": ["name", "shape", "datatype", "data"],
            "properties": {
                "name": {"const": output.name},
                "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "datatype": {"const": output.datatype},
                "data": {"type": "array"},
            },
        }
        for output in mapping.outputs
    ]


def example_request(served: ServedModel, mapping: TensorMapping) -> dict[str, Any] | None:
    """A one-row infer request built from the model's ``example_input()``, if it has one."""
    item = served.example_input
    if not item:
        return None
    inputs = []
    for tensor in mapping.inputs:
        if tensor.whole or tensor.name in item:
            value = item if tensor.whole else item[tensor.name]
            inputs.append(_example_tensor(tensor, value))
    return {"id": "example-1", "inputs": inputs}


def _example_tensor(tensor: TensorSpec, value: Any) -> dict[str, Any]:
    if tensor.layout == "json":
        data: list[Any] = [dumps_bytes(value).decode()]
    elif tensor.layout == "object":
        data = [value[column] for column in tensor.columns]
    elif tensor.layout == "array":
        data = list(value)
    else:
        data = [value]
    shape = [1] if tensor.layout in ("scalar", "json") else [1, len(data)]
    return {"name": tensor.name, "shape": shape, "datatype": tensor.datatype, "data": data}
