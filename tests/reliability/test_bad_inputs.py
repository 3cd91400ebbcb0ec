"""Hostile and broken request bodies: every one a 4xx in the one error shape, never a 5xx or a
hang, and the service answers the next request. In-process and against real gunicorn."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.bad_inputs import (
    CSV,
    FORM,
    JSON,
    PREDICT,
    VALID,
    BadRequest,
    all_cases,
    chunks,
)
from tests.reliability.conftest import assert_error_shape, server_env
from tests.support import RunningService, run_service

CASES = all_cases()
CLIENT_TIMEOUT_S = 20


def assert_still_serves(client: FlaskClient) -> None:
    response = client.post(PREDICT, json=VALID)
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_its_4xx_in_the_error_shape(client: FlaskClient, case: BadRequest) -> None:
    response = client.open(
        case.path, method=case.method, data=case.make_body(), headers=case.headers
    )
    assert response.status_code == case.status, response.get_data(as_text=True)[:300]
    assert_error_shape(response.status_code, response.get_json(), response.headers)
    assert_still_serves(client)


@pytest.mark.parametrize(
    ("limit", "value", "body"),
    [
        ("MAX_JSON_DEPTH", 3, b'{"x": [[[1]]]}'),
        ("MAX_STRING_LENGTH", 5, b'{"colour": "purple"}'),
        ("MAX_BATCH_ITEMS", 2, b"[{}, {}, {}]"),
        ("MAX_CONTENT_LENGTH", 10, b'{"x": 1.5, "count": 2}'),
    ],
)
def test_each_limit_is_configurable(
    settings: dict[str, Any], limit: str, value: int, body: bytes
) -> None:
    from model_service import create_app

    client = create_app({**settings, limit: value}).test_client()
    response = client.post(PREDICT, data=body, content_type=JSON)
    assert response.status_code in (400, 413)
    assert_error_shape(response.status_code, response.get_json(), response.headers)


def test_limit_messages_quote_no_long_client_value(client: FlaskClient) -> None:
    response = client.post(PREDICT, data=b"{}", content_type="text/" + "<b>" * 5000)
    assert response.status_code == 415
    assert len(response.get_json()["error"]["message"]) < 300


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=2000),
    content_type=st.sampled_from([JSON, CSV, FORM, "multipart/form-data; boundary=x", "text/csv"]),
)
def test_random_bytes_never_cause_a_server_error(
    client: FlaskClient, body: bytes, content_type: str
) -> None:
    response = client.post(PREDICT, data=body, content_type=content_type)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=30,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=JSON_VALUES)
def test_any_json_document_gets_an_answer_not_a_server_error(
    client: FlaskClient, document: Any
) -> None:
    response = client.post(PREDICT, json=document)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]


# --- the real server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service() -> Any:
    with run_service(["--workers", "2"], env=server_env()) as running:
        yield running


def _assert_served(service: RunningService) -> None:
    response = requests.post(service.url(PREDICT), json=VALID, timeout=CLIENT_TIMEOUT_S)
    assert response.status_code == 200, response.text


@pytest.mark.server
def test_real_server_answers_every_bad_input_and_keeps_serving(service: RunningService) -> None:
    wrong = []
    for case in CASES:
        try:
            response = requests.request(
                case.method,
                service.url(case.path),
                data=case.make_body(),
                headers=case.headers,
                timeout=CLIENT_TIMEOUT_S,
            )
        except requests.ConnectionError as error:
            wrong.append(f"{case.name}: connection error {error}")
            continue
        if case.oversized_head and response.status_code in (414, 431):
            pass
        elif response.status_code != case.status:
            wrong.append(f"{case.name}: {response.status_code} {response.text[:200]}")
        else:
            assert_error_shape(response.status_code, response.json(), response.headers)
        _assert_served(service)
    assert not wrong, "\n".join(wrong)


@pytest.mark.server
def test_real_server_refuses_a_chunked_body_over_the_limit(service: RunningService) -> None:
    body = b"[" + b",".join([b'{"x": 1.5, "count": 2, "flag": true, "colour": "red"}'] * 100_000)
    response = requests.post(
        service.url(PREDICT),
        data=chunks(body + b"]"),
        headers={"Content-Type": JSON},
        timeout=CLIENT_TIMEOUT_S,
    )
    assert response.status_code == 413
    assert_error_shape(response.status_code, response.json(), response.headers)
    _assert_served(service)


@pytest.mark.server
@pytest.mark.parametrize(
    "raw",
    [
        b"POST /api/models/echo/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        b'Content-Type: application/json\r\n\r\n{"x": 1',  # body shorter than announced
        b"POST /api/models/echo/predict HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /api/models/echo/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\nzz\r\n",  # broken chunk size
        b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # request line too long
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello
    ],
    ids=["short-body", "negative-length", "bad-chunk", "long-line", "long-header", "tls"],
)
def test_real_server_survives_broken_http(service: RunningService, raw: bytes) -> None:
    host, port = service.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        answer = b""
        try:
            connection.sendall(raw)
            connection.shutdown(socket.SHUT_WR)
            while chunk := connection.recv(65_536):
                answer += chunk
        except OSError:  # the server may close first: what counts is that it still serves
            pass
    assert not answer.startswith(b"HTTP/1.1 5") and not answer.startswith(b"HTTP/1.0 5"), answer
    _assert_served(service)
