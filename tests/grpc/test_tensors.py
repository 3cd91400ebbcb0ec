"""Protobuf infer requests become the infer core's tensors the same way whether their elements
came in typed ``contents`` or in ``raw_input_contents``; answers go back the way they came."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from model_service.errors import InvalidInput
from model_service.grpc_v2 import grpc_predict_v2_pb2 as pb
from model_service.grpc_v2.tensors import infer_response, read_infer_request

VALUES: dict[str, list[object]] = {
    "FP64": [1.5, -2.0],
    "INT64": [3, -4],
    "BOOL": [True, False],
    "BYTES": ["a", "é"],
}


def _raw(datatype: str, values: list[object]) -> bytes:
    if datatype == "BYTES":
        encoded = [str(value).encode() for value in values]
        return b"".join(struct.pack("<I", len(value)) + value for value in encoded)
    dtype = {"FP64": "<f8", "INT64": "<i8", "BOOL": "?"}[datatype]
    return np.asarray(values, dtype=dtype).tobytes()


def _typed(datatype: str, values: list[object]) -> pb.InferTensorContents:
    contents = pb.InferTensorContents()
    if datatype == "BYTES":
        contents.bytes_contents.extend(str(value).encode() for value in values)
    else:
        field = {"FP64": "fp64_contents", "INT64": "int64_contents", "BOOL": "bool_contents"}
        getattr(contents, field[datatype]).extend(values)
    return contents


@pytest.mark.parametrize("datatype", sorted(VALUES))
@pytest.mark.parametrize("raw", [False, True])
def test_typed_and_raw_contents_give_the_same_tensor(datatype: str, raw: bool) -> None:
    message = pb.ModelInferRequest(model_name="m", id="call-1")
    tensor = message.inputs.add(name="x", datatype=datatype, shape=[2])
    if raw:
        message.raw_input_contents.append(_raw(datatype, VALUES[datatype]))
    else:
        tensor.contents.CopyFrom(_typed(datatype, VALUES[datatype]))
    message.outputs.add(name="y")
    request, came_raw = read_infer_request(message)
    assert came_raw is raw
    assert request.inputs == [
        {
            "name": "x",
            "datatype": datatype,
            "shape": [2],
            "parameters": {},
            "data": VALUES[datatype],
        }
    ]
    assert request.requested_outputs == ["y"]
    assert request.id == "call-1"


def test_raw_contents_must_match_the_inputs_one_to_one() -> None:
    message = pb.ModelInferRequest(model_name="m")
    message.inputs.add(name="a", datatype="FP64", shape=[1])
    message.inputs.add(name="b", datatype="FP64", shape=[1])
    message.raw_input_contents.append(_raw("FP64", [1.0]))
    with pytest.raises(InvalidInput, match="one per input"):
        read_infer_request(message)


BODY = {
    "model_name": "m",
    "model_version": "1",
    "id": "call-1",
    "outputs": [
        {"name": "label", "datatype": "BYTES", "shape": [2], "data": ["a", "é"]},
        {"name": "score", "datatype": "FP64", "shape": [2, 1], "data": [0.25, 0.75]},
    ],
}


def test_an_answer_to_a_raw_request_is_raw() -> None:
    response = infer_response(BODY, raw=True)
    assert [output.name for output in response.outputs] == ["label", "score"]
    assert list(response.outputs[1].shape) == [2, 1]
    assert response.raw_output_contents[0] == _raw("BYTES", ["a", "é"])
    assert np.frombuffer(response.raw_output_contents[1], "<f8").tolist() == [0.25, 0.75]
    assert not response.outputs[1].HasField("contents")


def test_an_answer_to_a_typed_request_is_typed() -> None:
    response = infer_response(BODY, raw=False)
    assert response.id == "call-1"
    assert list(response.outputs[0].contents.bytes_contents) == [b"a", "é".encode()]
    assert list(response.outputs[1].contents.fp64_contents) == [0.25, 0.75]
    assert not response.raw_output_contents
