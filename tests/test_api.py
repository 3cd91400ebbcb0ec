"""The REST API through Flask's test client: every endpoint, input form and error status."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient

from model_service import create_app
from model_service.model_manager import ModelManager

VALID = {"x": 1.5, "count": 2, "flag": True, "colour": "red"}
PREDICT = "/api/models/echo/predict"


def assert_error(response: Any, status: int, error_type: str) -> dict[str, Any]:
    """Every error has the one shape; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"type", "message", "details", "request_id"}
    assert error["type"] == error_type
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    return dict(error)


def test_list_models_shows_each_model_once_with_all_versions(client: FlaskClient) -> None:
    response = client.get("/api/models")
    assert response.status_code == 200
    models = {model["qualified_name"]: model for model in response.get_json()["models"]}
    assert set(models) == {"echo", "error_model", "wrong_output"}
    assert models["echo"] == {
        "qualified_name": "echo",
        "display_name": "Echo",
        "description": "Echoes what it receives.",
        "version": "2.0.0",
        "versions": ["2.0.0", "1.0.0"],
    }


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/api/models/echo/metadata", "2.0.0"),
        ("/api/models/echo/versions/1.0.0/metadata", "1.0.0"),
    ],
)
def test_metadata_describes_the_requested_version(
    client: FlaskClient, path: str, version: str
) -> None:
    metadata = client.get(path).get_json()
    assert metadata["version"] == version
    assert metadata["input_schema"]["properties"]["x"]["maximum"] == 100
    assert metadata["input_schema"]["required"] == ["x", "count", "flag", "colour"]
    assert metadata["output_schema"]["properties"]["calls"] == {"type": "integer"}
    assert metadata["example_input"] == VALID
    assert "model_card" in metadata


def test_one_object_gives_one_result(client: FlaskClient) -> None:
    response = client.post("/api/models/echo/versions/1.0.0/predict", json=VALID)
    assert response.status_code == 200
    assert response.get_json()["received"] == {**VALID, "note": "none"}


def test_unversioned_predict_uses_the_default_version(client: FlaskClient) -> None:
    assert client.post(PREDICT, json=VALID).get_json()["received"]["version"] == 2


@pytest.mark.parametrize("wrap", [lambda items: items, lambda items: {"instances": items}])
def test_a_batch_gives_results_in_order(client: FlaskClient, wrap: Any) -> None:
    items = [{**VALID, "count": count} for count in range(5)]
    response = client.post(PREDICT, json=wrap(items))
    assert response.status_code == 200
    assert [result["received"]["count"] for result in response.get_json()] == [0, 1, 2, 3, 4]


def test_an_empty_batch_gives_an_empty_list(client: FlaskClient) -> None:
    assert client.post(PREDICT, json=[]).get_json() == []


def test_form_fields_are_converted_by_the_schema(client: FlaskClient) -> None:
    response = client.post(
        PREDICT, data={"x": "2.5", "count": "3", "flag": "on", "colour": "green", "day": ""}
    )
    assert response.status_code == 200
    received = response.get_json()["received"]
    assert received == {
        "x": 2.5,
        "count": 3,
        "flag": True,
        "colour": "green",
        "note": "none",
        "version": 2,
    }


def test_unconvertible_form_fields_are_listed(client: FlaskClient) -> None:
    response = client.post(
        PREDICT, data={"x": "abc", "count": "1.5", "flag": "maybe", "colour": "red"}
    )
    error = assert_error(response, 400, "invalid_input")
    assert {tuple(d["path"]) for d in error["details"]} == {("x",), ("count",), ("flag",)}


def test_csv_with_a_header_row_gives_one_result_per_row(client: FlaskClient) -> None:
    body = "x,count,flag,colour,values\n1,2,true,red,1 2\n3.5,4,false,purple,\n"
    response = client.post(PREDICT, data=body, content_type="text/csv")
    error = assert_error(response, 400, "invalid_input")
    assert [d["path"] for d in error["details"]] == [[1, "colour"]]
    body = body.replace("purple", "green")
    results = client.post(PREDICT, data=body, content_type="text/csv").get_json()
    assert [r["received"]["count"] for r in results] == [2, 4]
    assert results[0]["received"]["values"] == [1.0, 2.0]


def test_csv_with_unknown_columns_is_refused(client: FlaskClient) -> None:
    response = client.post(PREDICT, data="x,bogus\n1,2\n", content_type="text/csv")
    error = assert_error(response, 400, "invalid_input")
    assert error["details"] == [
        {"path": ["bogus"], "message": "unexpected column (not in the input schema)"}
    ]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"x": 1.5,', "not valid JSON"),
        (b'{"x": NaN, "count": 1}', "not valid JSON"),
        (b'{"x": Infinity}', "not valid JSON"),
        (b"", "empty"),
        (b'"just a string"', "must be an object"),
        (b"42", "must be an object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_json_is_a_400(client: FlaskClient, body: bytes, fragment: str) -> None:
    response = client.post(PREDICT, data=body, content_type="application/json")
    assert fragment in assert_error(response, 400, "invalid_input")["message"]


def test_every_problem_of_every_item_is_listed(client: FlaskClient) -> None:
    items = [VALID, {"x": "a", "count": 1, "flag": True, "colour": "red", "extra": 1}, {"x": 500}]
    error = assert_error(client.post(PREDICT, json=items), 400, "invalid_input")
    paths = [tuple(detail["path"]) for detail in error["details"]]
    assert paths == [
        (1, "x"),
        (1, "extra"),
        (2, "x"),
        (2, "count"),
        (2, "flag"),
        (2, "colour"),
    ]


def test_a_single_item_error_has_field_paths_without_index(client: FlaskClient) -> None:
    error = assert_error(client.post(PREDICT, json={**VALID, "x": 101}), 400, "invalid_input")
    assert error["details"] == [
        {"path": ["x"], "message": "101.0 is out of range: must be 0 <= value <= 100"}
    ]


def test_invalid_input_never_reaches_the_model(client: FlaskClient, manager: ModelManager) -> None:
    model = manager.get_model("echo", "1.0.0").model
    client.post("/api/models/echo/versions/1.0.0/predict", json=[VALID, {**VALID, "x": -1}])
    assert model.calls == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "error_type"),
    [
        ("/api/models/nope/predict", "model_not_found"),
        ("/api/models/echo/versions/3.0.0/predict", "model_not_found"),
        ("/api/nothing/here", "not_found"),
    ],
)
def test_unknown_model_version_or_route_is_a_404(
    client: FlaskClient, path: str, error_type: str
) -> None:
    assert_error(client.post(path, json=VALID), 404, error_type)


def test_wrong_method_is_a_405_with_allow(client: FlaskClient) -> None:
    response = client.get(PREDICT)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_unsupported_content_type_is_a_415(client: FlaskClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(PREDICT, data=b"x=1", headers=headers)
    assert_error(response, 415, "unsupported_media_type")


def test_a_body_over_the_size_limit_is_a_413(app: Any, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(
        PREDICT, data=b"[" + b"1," * 1000 + b"1]", content_type="application/json"
    )
    assert_error(response, 413, "request_entity_too_large")


SERVER_BOUNDED = {"wsgi.input_terminated": True}
"""What gunicorn declares: it stops the input stream at the body's end (the API then reads the
stream itself instead of through werkzeug's limited stream)."""


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"x": 1.5, "count": 2}', "application/json"),
        (b'[{"x": 1.5}, {"x": 2.5, "colour": "blue"}]', "application/json"),
        (b"x,count\n1.5,2\n2.5,3\n", "text/csv"),
        (b"x=1.5&count=2", "application/x-www-form-urlencoded"),
        (b'{"x": "not a number"}', "application/json"),
        (b'{"x": 1.5', "application/json"),
    ],
)
def test_a_body_reads_the_same_from_a_server_bounded_stream(
    client: FlaskClient, body: bytes, content_type: str
) -> None:
    through_werkzeug = client.post(PREDICT, data=body, content_type=content_type)
    bounded = client.post(
        PREDICT, data=body, content_type=content_type, environ_overrides=SERVER_BOUNDED
    )
    assert bounded.status_code == through_werkzeug.status_code
    if bounded.status_code == 200:
        assert bounded.get_json() == through_werkzeug.get_json()
    else:
        assert (
            bounded.get_json()["error"]["details"]
            == through_werkzeug.get_json()["error"]["details"]
        )


def test_a_server_bounded_body_over_the_size_limit_is_a_413(app: Any, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = b"[" + b"1," * 1000 + b"1]"
    response = client.post(
        PREDICT, data=body, content_type="application/json", environ_overrides=SERVER_BOUNDED
    )
    assert_error(response, 413, "request_entity_too_large")
    within = client.post(PREDICT, json=[VALID] * 3, environ_overrides=SERVER_BOUNDED)
    assert within.status_code == 200, within.get_data(as_text=True)


def test_a_batch_over_the_item_limit_is_a_413(settings: dict[str, Any]) -> None:
    client = create_app({**settings, "MAX_BATCH_ITEMS": 3}).test_client()
    assert client.post(PREDICT, json=[VALID] * 3).status_code == 200
    response = client.post(PREDICT, json=[VALID] * 4)
    assert "at most 3" in assert_error(response, 413, "payload_too_large")["message"]


def test_a_model_that_raises_is_a_500_with_the_trace_only_in_the_log(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/api/models/error_model/predict", json={"x": 1.0}, headers={"X-Request-ID": "req-42"}
        )
    error = assert_error(response, 500, "prediction_error")
    assert error["request_id"] == "req-42"
    assert "secret-internal-detail" not in response.get_data(as_text=True)
    assert "secret-internal-detail" in caplog.text


def test_a_result_off_the_output_schema_is_a_500(client: FlaskClient) -> None:
    response = client.post("/api/models/wrong_output/predict", json={"x": 1.0})
    assert_error(response, 500, "prediction_error")


def test_request_id_is_echoed_or_created(client: FlaskClient) -> None:
    assert (
        client.get("/api/models", headers={"X-Request-ID": "abc-1"}).headers["X-Request-ID"]
        == "abc-1"
    )
    created = client.get("/api/models", headers={"X-Request-ID": "bad id <script>"})
    assert created.headers["X-Request-ID"].isalnum()


def test_health_reports_loaded_models(client: FlaskClient) -> None:
    assert client.get("/api/health/live").get_json() == {"status": "ok"}
    ready = client.get("/api/health/ready")
    assert ready.status_code == 200
    assert "echo:1.0.0" in ready.get_json()["models"]


def test_an_error_lists_at_most_a_hundred_problems(client: FlaskClient) -> None:
    body = {**VALID, **{f"unknown_{index}": 1 for index in range(500)}}
    error = assert_error(client.post(PREDICT, json=body), 400, "invalid_input")
    assert len(error["details"]) == 101
    assert error["details"][-1]["message"] == "... and 400 more problem(s)"


def test_long_client_values_are_not_echoed_in_full(client: FlaskClient) -> None:
    response = client.post(PREDICT, json={**VALID, "colour": "x" * 5000})
    error = assert_error(response, 400, "invalid_input")
    assert len(error["details"][0]["message"]) <= 200
    name = "m" * 5000
    assert (
        len(
            assert_error(client.get(f"/api/models/{name}/metadata"), 404, "model_not_found")[
                "message"
            ]
        )
        < 300
    )
