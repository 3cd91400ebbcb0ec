"""V2 against the real service (gunicorn): every installed example model, and tritonclient.

The service loads every model the entry points register, so a newly installed example package
is covered without a change here. ``tritonclient`` is a V2 client nobody on this project wrote:
it must read the metadata and predict with every model, over plain JSON and over its default
binary tensor data, and get the same results as ``/api``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException, triton_to_np_dtype

from tests.support import RunningService, run_service
from tests.v2.helpers import ERROR_KEYS, outputs_to_rows, rows_to_request, sample_rows

pytestmark = pytest.mark.server

ROWS = 6
SETTINGS = {"APP_SETTINGS": "config.TestingConfig", "MODEL_SERVICE_LOAD_ENTRY_POINTS": "true"}


@pytest.fixture(scope="module")
def service() -> Iterator[RunningService]:
    with run_service(["--workers", "1", "--threads", "4"], env=SETTINGS) as running:
        yield running


@pytest.fixture(scope="module")
def models(service: RunningService) -> list[dict[str, Any]]:
    """``/api`` metadata of every loaded model; the examples must be among them."""
    names = [model["qualified_name"] for model in get(service, "/api/models")["models"]]
    print("V2 server tests cover:", ", ".join(names))
    assert "iris_model" in names
    return [get(service, f"/api/models/{name}/metadata") for name in names]


def get(service: RunningService, path: str) -> Any:
    response = requests.get(service.url(path), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def post(service: RunningService, path: str, body: Any) -> requests.Response:
    return requests.post(service.url(path), json=body, timeout=30)


def test_server_endpoints(service: RunningService) -> None:
    assert get(service, "/v2")["name"] == "model-service"
    assert get(service, "/v2/health/live") == {"live": True}
    assert get(service, "/v2/health/ready") == {"ready": True}


def test_every_model_is_ready_and_described(
    service: RunningService, models: list[dict[str, Any]]
) -> None:
    for model in models:
        name = model["qualified_name"]
        assert get(service, f"/v2/models/{name}/ready") == {"name": name, "ready": True}
        metadata = get(service, f"/v2/models/{name}/versions/{model['version']}")
        assert metadata["name"] == name
        assert [tensor["name"] for tensor in metadata["inputs"]] == list(
            model["input_schema"]["properties"]
        )


def test_a_batch_as_tensors_equals_the_same_rows_through_the_rest_api(
    service: RunningService, models: list[dict[str, Any]]
) -> None:
    for model in models:
        name = model["qualified_name"]
        rows = sample_rows(model, ROWS)
        expected = post(service, f"/api/models/{name}/predict", rows)
        assert expected.status_code == 200, expected.text
        metadata = get(service, f"/v2/models/{name}")
        response = post(service, f"/v2/models/{name}/infer", rows_to_request(metadata, rows))
        assert response.status_code == 200, response.text
        assert outputs_to_rows(metadata, response.json()["outputs"]) == expected.json(), name


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/v2/models/no_such_model/infer", {"inputs": []}, 404, "not loaded"),
        (
            "/v2/models/iris_model/infer",
            {
                "inputs": [
                    {"name": "sepal_length", "shape": [2, 2], "datatype": "FP64", "data": [1] * 4}
                ]
            },
            400,
            "does not fit this input's shape",
        ),
        (
            "/v2/models/iris_model/infer",
            {
                "inputs": [
                    {"name": "sepal_length", "shape": [1], "datatype": "BYTES", "data": ["1"]}
                ]
            },
            400,
            "datatype BYTES does not fit",
        ),
        (
            "/v2/models/iris_model/infer",
            {"inputs": [{"name": "sepal_length", "shape": [1], "datatype": "FP64", "data": [1.0]}]},
            400,
            "petal_width: required input tensor is missing",
        ),
    ],
)
def test_bad_requests_get_a_4xx_with_a_message(
    service: RunningService, path: str, body: Any, status: int, fragment: str
) -> None:
    response = post(service, path, body)
    assert response.status_code == status
    assert set(response.json()) == ERROR_KEYS
    assert fragment in response.json()["error"]


def triton_inputs(
    metadata: dict[str, Any], request: dict[str, Any], binary: bool
) -> list[triton.InferInput]:
    """The infer request's tensors as ``tritonclient`` inputs with numpy data."""
    inputs = []
    for tensor in request["inputs"]:
        dtype = object if tensor["datatype"] == "BYTES" else triton_to_np_dtype(tensor["datatype"])
        data = np.array(tensor["data"], dtype=dtype).reshape(tensor["shape"])
        infer_input = triton.InferInput(tensor["name"], tensor["shape"], tensor["datatype"])
        infer_input.set_data_from_numpy(data, binary_data=binary)
        inputs.append(infer_input)
    return inputs


def result_rows(metadata: dict[str, Any], result: Any) -> list[dict[str, Any]]:
    """``InferResult`` read back through ``as_numpy``, into result objects."""
    outputs = []
    for tensor in metadata["outputs"]:
        array = result.as_numpy(tensor["name"])
        data = [
            value.decode() if isinstance(value, bytes) else value
            for value in array.ravel().tolist()
        ]
        outputs.append({"name": tensor["name"], "shape": list(array.shape), "data": data})
    return outputs_to_rows(metadata, outputs)


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary-inputs"])
def test_tritonclient_reads_metadata_and_predicts_with_every_model(
    service: RunningService, models: list[dict[str, Any]], binary: bool
) -> None:
    client = triton.InferenceServerClient(service.base_url.removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready()
    for model in models:
        name = model["qualified_name"]
        metadata = client.get_model_metadata(name)
        rows = sample_rows(model, ROWS)
        request = rows_to_request(metadata, rows)
        outputs = [
            triton.InferRequestedOutput(tensor["name"], binary_data=False)
            for tensor in metadata["outputs"]
        ]
        result = client.infer(
            name, triton_inputs(metadata, request, binary), outputs=outputs, request_id="t-1"
        )
        assert result.get_response()["id"] == "t-1"
        expected = post(service, f"/api/models/{name}/predict", rows).json()
        assert result_rows(metadata, result) == expected, name


def test_tritonclient_sees_a_bad_request_as_an_error_with_the_message(
    service: RunningService,
) -> None:
    client = triton.InferenceServerClient(service.base_url.removeprefix("http://"))
    infer_input = triton.InferInput("sepal_length", [1], "FP64")
    infer_input.set_data_from_numpy(np.array([5.1]), binary_data=False)
    with pytest.raises(InferenceServerException) as raised:
        client.infer("iris_model", [infer_input])
    assert raised.value.status() == "400"
    assert "petal_width: required input tensor is missing" in raised.value.message()
