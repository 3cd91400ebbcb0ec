"""Shared by the V2 tests: rows <-> tensors through the published metadata, error checks.

The conversions here read only what ``GET /v2/models/<name>`` publishes (tensor names, shapes,
the ``columns`` parameter), as a V2 client would, so the tests check the published mapping too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

ERROR_KEYS = {"error", "type", "details", "request_id"}


def assert_v2_error(response: Any, status: int, error_type: str) -> dict[str, Any]:
    """A V2 error: the protocol's ``{"error": "..."}`` plus type, details and request id."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ERROR_KEYS
    assert isinstance(body["error"], str) and body["error"]
    assert body["type"] == error_type
    assert body["request_id"] == response.headers["X-Request-ID"]
    return dict(body)


def _fractions(field: Mapping[str, Any], count: int) -> list[float]:
    low = field.get("minimum", 0.0)
    high = field.get("maximum", low + 10.0)
    return [low + (high - low) * (index + 1) / (count + 1) for index in range(count)]


def _values(field: Mapping[str, Any], example: Any, count: int) -> list[Any]:
    """``count`` valid values of one field, varied where the schema says how."""
    kind = field.get("type")
    if "enum" in field:
        return list(itertools.islice(itertools.cycle(field["enum"]), count))
    if kind == "boolean":
        return [index % 2 == 0 for index in range(count)]
    if kind == "number":
        return _fractions(field, count)
    if kind == "integer":
        return [round(value) for value in _fractions(field, count)]
    if kind == "array" and field.get("items", {}).get("type") == "number":
        return [[value] * len(example) for value in _fractions(field["items"], count)]
    return [example] * count


def sample_rows(metadata: Mapping[str, Any], count: int) -> list[dict[str, Any]]:
    """The example input, then ``count - 1`` valid variations of it, from ``/api`` metadata."""
    example = metadata["example_input"]
    properties = metadata["input_schema"]["properties"]
    columns = {name: _values(properties[name], value, count - 1) for name, value in example.items()}
    return [example] + [
        {name: column[index] for name, column in columns.items()} for index in range(count - 1)
    ]


def rows_to_request(v2_metadata: Mapping[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON infer request holding ``rows``, one tensor per input the metadata names."""
    inputs = []
    for tensor in v2_metadata["inputs"]:
        name = tensor["name"]
        if not all(name in row for row in rows):
            continue
        columns = tensor.get("parameters", {}).get("columns")
        values = [row[name] for row in rows]
        if columns:
            values = [[value[key] for key in columns.split(",")] for value in values]
        elif tensor.get("parameters", {}).get("content_type") == "application/json":
            values = [json.dumps(value) for value in values]
        shape = [len(rows)] if len(tensor["shape"]) == 1 else [len(rows), len(values[0])]
        data = [element for value in values for element in value] if len(shape) == 2 else values
        inputs.append({"name": name, "shape": shape, "datatype": tensor["datatype"], "data": data})
    return {"inputs": inputs}


def outputs_to_rows(
    v2_metadata: Mapping[str, Any], outputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The result objects the output tensors stand for, read by the metadata's mapping."""
    described = {tensor["name"]: tensor for tensor in v2_metadata["outputs"]}
    rows: list[dict[str, Any]] = []
    for output in outputs:
        parameters = described[output["name"]].get("parameters", {})
        data, shape = output["data"], output["shape"]
        if len(shape) == 2:
            data = [data[row * shape[1] : (row + 1) * shape[1]] for row in range(shape[0])]
        if "columns" in parameters:
            data = [dict(zip(parameters["columns"].split(","), row, strict=True)) for row in data]
        if parameters.get("content_type") == "application/json":
            data = [json.loads(value) for value in data]
        rows += [{} for _ in range(len(data) - len(rows))]
        for row, value in zip(rows, data, strict=True):
            row[output["name"]] = value
    return rows
