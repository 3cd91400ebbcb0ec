"""The V2 gRPC API against the real service (``model-service serve --grpc-port``, gunicorn).

``tritonclient.grpc`` is the client nobody on this project wrote: it sends raw tensor bytes by
default. Typed ``contents`` requests, and the trailing metadata of errors, go through the
project's own generated stub. Every example model must answer what ``/api`` answers.
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import requests
import tritonclient.grpc as triton
from tritonclient.utils import InferenceServerException, triton_to_np_dtype

from model_service.grpc_v2 import grpc_predict_v2_pb2 as pb
from model_service.grpc_v2 import grpc_predict_v2_pb2_grpc as pb_grpc
from model_service.grpc_v2.tensors import CONTENTS_FIELD
from tests.fixtures import entry
from tests.grpc.toy_models import SlowModel
from tests.server.conftest import wait_for
from tests.support import RunningService, free_port, run_service
from tests.v2.helpers import outputs_to_rows, rows_to_request, sample_rows

pytestmark = pytest.mark.server

ROWS = 5
SETTINGS = {
    "APP_SETTINGS": "config.TestingConfig",
    "MODEL_SERVICE_LOAD_ENTRY_POINTS": "true",
    "MODEL_SERVICE_MODELS": json.dumps([entry(SlowModel)]),
}
SERVING = re.compile(r"gRPC server process (\d+) serving on")
IRIS_FIELDS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


class GrpcService:
    """A running service with its gRPC port, and clients for it."""

    def __init__(self, running: RunningService, port: int) -> None:
        self.running = running
        self.address = f"127.0.0.1:{port}"
        self.triton = triton.InferenceServerClient(self.address)
        self.stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(self.address))

    def get(self, path: str) -> Any:
        response = requests.get(self.running.url(path), timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def serving_pids(self) -> list[int]:
        return [int(pid) for pid in SERVING.findall(self.running.log())]

    def live(self) -> bool:
        try:
            return bool(self.stub.ServerLive(pb.ServerLiveRequest(), timeout=1).live)
        except grpc.RpcError:
            return False


@contextmanager
def grpc_service(**env: str) -> Iterator[GrpcService]:
    port = free_port()
    args = ["--workers", "1", "--grpc-port", str(port)]
    with run_service(args, env={**SETTINGS, **env}) as running:
        service = GrpcService(running, port)
        wait_for(service.live, "the gRPC server answering ServerLive")
        yield service


@pytest.fixture(scope="module")
def service() -> Iterator[GrpcService]:
    with grpc_service() as running:
        yield running


@pytest.fixture(scope="module")
def models(service: GrpcService) -> list[dict[str, Any]]:
    """``/api`` metadata of every example model (entry points) and the toy."""
    names = [model["qualified_name"] for model in service.get("/api/models")["models"]]
    assert {"iris_model", "digits_model", "bike_demand_model", "slow"} <= set(names)
    return [service.get(f"/api/models/{name}/metadata") for name in names]


def examples(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [model for model in models if model["qualified_name"] != "slow"]


def iris_inputs(datatype: str = "FP64", drop: int = 0) -> list[triton.InferInput]:
    inputs = []
    for name in IRIS_FIELDS[drop:]:
        tensor = triton.InferInput(name, [2], datatype)
        if datatype == "BYTES":
            tensor.set_data_from_numpy(np.array([b"5.1", b"6.2"], dtype=object))
        else:
            tensor.set_data_from_numpy(np.array([5.1, 6.2], dtype=triton_to_np_dtype(datatype)))
        inputs.append(tensor)
    return inputs


# --- health and metadata ------------------------------------------------------------------------


def test_server_is_live_ready_and_described(service: GrpcService) -> None:
    assert service.triton.is_server_live()
    assert service.triton.is_server_ready()
    assert service.triton.get_server_metadata().name == "model-service"
    assert service.get("/api/health/ready")["reasons"] == []


def test_every_model_is_ready_and_described_as_over_rest(
    service: GrpcService, models: list[dict[str, Any]]
) -> None:
    for model in models:
        name = model["qualified_name"]
        assert service.triton.is_model_ready(name)
        assert service.triton.is_model_ready(name, model["version"])
        described = service.triton.get_model_metadata(name)
        rest = service.get(f"/v2/models/{name}")
        assert (described.name, list(described.versions), described.platform) == (
            rest["name"],
            rest["versions"],
            rest["platform"],
        )
        for tensors, rest_tensors in [
            (described.inputs, rest["inputs"]),
            (described.outputs, rest["outputs"]),
        ]:
            assert [(t.name, t.datatype, list(t.shape)) for t in tensors] == [
                (t["name"], t["datatype"], t["shape"]) for t in rest_tensors
            ]


# --- inference ----------------------------------------------------------------------------------


def _v2_request(service: GrpcService, model: dict[str, Any]) -> tuple[Any, Any, list[Any]]:
    name = model["qualified_name"]
    rows = sample_rows(model, ROWS)
    expected = requests.post(service.running.url(f"/api/models/{name}/predict"), json=rows)
    assert expected.status_code == 200, expected.text
    metadata = service.get(f"/v2/models/{name}")
    return metadata, rows_to_request(metadata, rows), expected.json()


def _flat(array: Any) -> list[Any]:
    values = array.reshape(-1).tolist()
    return [value.decode() if isinstance(value, bytes) else value for value in values]


def test_raw_tensors_from_tritonclient_answer_what_the_rest_api_answers(
    service: GrpcService, models: list[dict[str, Any]]
) -> None:
    for model in examples(models):
        metadata, request, expected = _v2_request(service, model)
        inputs = []
        for tensor in request["inputs"]:
            bytes_type = tensor["datatype"] == "BYTES"
            dtype = object if bytes_type else triton_to_np_dtype(tensor["datatype"])
            data = np.array(tensor["data"], dtype=dtype).reshape(tensor["shape"])
            infer_input = triton.InferInput(tensor["name"], tensor["shape"], tensor["datatype"])
            infer_input.set_data_from_numpy(data)
            inputs.append(infer_input)
        result = service.triton.infer(model["qualified_name"], inputs, request_id="r-1")
        answer = result.get_response()
        assert answer.id == "r-1"
        assert len(answer.raw_output_contents) == len(answer.outputs)
        outputs = [
            {
                "name": output.name,
                "shape": list(output.shape),
                "data": _flat(result.as_numpy(output.name)),
            }
            for output in answer.outputs
        ]
        assert outputs_to_rows(metadata, outputs) == expected, model["qualified_name"]


def _contents(tensor: dict[str, Any]) -> pb.InferTensorContents:
    contents = pb.InferTensorContents()
    values = tensor["data"]
    if tensor["datatype"] == "BYTES":
        values = [str(value).encode() for value in values]
    getattr(contents, CONTENTS_FIELD[tensor["datatype"]]).extend(values)
    return contents


def test_typed_contents_answer_what_the_rest_api_answers_in_typed_contents(
    service: GrpcService, models: list[dict[str, Any]]
) -> None:
    for model in examples(models):
        metadata, request, expected = _v2_request(service, model)
        message = pb.ModelInferRequest(model_name=model["qualified_name"])
        for tensor in request["inputs"]:
            message.inputs.add(
                name=tensor["name"], datatype=tensor["datatype"], shape=tensor["shape"]
            ).contents.CopyFrom(_contents(tensor))
        answer = service.stub.ModelInfer(message, timeout=30)
        assert not answer.raw_output_contents
        outputs = []
        for output in answer.outputs:
            data = list(getattr(output.contents, CONTENTS_FIELD[output.datatype]))
            if output.datatype == "BYTES":
                data = [value.decode() for value in data]
            outputs.append({"name": output.name, "shape": list(output.shape), "data": data})
        assert outputs_to_rows(metadata, outputs) == expected, model["qualified_name"]


# --- errors -------------------------------------------------------------------------------------


def _error_details(error: grpc.RpcError) -> dict[str, Any]:
    metadata = dict(error.trailing_metadata())
    assert re.fullmatch(r"[0-9a-f]{32}", metadata["x-request-id"])
    return json.loads(metadata["error-details"])["error"]


@pytest.mark.parametrize(
    ("tensors", "path", "fragment"),
    [
        (
            [("sepal_length", "BYTES", [1], [b"1"])],
            ["inputs", "sepal_length"],
            "datatype BYTES does not fit",
        ),
        (
            [(name, "FP64", [2, 2], [1.0] * 4) for name in IRIS_FIELDS],
            ["inputs", "sepal_length"],
            "does not fit this input's shape",
        ),
        (
            [(name, "FP64", [1], [1.0]) for name in IRIS_FIELDS[:3]],
            ["inputs", "petal_width"],
            "required input tensor is missing",
        ),
    ],
    ids=["wrong-datatype", "wrong-shape", "missing-input"],
)
def test_bad_tensors_are_invalid_argument_with_details_in_trailing_metadata(
    service: GrpcService,
    tensors: list[tuple[str, str, list[int], list[Any]]],
    path: list[str],
    fragment: str,
) -> None:
    message = pb.ModelInferRequest(model_name="iris_model")
    for name, datatype, shape, data in tensors:
        message.inputs.add(name=name, datatype=datatype, shape=shape).contents.CopyFrom(
            _contents({"datatype": datatype, "data": data})
        )
    with pytest.raises(grpc.RpcError) as raised:
        service.stub.ModelInfer(message, timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fragment in raised.value.details()
    error = _error_details(raised.value)
    assert error["type"] == "invalid_input"
    assert any(
        detail["path"] == path and fragment in detail["message"] for detail in error["details"]
    ), error


def test_tritonclient_shows_the_invalid_argument_and_its_problems(service: GrpcService) -> None:
    with pytest.raises(InferenceServerException) as raised:
        service.triton.infer("iris_model", iris_inputs("BYTES", drop=3))
    assert raised.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "petal_width: datatype BYTES does not fit" in raised.value.message()
    assert "sepal_length: required input tensor is missing" in raised.value.message()


@pytest.mark.parametrize(("name", "version"), [("no_such_model", ""), ("iris_model", "9.9.9")])
def test_an_unknown_model_or_version_is_not_found(
    service: GrpcService, name: str, version: str
) -> None:
    with pytest.raises(InferenceServerException) as raised:
        service.triton.infer(name, iris_inputs(), model_version=version)
    assert raised.value.status() == "StatusCode.NOT_FOUND"
    with pytest.raises(InferenceServerException) as raised:
        service.triton.get_model_metadata(name, version)
    assert raised.value.status() == "StatusCode.NOT_FOUND"


def slow_inputs(seconds: float, marker: Path | None = None) -> list[triton.InferInput]:
    duration = triton.InferInput("seconds", [1], "FP64")
    duration.set_data_from_numpy(np.array([seconds]))
    if marker is None:
        return [duration]
    path = triton.InferInput("marker", [1], "BYTES")
    path.set_data_from_numpy(np.array([str(marker).encode()], dtype=object))
    return [duration, path]


def test_a_hung_model_past_the_client_deadline_is_deadline_exceeded_and_others_still_answer(
    service: GrpcService,
) -> None:
    with pytest.raises(InferenceServerException) as raised:
        service.triton.infer("slow", slow_inputs(5.0), client_timeout=0.5)
    assert raised.value.status() == "StatusCode.DEADLINE_EXCEEDED"
    # the server itself gave up at the deadline (it would count OK after the model's 5 s)
    wait_for(
        lambda: ("DEADLINE_EXCEEDED", "ModelInfer") in grpc_counts(service),
        "the DEADLINE_EXCEEDED call counted",
        timeout=3,
    )
    result = service.triton.infer("iris_model", iris_inputs())
    assert _flat(result.as_numpy("species")) == ["virginica", "virginica"]
    assert service.triton.is_server_ready()


def grpc_counts(service: GrpcService) -> dict[tuple[str, str], float]:
    """``model_service_grpc_requests_total`` by (code, method), from ``/metrics``."""
    metrics = requests.get(service.running.url("/metrics"), timeout=10).text
    pattern = r'model_service_grpc_requests_total\{code="(\w+)",method="(\w+)"\} ([0-9.e+]+)'
    return {(code, method): float(count) for code, method, count in re.findall(pattern, metrics)}


def test_a_model_that_raises_is_internal_without_its_trace(service: GrpcService) -> None:
    with pytest.raises(InferenceServerException) as raised:
        service.triton.infer("slow", slow_inputs(-1.0))  # time.sleep refuses a negative length
    assert raised.value.status() == "StatusCode.INTERNAL"
    assert "negative" not in raised.value.message()
    assert "Traceback" not in raised.value.message()


def test_the_calls_appear_in_prometheus_metrics(service: GrpcService) -> None:
    service.triton.infer("iris_model", iris_inputs())
    with pytest.raises(InferenceServerException):
        service.triton.infer("no_such_model", iris_inputs())
    metrics = requests.get(service.running.url("/metrics"), timeout=10).text
    counted = grpc_counts(service)
    assert counted[("OK", "ModelInfer")] >= 1
    assert counted[("NOT_FOUND", "ModelInfer")] >= 1
    assert re.search(
        r'model_service_grpc_request_duration_seconds_count\{method="ModelInfer"\} [1-9]', metrics
    )
    assert re.search(
        r'model_service_predictions_total\{model="iris_model",version="1.0.0"\} [1-9]', metrics
    )


# --- processes ----------------------------------------------------------------------------------


def test_sigterm_lets_calls_in_flight_complete(tmp_path: Path) -> None:
    with grpc_service(MODEL_SERVICE_BATCHING_ENABLED="false") as service:
        markers = [tmp_path / "first", tmp_path / "second"]
        calls = []
        for marker in markers:
            message = pb.ModelInferRequest(model_name="slow")
            message.inputs.add(
                name="seconds", datatype="FP64", shape=[1]
            ).contents.fp64_contents.append(1.5)
            message.inputs.add(
                name="marker", datatype="BYTES", shape=[1]
            ).contents.bytes_contents.append(str(marker).encode())
            calls.append(service.stub.ModelInfer.future(message, timeout=30))
        wait_for(lambda: all(marker.exists() for marker in markers), "both calls started")
        os.kill(service.running.process.pid, signal.SIGTERM)
        answers = [call.result() for call in calls]
        assert [list(answer.outputs[0].contents.fp64_contents) for answer in answers] == [
            [1.5],
            [1.5],
        ]
        assert service.running.process.wait(timeout=30) == 0
        assert not service.live()


def test_a_killed_grpc_process_is_restarted() -> None:
    with grpc_service() as service:
        [first] = service.serving_pids()
        os.kill(first, signal.SIGKILL)
        wait_for(
            lambda: len(service.serving_pids()) == 2 and service.live(),
            "a new gRPC process serving",
        )
        assert service.serving_pids()[1] != first
        assert service.triton.infer("iris_model", iris_inputs()).as_numpy("species") is not None


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [(1001, "at most 1000 per request"), (200_000, "larger than max")],
    ids=["more-rows-than-MAX_BATCH_ITEMS", "message-over-MAX_CONTENT_LENGTH"],
)
def test_too_many_rows_or_too_big_a_message_is_resource_exhausted(
    service: GrpcService, rows: int, fragment: str
) -> None:
    matrix = triton.InferInput("input-0", [rows, 4], "FP64")
    matrix.set_data_from_numpy(np.ones((rows, 4)))
    with pytest.raises(InferenceServerException) as raised:
        service.triton.infer("iris_model", [matrix])
    assert raised.value.status() == "StatusCode.RESOURCE_EXHAUSTED"
    assert fragment in raised.value.message()
