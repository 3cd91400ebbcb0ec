"""Turn a V2 infer request's tensors into input items, and results into output tensors.

Every tensor problem (unknown or missing input, unknown datatype, a shape that does not match the
data, an element of the wrong type) is collected and raised as one
:class:`~model_service.errors.InvalidInput`, so a client learns everything wrong at once. Rows
rebuilt here then go through the same validation and prediction as ``/api``.
This module imports nothing of Flask.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from model_service.errors import ErrorDetail, InvalidInput, PredictionError
from model_service.json_provider import dumps_bytes
from model_service.model_manager import ServedModel
from model_service.v2.mapping import (
    DATATYPES,
    FLOAT_TYPES,
    INTEGER_RANGES,
    MATRIX_INPUT,
    NUMERIC_TYPES,
    TensorMapping,
    TensorSpec,
    describe_datatypes,
)


class _TensorProblem(Exception):
    """Internal: what is wrong with one tensor."""


def _tensor_error(served: ServedModel, details: list[ErrorDetail]) -> InvalidInput:
    return InvalidInput(
        f"The infer request does not fit the tensors of {served.qualified_name} "
        f"{served.version} (GET /v2/models/{served.qualified_name} describes them): "
        f"{len(details)} problem(s).",
        details,
    )


# --- request -> items --------------------------------------------------------------------------


def decode_inputs(served: ServedModel, mapping: TensorMapping, inputs: Sequence[Any]) -> list[Any]:
    """Rebuild one input item per row from the request's tensors.

    :raises InvalidInput: listing every tensor problem, with paths ``["inputs", name]``.
    """
    columns: dict[str, list[Any]] = {}
    details: list[ErrorDetail] = []
    given: set[str] = set()
    for index, tensor in enumerate(inputs):
        declared = tensor.get("name") if isinstance(tensor, dict) else None
        name = declared if isinstance(declared, str) else None
        where: tuple[str | int, ...] = ("inputs", index if name is None else name)
        try:
            if name is not None and name in given:
                raise _TensorProblem(f"input '{name}' is given twice")
            given.update([name] if name is not None else [])
            columns.update(_decode_tensor(mapping, tensor))
        except _TensorProblem as problem:
            details.append(ErrorDetail(where, str(problem)))
    if MATRIX_INPUT in given and mapping.matrix_columns:
        details += _matrix_alone(given)
    else:
        details += _missing_inputs(mapping, given)
    details += _batch_size_mismatch(columns)
    if details:
        raise _tensor_error(served, details)
    whole = next((spec for spec in mapping.inputs if spec.whole), None)
    if whole is not None:
        return columns[whole.name]
    rows = len(next(iter(columns.values())))
    return [{name: column[row] for name, column in columns.items()} for row in range(rows)]


def _decode_tensor(mapping: TensorMapping, tensor: Any) -> dict[str, list[Any]]:
    """The field columns one tensor carries (several for :data:`MATRIX_INPUT`)."""
    if not isinstance(tensor, dict):
        raise _TensorProblem("an input tensor must be an object with name, shape, datatype, data")
    name = tensor.get("name")
    if not isinstance(name, str):
        raise _TensorProblem('the tensor has no "name"')
    if name == MATRIX_INPUT and mapping.matrix_columns:
        return _decode_matrix(mapping, tensor)
    spec = mapping.input_named(name)
    if spec is None:
        raise _TensorProblem(
            f"the model has no input '{name}'; it takes "
            + ", ".join(spec.name for spec in mapping.inputs)
            + (f" (or all of them as '{MATRIX_INPUT}')" if mapping.matrix_columns else "")
        )
    return {name: _decode_field(spec, tensor)}


def _decode_matrix(mapping: TensorMapping, tensor: Mapping[str, Any]) -> dict[str, list[Any]]:
    width = len(mapping.matrix_columns)
    _, shape, flat = _checked_tensor(tensor, NUMERIC_TYPES, [-1, width])
    rows = shape[0]
    return {
        column: [flat[row * width + position] for row in range(rows)]
        for position, column in enumerate(mapping.matrix_columns)
    }


def _decode_field(spec: TensorSpec, tensor: Mapping[str, Any]) -> list[Any]:
    """One value per row for the field ``spec`` stands for."""
    _, shape, flat = _checked_tensor(tensor, spec.accepted_datatypes, spec.shape, spec.datatype)
    if spec.layout == "json":
        return [_parse_json_element(text, position) for position, text in enumerate(flat)]
    if spec.layout == "scalar":
        return flat
    width = shape[1]
    rows = [flat[row * width : (row + 1) * width] for row in range(shape[0])]
    if spec.layout == "object":
        return [dict(zip(spec.columns, row, strict=True)) for row in rows]
    return rows


def _checked_tensor(
    tensor: Mapping[str, Any],
    accepted: frozenset[str],
    expected_shape: list[int],
    preferred: str = "FP64",
) -> tuple[str, list[int], list[Any]]:
    """Check datatype, shape and data of ``tensor``; return them with the data flattened."""
    datatype = tensor.get("datatype")
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise _TensorProblem(
            f"datatype {datatype!r} is not a V2 datatype (one of {', '.join(DATATYPES)})"
        )
    if datatype not in accepted:
        raise _TensorProblem(
            f"datatype {datatype} does not fit this input; send "
            + describe_datatypes(preferred, accepted)
        )
    given: Any = tensor.get("shape")
    shape = _fitted_shape(given, expected_shape)
    if "data" not in tensor:
        raise _TensorProblem('the tensor has no "data"')
    flat = _flatten(tensor["data"], len(given))
    if len(flat) != math.prod(shape):
        raise _TensorProblem(
            f"shape {given} holds {math.prod(shape)} element(s) but data has {len(flat)}"
        )
    _check_elements(datatype, flat)
    return datatype, shape, flat


def _fitted_shape(shape: Any, expected: list[int]) -> list[int]:
    """``shape`` checked against ``expected`` (``-1``: any size); ``[N, 1]`` counts as ``[N]``."""
    if not isinstance(shape, list) or not all(
        isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in shape
    ):
        raise _TensorProblem(f"shape must be a list of non-negative integers, got {shape!r}")
    fitted = shape[:1] if len(expected) == 1 and len(shape) == 2 and shape[1] == 1 else shape
    fits = len(fitted) == len(expected) and all(
        want in (-1, size) for want, size in zip(expected, fitted, strict=True)
    )
    if not fits:
        raise _TensorProblem(f"shape {shape} does not fit this input's shape {expected}")
    return list(fitted)


def _flatten(data: Any, rank: int) -> list[Any]:
    """Row-major elements of ``data``, flat or nested up to ``rank`` levels as V2 allows."""
    if not isinstance(data, list):
        raise _TensorProblem('"data" must be a JSON array')
    if not any(isinstance(element, list) for element in data):
        return data
    if rank <= 1 or not all(isinstance(element, list) for element in data):
        raise _TensorProblem('"data" is nested deeper than the shape, or unevenly')
    flat: list[Any] = []
    for element in data:
        flat.extend(_flatten(element, rank - 1))
    return flat


def _element_fits(datatype: str, value: Any) -> bool:
    if isinstance(value, bool):
        return datatype == "BOOL"
    if datatype in FLOAT_TYPES:
        return isinstance(value, (int, float))
    if datatype in INTEGER_RANGES:
        low, high = INTEGER_RANGES[datatype]
        return isinstance(value, int) and low <= value <= high
    return datatype == "BYTES" and isinstance(value, str)


def _check_elements(datatype: str, flat: list[Any]) -> None:
    for position, value in enumerate(flat):
        if not _element_fits(datatype, value):
            raise _TensorProblem(
                f"element {position} ({orjson.dumps(value).decode()[:40]}) is not a "
                f"{datatype} value"
            )


def _parse_json_element(text: str, position: int) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _TensorProblem(f"element {position} is not JSON text") from None


def _matrix_alone(given: set[str]) -> list[ErrorDetail]:
    """With :data:`MATRIX_INPUT`, which holds every field, any other input is one too many."""
    if len(given) == 1:
        return []
    message = f"'{MATRIX_INPUT}' holds every input; send no other input with it"
    return [ErrorDetail(("inputs", MATRIX_INPUT), message)]


def _missing_inputs(mapping: TensorMapping, given: set[str]) -> list[ErrorDetail]:
    return [
        ErrorDetail(("inputs", spec.name), "required input tensor is missing")
        for spec in mapping.inputs
        if spec.required and spec.name not in given
    ]


def _batch_size_mismatch(columns: Mapping[str, list[Any]]) -> list[ErrorDetail]:
    sizes = {name: len(column) for name, column in columns.items()}
    if len(set(sizes.values())) <= 1:
        return []
    listed = ", ".join(f"{name}: {size}" for name, size in sizes.items())
    return [ErrorDetail(("inputs",), f"the inputs have different row counts ({listed})")]


# --- results -> tensors ------------------------------------------------------------------------


def select_outputs(
    served: ServedModel, mapping: TensorMapping, requested: list[str] | None
) -> list[TensorSpec]:
    """The output tensors to return: all, or those the request's ``outputs`` names."""
    if requested is None:
        return list(mapping.outputs)
    unknown = [name for name in requested if mapping.output_named(name) is None]
    if unknown:
        offered = ", ".join(spec.name for spec in mapping.outputs)
        raise _tensor_error(
            served,
            [
                ErrorDetail(
                    ("outputs", name), f"the model has no output '{name}'; it has {offered}"
                )
                for name in unknown
            ],
        )
    return [spec for spec in mapping.outputs if spec.name in requested]


def encode_outputs(
    served: ServedModel, specs: list[TensorSpec], results: list[Any]
) -> list[dict[str, Any]]:
    """One ``$response_output`` per spec, data flattened row-major."""
    return [_encode_output(served, spec, results) for spec in specs]


def _encode_output(served: ServedModel, spec: TensorSpec, results: list[Any]) -> dict[str, Any]:
    values = [result if spec.whole else result.get(spec.name) for result in results]
    rows = len(values)
    if spec.layout == "json":
        data: list[Any] = [dumps_bytes(value).decode() for value in values]
        shape = [rows]
    elif spec.layout == "scalar":
        data, shape = values, [rows]
    else:
        data, width = _flatten_rows(served, spec, values)
        shape = [rows, width]
    return {"name": spec.name, "datatype": spec.datatype, "shape": shape, "data": data}


def _flatten_rows(
    served: ServedModel, spec: TensorSpec, values: list[Any]
) -> tuple[list[Any], int]:
    if spec.layout == "object":
        rows = [[value[key] for key in spec.columns] for value in values]
    else:
        rows = list(values)
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise PredictionError(
            f"Model {served.qualified_name} {served.version} returned rows of different lengths "
            f"for '{spec.name}', which one tensor cannot hold."
        )
    width = widths.pop() if widths else max(spec.width, 0)
    return [element for row in rows for element in row], width
