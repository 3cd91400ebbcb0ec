"""Protobuf infer messages <-> the JSON-like shapes the V2 infer core speaks.

A ``ModelInferRequest`` carries each input's elements either in the typed ``contents`` field of
its datatype or, as ``tritonclient`` sends them by default, as little-endian bytes in
``raw_input_contents`` (one entry per input, in input order). Both become the REST request's
shape (:class:`~model_service.v2.request_body.InferRequest`), so the codec checks them with the
same messages; the answer goes back the way the question came (raw when the request was raw).
This module imports nothing of Flask.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from model_service.errors import InvalidInput
from model_service.grpc_v2 import grpc_predict_v2_pb2 as pb
from model_service.v2.request_body import NUMPY_TYPES, InferRequest, decode_binary

CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
"""Where ``InferTensorContents`` holds the elements of each datatype (FP16 travels raw only)."""


def parameter_value(parameter: pb.InferParameter) -> Any:
    """The Python value of one ``InferParameter`` (``None`` when unset)."""
    choice = parameter.WhichOneof("parameter_choice")
    return getattr(parameter, choice) if choice else None


def _parameters(entries: Any) -> dict[str, Any]:
    return {key: parameter_value(value) for key, value in entries.items()}


def _typed_contents(tensor: Any) -> list[Any]:
    field = CONTENTS_FIELD.get(tensor.datatype)
    if field is None:
        return []  # the codec names the datatype problem
    values = list(getattr(tensor.contents, field))
    if field == "bytes_contents":
        try:
            return [value.decode("utf-8") for value in values]
        except UnicodeDecodeError:
            raise InvalidInput(
                f"Input {tensor.name!r}: a BYTES element is not UTF-8 text."
            ) from None
    return values


def read_infer_request(message: pb.ModelInferRequest) -> tuple[InferRequest, bool]:
    """The request as the infer core takes it, and whether its inputs came raw.

    :raises InvalidInput: raw contents that do not match the inputs.
    """
    raw = list(message.raw_input_contents)
    if raw and len(raw) != len(message.inputs):
        raise InvalidInput(
            f"raw_input_contents has {len(raw)} entries for {len(message.inputs)} input(s); "
            "send one per input, in input order."
        )
    inputs: list[Any] = []
    for position, tensor in enumerate(message.inputs):
        data = (
            decode_binary(tensor.name, tensor.datatype, memoryview(raw[position]))
            if raw
            else _typed_contents(tensor)
        )
        inputs.append(
            {
                "name": tensor.name,
                "datatype": tensor.datatype,
                "shape": list(tensor.shape),
                "parameters": _parameters(tensor.parameters),
                "data": data,
            }
        )
    requested = [output.name for output in message.outputs] or None
    request = InferRequest(inputs, requested, message.id or None, _parameters(message.parameters))
    return request, bool(raw)


def _raw_bytes(datatype: str, data: list[Any]) -> bytes:
    if datatype == "BYTES":
        encoded = [str(element).encode("utf-8") for element in data]
        return b"".join(struct.pack("<I", len(element)) + element for element in encoded)
    return np.asarray(data, dtype=NUMPY_TYPES[datatype]).tobytes()


def infer_response(body: dict[str, Any], raw: bool) -> pb.ModelInferResponse:
    """The protobuf form of the infer core's answer; elements raw when ``raw``."""
    response = pb.ModelInferResponse(
        model_name=body["model_name"], model_version=body["model_version"], id=body.get("id", "")
    )
    for output in body["outputs"]:
        tensor = response.outputs.add(
            name=output["name"], datatype=output["datatype"], shape=output["shape"]
        )
        if raw:
            response.raw_output_contents.append(_raw_bytes(output["datatype"], output["data"]))
        elif output["datatype"] == "BYTES":
            tensor.contents.bytes_contents.extend(
                str(element).encode("utf-8") for element in output["data"]
            )
        else:
            getattr(tensor.contents, CONTENTS_FIELD[output["datatype"]]).extend(output["data"])
    return response
