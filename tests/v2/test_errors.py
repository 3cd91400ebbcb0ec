"""Every way a V2 request can be wrong gets a 4xx in the protocol's error shape, never a 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.v2.helpers import assert_v2_error
from tests.v2.test_endpoints import ECHO_INFER, IRIS_INFER, IRIS_ROWS, echo_tensors, iris_tensors


@pytest.mark.parametrize(
    ("method", "path", "status", "error_type"),
    [
        ("get", "/v2/models/nope", 404, "model_not_found"),
        ("get", "/v2/models/echo/versions/9.9.9", 404, "model_not_found"),
        ("get", "/v2/models/nope/ready", 404, "model_not_found"),
        ("post", "/v2/models/nope/infer", 404, "model_not_found"),
        ("post", "/v2/models/echo/versions/9.9.9/infer", 404, "model_not_found"),
        ("get", "/v2/no/such/endpoint", 404, "not_found"),
        ("get", IRIS_INFER, 405, "method_not_allowed"),
        ("delete", "/v2/models/echo", 405, "method_not_allowed"),
    ],
)
def test_unknown_model_version_or_route_answers_in_v2_shape(
    client: FlaskClient, method: str, path: str, status: int, error_type: str
) -> None:
    response = getattr(client, method)(path, json={"inputs": echo_tensors()})
    assert_v2_error(response, status, error_type)


def test_405_says_which_methods_are_allowed(client: FlaskClient) -> None:
    assert "POST" in client.get(IRIS_INFER).headers["Allow"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"inputs": [{"name": "x", "data": [NaN]}]}', "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b"{}", '"inputs"'),
        (b'{"inputs": []}', '"inputs"'),
        (b'{"inputs": {"x": 1}}', '"inputs"'),
        (b'{"id": 7, "inputs": [{}]}', '"id" must be a string'),
        (b'{"parameters": [], "inputs": [{}]}', '"parameters" must be'),
        (b'{"outputs": [{"nom": "x"}], "inputs": [{}]}', '"outputs" must be'),
    ],
)
def test_a_malformed_request_is_a_400(client: FlaskClient, body: bytes, fragment: str) -> None:
    response = client.post(IRIS_INFER, data=body, content_type="application/json")
    assert fragment in assert_v2_error(response, 400, "invalid_input")["error"]


@pytest.mark.parametrize(
    ("changes", "path", "fragment"),
    [
        ({"x": {"datatype": "BYTES", "data": ["1.5", "2"]}}, "x", "datatype BYTES does not fit"),
        ({"x": {"datatype": "FP128"}}, "x", "not a V2 datatype"),
        ({"x": {"datatype": None}}, "x", "not a V2 datatype"),
        ({"flag": {"datatype": "INT8", "data": [1, 0]}}, "flag", "datatype INT8 does not fit"),
        ({"x": {"shape": [3]}}, "x", "shape [3] holds 3 element(s) but data has 2"),
        ({"x": {"shape": [1, 2]}}, "x", "does not fit this input's shape [-1]"),
        ({"x": {"shape": [2, 1, 1]}}, "x", "does not fit this input's shape [-1]"),
        ({"x": {"shape": [-2]}}, "x", "non-negative integers"),
        ({"x": {"shape": "2"}}, "x", "non-negative integers"),
        ({"x": {"data": None}}, "x", '"data" must be a JSON array'),
        ({"x": {"data": [[1.5, [2.0]]]}}, "x", "nested deeper"),
        ({"x": {"data": [1.5, "two"]}}, "x", 'element 1 ("two") is not a FP64 value'),
        ({"count": {"data": [2, 1.5]}}, "count", "element 1 (1.5) is not a INT64 value"),
        ({"count": {"datatype": "INT8", "data": [2, 300]}}, "count", "element 1 (300)"),
        ({"count": {"datatype": "UINT8", "data": [2, -1]}}, "count", "not a UINT8 value"),
        ({"flag": {"data": [True, 1]}}, "flag", "is not a BOOL value"),
        ({"colour": {"data": ["red", 3]}}, "colour", "is not a BYTES value"),
        ({"values": {"shape": [2], "datatype": "FP64", "data": [1, 2]}}, "values", "[-1, -1]"),
        ({"colour": None}, "colour", "required input tensor is missing"),
        ({"bogus": {"shape": [2], "datatype": "FP64", "data": [1, 2]}}, "bogus", "no input"),
        ({"x": {"name": None}}, 0, 'no "name"'),
    ],
)
def test_a_bad_tensor_is_a_400_naming_the_input(
    client: FlaskClient, changes: dict[str, Any], path: Any, fragment: str
) -> None:
    response = client.post(ECHO_INFER, json={"inputs": echo_tensors(**changes)})
    body = assert_v2_error(response, 400, "invalid_input")
    assert {"path": ["inputs", path], "message": body["details"][0]["message"]} in body["details"]
    assert fragment in body["details"][0]["message"], body
    assert fragment in body["error"]


def test_every_tensor_problem_is_listed_at_once(client: FlaskClient) -> None:
    tensors = echo_tensors(x={"datatype": "BYTES"}, count={"shape": [5]}, colour=None)
    body = assert_v2_error(client.post(ECHO_INFER, json={"inputs": tensors}), 400, "invalid_input")
    assert [detail["path"] for detail in body["details"]] == [
        ["inputs", "x"],
        ["inputs", "count"],
        ["inputs", "colour"],
    ]


@pytest.mark.parametrize(
    ("tensors", "fragment"),
    [
        (echo_tensors(count={"shape": [3], "data": [1, 2, 3]}), "different row counts"),
        ([*echo_tensors(), echo_tensors()[0]], "given twice"),
        (["x"], "must be an object"),
    ],
)
def test_inconsistent_inputs_are_a_400(client: FlaskClient, tensors: Any, fragment: str) -> None:
    body = assert_v2_error(client.post(ECHO_INFER, json={"inputs": tensors}), 400, "invalid_input")
    assert fragment in body["error"]


@pytest.mark.parametrize(
    ("tensors", "fragment"),
    [
        ([{"name": "input-0", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}], "[-1, 4]"),
        ([{"name": "input-0", "shape": [1, 4], "datatype": "BOOL", "data": [True] * 4}], "BOOL"),
        (
            [
                {"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]},
                iris_tensors([[1, 2, 3, 4]])[0],
            ],
            "holds every input; send no other input",
        ),
    ],
)
def test_a_bad_matrix_input_is_a_400(client: FlaskClient, tensors: Any, fragment: str) -> None:
    body = assert_v2_error(client.post(IRIS_INFER, json={"inputs": tensors}), 400, "invalid_input")
    assert fragment in body["error"]


def test_the_matrix_input_exists_only_for_all_numeric_models(client: FlaskClient) -> None:
    tensor = {"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}
    body = assert_v2_error(client.post(ECHO_INFER, json={"inputs": [tensor]}), 400, "invalid_input")
    assert "no input 'input-0'" in body["error"]


def test_rows_off_the_input_schema_get_the_same_details_as_the_rest_api(
    client: FlaskClient,
) -> None:
    tensors = echo_tensors(x={"data": [150.0, 1.0]}, colour={"data": ["red", "purple"]})
    v2 = assert_v2_error(client.post(ECHO_INFER, json={"inputs": tensors}), 400, "invalid_input")
    items = [
        {"x": 150.0, "count": 2, "flag": True, "colour": "red"},
        {"x": 1.0, "count": 3, "flag": False, "colour": "purple"},
    ]
    api = client.post("/api/models/echo/versions/1.0.0/predict", json=items).get_json()["error"]
    assert (
        v2["details"]
        == api["details"]
        == [
            {"path": [0, "x"], "message": "150.0 is out of range: must be 0 <= value <= 100"},
            {"path": [1, "colour"], "message": "'purple' is not one of 'red', 'green', 'blue'"},
        ]
    )
    assert "0.x: 150.0 is out of range" in v2["error"]


def test_an_integral_float_for_an_integer_field_passes_a_fraction_does_not(
    client: FlaskClient,
) -> None:
    ok = echo_tensors(count={"datatype": "FP64", "data": [2.0, 3.0]})
    assert client.post(ECHO_INFER, json={"inputs": ok}).status_code == 200
    bad = echo_tensors(count={"datatype": "FP64", "data": [2.0, 3.5]})
    body = assert_v2_error(client.post(ECHO_INFER, json={"inputs": bad}), 400, "invalid_input")
    assert body["details"] == [{"path": [1, "count"], "message": "expected an integer, got number"}]


def test_the_error_string_lists_the_first_problems_and_counts_the_rest(
    client: FlaskClient,
) -> None:
    rows = [[11.0, 11.0, 11.0, 11.0]] * 2
    body = assert_v2_error(
        client.post(IRIS_INFER, json={"inputs": iris_tensors(rows)}), 400, "invalid_input"
    )
    assert len(body["details"]) == 8
    assert body["error"].endswith("and 3 more")


def test_an_unknown_requested_output_is_a_400(client: FlaskClient) -> None:
    request = {"inputs": iris_tensors(IRIS_ROWS), "outputs": [{"name": "colour"}]}
    body = assert_v2_error(client.post(IRIS_INFER, json=request), 400, "invalid_input")
    assert body["details"] == [
        {
            "path": ["outputs", "colour"],
            "message": "the model has no output 'colour'; it has species, probabilities",
        }
    ]


@pytest.mark.parametrize(
    ("header", "extra", "fragment"),
    [
        ("abc", b"", "Inference-Header-Content-Length"),
        ("100000", b"", "Inference-Header-Content-Length"),
        (None, b"\x00" * 8, "binary_data_size accounts for"),
    ],
)
def test_bad_binary_framing_is_a_400(
    client: FlaskClient, header: str | None, extra: bytes, fragment: str
) -> None:
    import orjson

    document = orjson.dumps({"inputs": iris_tensors(IRIS_ROWS)})
    response = client.post(
        IRIS_INFER,
        data=document + extra,
        headers={"Inference-Header-Content-Length": header or str(len(document))},
    )
    assert fragment in assert_v2_error(response, 400, "invalid_input")["error"]


@pytest.mark.parametrize(
    ("datatype", "raw", "fragment"),
    [
        ("FP64", b"\x00" * 7, "not a whole number of FP64 elements"),
        ("BYTES", b"\x05\x00\x00\x00ab", "runs past its data"),
        ("BYTES", b"\x02\x00", "truncated"),
        ("BYTES", b"\x02\x00\x00\x00\xff\xfe", "not UTF-8"),
        ("FP64", None, "runs past the end"),
    ],
)
def test_bad_binary_tensors_are_a_400(
    client: FlaskClient, datatype: str, raw: bytes | None, fragment: str
) -> None:
    import orjson

    size = len(raw) if raw is not None else 800
    tensor = {"name": "x", "shape": [1], "datatype": datatype}
    document = orjson.dumps({"inputs": [{**tensor, "parameters": {"binary_data_size": size}}]})
    response = client.post(
        ECHO_INFER,
        data=document + (raw or b""),
        headers={"Inference-Header-Content-Length": str(len(document))},
    )
    assert fragment in assert_v2_error(response, 400, "invalid_input")["error"]


def test_too_many_rows_is_a_413(app: Any, client: FlaskClient) -> None:
    app.extensions["model_service"].settings["MAX_BATCH_ITEMS"] = 2
    response = client.post(IRIS_INFER, json={"inputs": iris_tensors(IRIS_ROWS)})
    assert "at most 2" in assert_v2_error(response, 413, "payload_too_large")["error"]


def test_a_body_over_the_size_limit_is_a_413(app: Any, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(IRIS_INFER, json={"inputs": iris_tensors(IRIS_ROWS * 50)})
    assert_v2_error(response, 413, "request_entity_too_large")


def test_a_model_that_raises_is_a_500_with_the_trace_only_in_the_log(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    tensor = {"name": "x", "shape": [1], "datatype": "FP64", "data": [1.0]}
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/v2/models/error_model/infer",
            json={"inputs": [tensor]},
            headers={"X-Request-ID": "req-42"},
        )
    assert assert_v2_error(response, 500, "prediction_error")["request_id"] == "req-42"
    assert "secret-internal-detail" not in response.get_data(as_text=True)
    assert "secret-internal-detail" in caplog.text


def test_an_unexpected_error_is_a_500_in_v2_shape(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("secret")

    monkeypatch.setattr("model_service.v2.inference.decode_inputs", broken)
    response = client.post(IRIS_INFER, json={"inputs": iris_tensors(IRIS_ROWS)})
    assert "secret" not in assert_v2_error(response, 500, "internal_error")["error"]


def test_the_rest_api_keeps_its_own_error_shape(client: FlaskClient) -> None:
    assert set(client.get("/api/models/nope/metadata").get_json()) == {"error"}
    assert set(client.get("/api/no/such").get_json()["error"]) >= {"type", "message"}


def test_a_json_text_tensor_element_that_is_not_json_is_a_400(client: FlaskClient) -> None:
    tensor = {"name": "item", "shape": [2], "datatype": "BYTES", "data": ["{}", "{oops"]}
    response = client.post("/v2/models/free_form/infer", json={"inputs": [tensor]})
    body = assert_v2_error(response, 400, "invalid_input")
    assert body["details"] == [
        {"path": ["inputs", "item"], "message": "element 1 is not JSON text"}
    ]


def test_v2_error_details_are_bounded_like_the_api(client: FlaskClient) -> None:
    rows = [[50.0, 50.0, 50.0, 50.0]] * 200  # every field of every row out of range: 800 problems
    response = client.post(IRIS_INFER, json={"inputs": iris_tensors(rows)})
    body = assert_v2_error(response, 400, "invalid_input")
    assert len(body["details"]) == 101
    assert body["details"][-1]["message"] == "... and 700 more problem(s)"
    assert "and 795 more" in body["error"]
