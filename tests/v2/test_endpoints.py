"""The /v2 blueprint through Flask's test client: every endpoint and every error path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton
from flask.testing import FlaskClient

from tests.v2.helpers import outputs_to_rows, rows_to_request

IRIS_INFER = "/v2/models/iris_model/infer"
ECHO_INFER = "/v2/models/echo/versions/1.0.0/infer"
IRIS_FIELDS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
IRIS_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]


def iris_tensors(rows: list[list[float]], datatype: str = "FP64") -> list[dict[str, Any]]:
    return [
        {"name": name, "shape": [len(rows)], "datatype": datatype, "data": [r[i] for r in rows]}
        for i, name in enumerate(IRIS_FIELDS)
    ]


def echo_tensors(**changes: Any) -> list[dict[str, Any]]:
    tensors = {
        "x": {"name": "x", "shape": [2], "datatype": "FP64", "data": [1.5, 99.0]},
        "count": {"name": "count", "shape": [2], "datatype": "INT64", "data": [2, 3]},
        "flag": {"name": "flag", "shape": [2], "datatype": "BOOL", "data": [True, False]},
        "colour": {"name": "colour", "shape": [2], "datatype": "BYTES", "data": ["red", "blue"]},
    }
    for name, change in changes.items():
        if change is None:
            del tensors[name]
        else:
            tensors[name] = {**tensors.get(name, {"name": name}), **change}
    return list(tensors.values())


def api_results(client: FlaskClient, rows: list[list[float]]) -> list[Any]:
    items = [dict(zip(IRIS_FIELDS, row, strict=True)) for row in rows]
    response = client.post("/api/models/iris_model/predict", json=items)
    assert response.status_code == 200
    return list(response.get_json())


# --- server and model endpoints ----------------------------------------------------------------


def test_server_metadata_names_the_service(client: FlaskClient) -> None:
    body = client.get("/v2").get_json()
    assert body["name"] == "model-service"
    assert body["version"]
    assert body["extensions"] == ["model_repository"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v2/health/live", {"live": True}),
        ("/v2/health/ready", {"ready": True}),
        ("/v2/models/echo/ready", {"name": "echo", "ready": True}),
        ("/v2/models/echo/versions/1.0.0/ready", {"name": "echo", "ready": True}),
    ],
)
def test_health_and_readiness_answer_200(client: FlaskClient, path: str, body: Any) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json() == body


def test_server_not_ready_is_a_503_with_reasons(app: Any, client: FlaskClient) -> None:
    app.extensions["model_service"].settings["REQUIRED_MODELS"] = ["absent_model"]
    response = client.get("/v2/health/ready")
    assert response.status_code == 503
    assert response.get_json()["ready"] is False
    assert any("absent_model" in reason for reason in response.get_json()["reasons"])


def test_model_metadata_maps_each_field_to_a_tensor(client: FlaskClient) -> None:
    metadata = client.get("/v2/models/echo/versions/1.0.0").get_json()
    assert metadata["name"] == "echo"
    assert metadata["versions"] == ["2.0.0", "1.0.0"]
    assert metadata["platform"] == "model_service"
    assert metadata["parameters"]["version"] == "1.0.0"
    assert metadata["inputs"] == [
        {"name": "x", "datatype": "FP64", "shape": [-1]},
        {"name": "count", "datatype": "INT64", "shape": [-1]},
        {"name": "flag", "datatype": "BOOL", "shape": [-1]},
        {"name": "colour", "datatype": "BYTES", "shape": [-1]},
        {"name": "note", "datatype": "BYTES", "shape": [-1], "parameters": {"optional": True}},
        {"name": "day", "datatype": "BYTES", "shape": [-1], "parameters": {"optional": True}},
        {"name": "values", "datatype": "FP64", "shape": [-1, -1], "parameters": {"optional": True}},
    ]
    assert metadata["outputs"] == [
        {
            "name": "received",
            "datatype": "BYTES",
            "shape": [-1],
            "parameters": {"content_type": "application/json"},
        },
        {"name": "calls", "datatype": "INT64", "shape": [-1]},
    ]


def test_classifier_metadata_has_a_2d_probability_tensor_and_the_matrix_option(
    client: FlaskClient,
) -> None:
    metadata = client.get("/v2/models/iris_model").get_json()
    assert metadata["outputs"] == [
        {"name": "species", "datatype": "BYTES", "shape": [-1]},
        {
            "name": "probabilities",
            "datatype": "FP64",
            "shape": [-1, 3],
            "parameters": {"columns": "setosa,versicolor,virginica"},
        },
    ]
    assert metadata["parameters"]["matrix_input"] == "input-0"
    assert metadata["parameters"]["matrix_input_columns"] == ",".join(IRIS_FIELDS)


def test_unversioned_paths_use_the_default_version(client: FlaskClient) -> None:
    assert client.get("/v2/models/echo").get_json()["parameters"]["version"] == "2.0.0"
    response = client.post("/v2/models/echo/infer", json={"inputs": echo_tensors()})
    assert response.get_json()["model_version"] == "2.0.0"


# --- infer --------------------------------------------------------------------------------------


def test_infer_gives_the_same_results_as_the_rest_api(client: FlaskClient) -> None:
    metadata = client.get("/v2/models/iris_model").get_json()
    response = client.post(IRIS_INFER, json={"id": "req-7", "inputs": iris_tensors(IRIS_ROWS)})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["model_name"], body["model_version"], body["id"]) == (
        "iris_model",
        "1.0.0",
        "req-7",
    )
    assert [output["shape"] for output in body["outputs"]] == [[3], [3, 3]]
    assert outputs_to_rows(metadata, body["outputs"]) == api_results(client, IRIS_ROWS)


@pytest.mark.parametrize(
    "tensor",
    [
        {"name": "input-0", "shape": [3, 4], "datatype": "FP64", "data": IRIS_ROWS},
        {
            "name": "input-0",
            "shape": [3, 4],
            "datatype": "FP64",
            "data": [value for row in IRIS_ROWS for value in row],
        },
    ],
    ids=["nested", "flat"],
)
def test_one_matrix_tensor_holds_all_fields_in_schema_order(
    client: FlaskClient, tensor: dict[str, Any]
) -> None:
    metadata = client.get("/v2/models/iris_model").get_json()
    body = client.post(IRIS_INFER, json={"inputs": [tensor]}).get_json()
    assert outputs_to_rows(metadata, body["outputs"]) == api_results(client, IRIS_ROWS)


@pytest.mark.parametrize(
    ("shape", "data"),
    [([2], [1.5, 99.0]), ([2, 1], [1.5, 99.0]), ([2, 1], [[1.5], [99.0]])],
)
def test_a_scalar_field_takes_shape_n_or_n_by_1_flat_or_nested(
    client: FlaskClient, shape: list[int], data: list[Any]
) -> None:
    request = {"inputs": echo_tensors(x={"shape": shape, "data": data})}
    body = client.post(ECHO_INFER, json=request).get_json()
    assert (
        outputs_to_rows(client.get("/v2/models/echo").get_json(), body["outputs"])[1]["received"][
            "x"
        ]
        == 99.0
    )


def test_every_datatype_reaches_the_model_as_its_json_type(client: FlaskClient) -> None:
    request = {
        "inputs": echo_tensors(
            count={"datatype": "INT8"},
            note={"shape": [2], "datatype": "BYTES", "data": ["a", "b"]},
            day={"shape": [2], "datatype": "BYTES", "data": ["2024-01-31", "2024-02-29"]},
            values={"shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3, 4]]},
        )
    }
    metadata = client.get("/v2/models/echo/versions/1.0.0").get_json()
    body = client.post(ECHO_INFER, json=request).get_json()
    received = [row["received"] for row in outputs_to_rows(metadata, body["outputs"])]
    assert received == [
        {"x": 1.5, "count": 2, "flag": True, "colour": "red", "note": "a", "day": "2024-01-31",
         "values": [1.0, 2.0]},
        {"x": 99.0, "count": 3, "flag": False, "colour": "blue", "note": "b", "day": "2024-02-29",
         "values": [3.0, 4.0]},
    ]  # fmt: skip


def test_optional_inputs_may_be_left_out_and_take_their_defaults(client: FlaskClient) -> None:
    body = client.post(ECHO_INFER, json={"inputs": echo_tensors()}).get_json()
    assert '"note":"none"' in body["outputs"][0]["data"][0]


def test_outputs_filter_returns_only_the_named_tensors(client: FlaskClient) -> None:
    request = {"inputs": iris_tensors(IRIS_ROWS), "outputs": [{"name": "probabilities"}]}
    body = client.post(IRIS_INFER, json=request).get_json()
    assert [output["name"] for output in body["outputs"]] == ["probabilities"]


def test_parameters_are_accepted(client: FlaskClient) -> None:
    request = {
        "parameters": {"content_type": "np", "priority": 1},
        "inputs": [{**tensor, "parameters": {"x": True}} for tensor in iris_tensors(IRIS_ROWS)],
        "outputs": [{"name": "species", "parameters": {"binary_data": False}}],
    }
    assert client.post(IRIS_INFER, json=request).status_code == 200


def test_no_rows_give_empty_tensors(client: FlaskClient) -> None:
    body = client.post(IRIS_INFER, json={"inputs": iris_tensors([])}).get_json()
    assert [output["shape"] for output in body["outputs"]] == [[0], [0, 3]]


def test_binary_tensor_data_from_tritonclient_is_read(client: FlaskClient) -> None:
    rows = np.array(IRIS_ROWS)
    inputs = []
    for index, name in enumerate(IRIS_FIELDS):
        tensor = triton.InferInput(name, [len(rows)], "FP64")
        tensor.set_data_from_numpy(rows[:, index].copy(), binary_data=True)
        inputs.append(tensor)
    body, json_size = triton.InferenceServerClient.generate_request_body(inputs)
    response = client.post(
        IRIS_INFER, data=body, headers={"Inference-Header-Content-Length": str(json_size)}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    metadata = client.get("/v2/models/iris_model").get_json()
    assert outputs_to_rows(metadata, response.get_json()["outputs"]) == api_results(
        client, IRIS_ROWS
    )


def test_binary_bytes_tensors_are_read(client: FlaskClient) -> None:
    inputs = []
    for tensor in echo_tensors():
        data = np.array(tensor["data"], dtype=object if tensor["datatype"] == "BYTES" else None)
        if tensor["datatype"] == "FP64":
            data = data.astype(np.float64)
        infer_input = triton.InferInput(tensor["name"], tensor["shape"], tensor["datatype"])
        infer_input.set_data_from_numpy(data, binary_data=True)
        inputs.append(infer_input)
    body, json_size = triton.InferenceServerClient.generate_request_body(inputs)
    response = client.post(
        ECHO_INFER, data=body, headers={"Inference-Header-Content-Length": str(json_size)}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert '"colour":"blue"' in response.get_json()["outputs"][0]["data"][1]


def test_rows_from_the_metadata_mapping_round_trip(client: FlaskClient) -> None:
    metadata = client.get("/v2/models/echo/versions/1.0.0").get_json()
    rows = [{"x": 2.0, "count": 1, "flag": False, "colour": "green", "values": [1.0, 2.0, 3.0]}]
    body = client.post(ECHO_INFER, json=rows_to_request(metadata, rows)).get_json()
    assert outputs_to_rows(metadata, body["outputs"])[0]["received"] == {**rows[0], "note": "none"}


def test_a_model_without_declared_fields_takes_and_gives_whole_json_objects(
    client: FlaskClient,
) -> None:
    metadata = client.get("/v2/models/free_form").get_json()
    assert [tensor["name"] for tensor in metadata["inputs"]] == ["item"]
    tensor = {"name": "item", "shape": [2], "datatype": "BYTES", "data": ['{"b": 1, "a": 2}', "{}"]}
    body = client.post("/v2/models/free_form/infer", json={"inputs": [tensor]}).get_json()
    assert body["outputs"] == [
        {
            "name": "result",
            "datatype": "BYTES",
            "shape": [2],
            "data": ['{"keys":["a","b"]}', '{"keys":[]}'],
        }
    ]


def test_an_optional_output_missing_from_a_row_is_null(client: FlaskClient) -> None:
    tensor = {"name": "x", "shape": [2], "datatype": "FP64", "data": [1.5, -1.0]}
    body = client.post("/v2/models/sometimes/infer", json={"inputs": [tensor]}).get_json()
    assert body["outputs"][1] == {
        "name": "score",
        "datatype": "FP64",
        "shape": [2],
        "data": [3.0, None],
    }
