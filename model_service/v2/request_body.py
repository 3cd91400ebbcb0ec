"""Read a V2 infer request body: JSON, or JSON followed by binary tensor data.

Clients of Triton's ``binary_tensor_data`` extension (``tritonclient`` does it by default) send
the JSON part first, its length in the ``Inference-Header-Content-Length`` header, then each
input's raw little-endian bytes in input order, sized by its ``binary_data_size`` parameter.
:func:`read_infer_request` turns those bytes back into JSON ``data``, so the rest of the service
sees one shape. Outputs are always answered as JSON ``data``, which those clients read as well.
This module imports nothing of Flask.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from model_service.errors import InvalidInput

HEADER_LENGTH = "Inference-Header-Content-Length"

NUMPY_TYPES = {
    "BOOL": np.dtype(np.bool_),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}


@dataclass(frozen=True)
class InferRequest:
    """The parts of a ``$inference_request`` the service acts on."""

    inputs: list[Any]
    requested_outputs: list[str] | None
    id: str | None
    parameters: dict[str, Any]


def read_infer_request(body: bytes, header_length: str | None) -> InferRequest:
    """Parse ``body`` (JSON, or JSON plus binary tensors when ``header_length`` is given).

    :raises InvalidInput: the body is not a well-formed infer request.
    """
    if header_length is None:
        return _infer_request(_parse_json(body))
    length = _json_length(header_length, len(body))
    request = _infer_request(_parse_json(body[:length]))
    _attach_binary_data(request.inputs, memoryview(body)[length:])
    return request


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        raise InvalidInput(
            'The request body is empty; send a JSON infer request {"inputs": [...]}.'
        )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(
            f"The request body is not valid JSON: {error.msg} at line {error.lineno}, column "
            f"{error.colno}. NaN and Infinity are not JSON numbers."
        ) from None


def _infer_request(document: Any) -> InferRequest:
    if not isinstance(document, dict):
        raise InvalidInput('The infer request must be a JSON object: {"inputs": [...]}.')
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput(
            'The infer request needs "inputs": a non-empty list of tensors, each with '
            '"name", "shape", "datatype" and "data".'
        )
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput('"id" must be a string.')
    parameters = document.get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidInput('"parameters" must be a JSON object.')
    return InferRequest(inputs, _requested_outputs(document), request_id, parameters)


def _requested_outputs(document: dict[str, Any]) -> list[str] | None:
    outputs = document.get("outputs")
    if outputs is None:
        return None
    if not isinstance(outputs, list) or not all(_is_output_request(output) for output in outputs):
        raise InvalidInput(
            '"outputs" must be a list of objects, each with a "name" and optional "parameters" '
            "object."
        )
    return [output["name"] for output in outputs]


def _is_output_request(output: Any) -> bool:
    return (
        isinstance(output, dict)
        and isinstance(output.get("name"), str)
        and isinstance(output.get("parameters", {}), dict)
    )


def _json_length(header_length: str, body_length: int) -> int:
    try:
        length = int(header_length)
    except ValueError:
        length = -1
    if not 0 < length <= body_length:
        raise InvalidInput(
            f"{HEADER_LENGTH} is {header_length!r}; it must be the byte length of the JSON part "
            f"of the body (at most {body_length})."
        )
    return length


def _attach_binary_data(inputs: list[Any], binary: memoryview) -> None:
    """Replace each input's ``binary_data_size`` bytes by the JSON ``data`` they encode."""
    offset = 0
    for tensor in inputs:
        parameters = tensor.get("parameters") if isinstance(tensor, dict) else None
        size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
        if size is None:
            continue
        name = tensor.get("name")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInput(f"Input {name!r}: binary_data_size must be a non-negative integer.")
        if offset + size > len(binary):
            raise InvalidInput(
                f"Input {name!r}: binary_data_size {size} runs past the end of the body."
            )
        tensor["data"] = decode_binary(name, tensor.get("datatype"), binary[offset : offset + size])
        offset += size
    if offset != len(binary):
        raise InvalidInput(
            f"The body has {len(binary) - offset} byte(s) of binary data that no input's "
            "binary_data_size accounts for."
        )


def decode_binary(name: Any, datatype: Any, chunk: memoryview) -> list[Any]:
    """The elements of one tensor sent as raw little-endian bytes (REST binary data, gRPC
    ``raw_input_contents``)."""
    if datatype == "BYTES":
        return _decode_bytes_elements(name, bytes(chunk))
    dtype = NUMPY_TYPES.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise InvalidInput(f"Input {name!r}: datatype {datatype!r} cannot be sent as binary data.")
    if len(chunk) % dtype.itemsize:
        raise InvalidInput(
            f"Input {name!r}: {len(chunk)} bytes is not a whole number of {datatype} elements."
        )
    values: list[Any] = np.frombuffer(chunk, dtype=dtype).tolist()
    return values


def _decode_bytes_elements(name: Any, raw: bytes) -> list[Any]:
    """BYTES elements: each a 4-byte little-endian length, then that many UTF-8 bytes."""
    elements: list[Any] = []
    offset = 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise InvalidInput(f"Input {name!r}: truncated BYTES element length.")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise InvalidInput(f"Input {name!r}: a BYTES element runs past its data.")
        try:
            elements.append(raw[offset : offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidInput(f"Input {name!r}: a BYTES element is not UTF-8 text.") from None
        offset += length
    return elements
