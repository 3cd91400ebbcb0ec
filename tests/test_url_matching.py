"""Routing remembers its matches: the same answers as werkzeug's, and no garbage per request."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder

from model_service.url_matching import RememberingMap
from tests.test_api import PREDICT, VALID


def serve(app: Flask, method: str, path: str, body: Any = None) -> str:
    """The status of one request through the app's WSGI call (no test client: it makes garbage
    of its own)."""
    environ = EnvironBuilder(path=path, method=method, json=body).get_environ()
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)

    chunks = app.wsgi_app(environ, start_response)
    try:
        b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return statuses[0]


@pytest.fixture
def collector_paused() -> Iterator[None]:
    """No automatic collection while the test counts what a collection finds."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", PREDICT, VALID, "200 OK"),
        ("POST", "/api/models/echo/versions/1.0.0/predict", VALID, "200 OK"),
        ("POST", PREDICT, {"x": "not a number"}, "400 BAD REQUEST"),
        ("POST", "/api/models/no_such_model/predict", VALID, "404 NOT FOUND"),
        ("GET", "/api/health/live", None, "200 OK"),
        ("GET", "/api/models/echo/metadata", None, "200 OK"),
    ],
)
def test_a_routed_request_leaves_no_garbage_for_the_cyclic_collector(
    app: Flask, collector_paused: None, method: str, path: str, body: Any, status: str
) -> None:
    """werkzeug's matcher leaves a reference cycle per match; under load those cycles made the
    young collections that stalled a worker for up to 10 ms."""
    for _ in range(3):  # first calls fill caches
        serve(app, method, path, body)

    def garbage_left_by_requests() -> int:
        gc.collect()
        for _ in range(50):
            assert serve(app, method, path, body) == status
        return gc.collect()

    # the least of three tries: an object made earlier by the test run (an exception pytest
    # held, say) can become garbage during any one of them
    assert min(garbage_left_by_requests() for _ in range(3)) == 0


def service_rules() -> list[Rule]:
    return [
        Rule("/api/models", endpoint="list", methods=["GET"]),
        Rule("/api/models/<name>/predict", endpoint="predict", methods=["POST"]),
        Rule(
            "/api/models/<name>/versions/<version>/predict",
            endpoint="predict_version",
            methods=["POST"],
        ),
        Rule("/static/<path:filename>", endpoint="static"),
        Rule("/docs/", endpoint="docs"),
        Rule("/items/<int:number>", endpoint="item"),
    ]


def outcome(rules_map: Map, path: str, method: str) -> Any:
    """What matching gives: the endpoint and values, or the HTTP error or redirect raised."""
    try:
        rule, values = rules_map.bind("localhost").match(path, method, return_rule=True)
    except HTTPException as error:
        return type(error).__name__, getattr(error, "new_url", None)
    return rule.endpoint, values


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/models", "GET"),
        ("/api/models", "POST"),  # 405
        ("/api/models/iris/predict", "POST"),
        ("/api/models/iris/predict", "GET"),  # 405
        ("/api/models/iris/versions/2.0/predict", "POST"),
        ("/api/models//iris/predict", "POST"),  # merged slashes: a redirect
        ("/static/css/site.css", "GET"),
        ("/docs", "GET"),  # strict slashes: a redirect
        ("/items/12", "GET"),
        ("/items/twelve", "GET"),  # the converter refuses: 404
        ("/nothing/here", "GET"),
    ],
)
def test_a_remembered_match_is_werkzeugs_match(path: str, method: str) -> None:
    remembering, plain = RememberingMap(service_rules()), Map(service_rules())
    expected = outcome(plain, path, method)
    assert outcome(remembering, path, method) == expected
    assert outcome(remembering, path, method) == expected  # the second answer from memory


def test_a_rule_added_after_a_match_is_matched() -> None:
    rules_map = RememberingMap(service_rules())
    assert outcome(rules_map, "/api/models/special/predict", "POST")[0] == "predict"
    rules_map.add(Rule("/api/models/special/predict", endpoint="special", methods=["POST"]))
    assert outcome(rules_map, "/api/models/special/predict", "POST") == ("special", {})


def test_a_caller_changing_its_values_does_not_change_the_next_match() -> None:
    """Flask's ``url_value_preprocessor`` pops values from ``request.view_args``."""
    rules_map = RememberingMap(service_rules())
    first = outcome(rules_map, "/api/models/iris/predict", "POST")
    first[1].pop("name")
    assert outcome(rules_map, "/api/models/iris/predict", "POST") == ("predict", {"name": "iris"})


def test_remembered_matches_are_bounded() -> None:
    rules_map = RememberingMap(service_rules())
    matcher: Any = rules_map._matcher
    matcher.capacity = 10
    for number in range(25):
        assert outcome(rules_map, f"/api/models/m{number}/predict", "POST") == (
            "predict",
            {"name": f"m{number}"},
        )
        assert len(matcher._remembered) <= 10


def test_the_service_routes_through_a_remembering_map(app: Flask) -> None:
    assert isinstance(app.url_map, RememberingMap)
