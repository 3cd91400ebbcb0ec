"""Routing policies in-process: validation, the canary split, sticky keys, the version header on
every entry point, and the decision handed to capture."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from model_service import create_app
from model_service.errors import InvalidInput
from model_service.routing import RoutingPolicy, validate
from tests.rollout.conftest import predict, put_policy

LOADED = ["0.1.0", "0.2.0", "1.0.0", "1.1.0"]


def test_validate_lists_every_problem_with_its_path() -> None:
    document = {
        "primary": "9.9.9",
        "canary": {"1.1.0": 80, "0.1.0": "ten", "0.2.0": 30, "7.0.0": 5, "1.0.0": True},
        "shadow": {"0.1.0": 101, "1.1.0": -1},
        "weights": {},
    }
    with pytest.raises(InvalidInput) as raised:
        validate("toy", document, LOADED)
    problems = {tuple(detail.path): detail.message for detail in raised.value.details}
    assert set(problems) == {
        ("weights",),
        ("primary",),
        ("canary", "0.1.0"),
        ("canary", "7.0.0"),
        ("canary", "1.0.0"),
        ("canary",),
        ("shadow", "0.1.0"),
        ("shadow", "1.1.0"),
    }
    assert "9.9.9" in problems[("primary",)]
    assert "over 100" in problems[("canary",)]  # 80 + 30 + 5


def test_the_primary_cannot_also_be_a_canary_or_a_shadow() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate("toy", {"canary": {"1.1.0": 5}, "shadow": {"1.1.0": 5}}, LOADED, "1.1.0")
    assert {tuple(d.path) for d in raised.value.details} == {
        ("canary", "1.1.0"),
        ("shadow", "1.1.0"),
    }


def test_ten_thousand_unversioned_predictions_follow_a_90_10_split(toy: FlaskClient) -> None:
    put_policy(toy, {"primary": "1.0.0", "canary": {"1.1.0": 10}})
    counts = Counter(predict(toy).headers["X-Model-Version"] for _ in range(10_000))
    assert set(counts) == {"1.0.0", "1.1.0"}
    assert abs(counts["1.1.0"] / 10_000 - 0.10) <= 0.02


def test_a_routing_key_always_lands_on_one_version_and_keys_spread(toy: FlaskClient) -> None:
    put_policy(toy, {"primary": "1.0.0", "canary": {"1.1.0": 50}})
    for key in ("alice", "bob", "carol"):
        assert len({predict(toy, key).headers["X-Model-Version"] for _ in range(30)}) == 1
    spread = Counter(predict(toy, f"user-{n}").headers["X-Model-Version"] for n in range(400))
    assert 120 <= spread["1.1.0"] <= 280


def test_a_key_keeps_its_version_as_long_as_the_policy_does() -> None:
    policy = RoutingPolicy("toy", "1.0.0", {"1.1.0": 25})
    again = RoutingPolicy("toy", "1.0.0", {"1.1.0": 25})
    assert [policy.choose(f"k{n}") for n in range(200)] == [
        again.choose(f"k{n}") for n in range(200)
    ]
    other_model = RoutingPolicy("other", "1.0.0", {"1.1.0": 25})
    assert [policy.bucket(f"k{n}") for n in range(50)] != [
        other_model.bucket(f"k{n}") for n in range(50)
    ]


def test_a_versioned_url_bypasses_the_policy(toy: FlaskClient) -> None:
    put_policy(toy, {"primary": "1.0.0", "canary": {"1.1.0": 100}})
    for _ in range(20):
        response = toy.post("/api/models/toy/versions/1.0.0/predict", json={"x": 1.0})
        assert response.headers["X-Model-Version"] == "1.0.0"
        assert response.get_json()["version"] == "1.0.0"


ENTRY_POINTS = [
    ("rest_json", "/api/models/toy/predict", {"json": {"x": 3.0}}),
    ("rest_form", "/api/models/toy/predict", {"data": {"x": "3.0"}}),
    ("rest_csv", "/api/models/toy/predict", {"data": "x\n3.0\n", "content_type": "text/csv"}),
    (
        "v2",
        "/v2/models/toy/infer",
        {"json": {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [3.0]}]}},
    ),
    ("web_form", "/models/toy/predict", {"data": {"x": "3.0"}}),
]


@pytest.mark.parametrize(("entry_point", "path", "body"), ENTRY_POINTS, ids=lambda v: str(v)[:9])
def test_every_prediction_response_names_the_version_that_answered(
    toy: FlaskClient, entry_point: str, path: str, body: dict[str, Any]
) -> None:
    put_policy(toy, {"primary": "1.1.0"})
    response = toy.post(path, **body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-Model-Version"] == "1.1.0"
    assert "6.0" in response.get_data(as_text=True)  # 1.1.0 doubles x


def test_an_invalid_request_gets_no_version_header(toy: FlaskClient) -> None:
    response = toy.post("/api/models/toy/predict", json={"x": "no"})
    assert response.status_code == 400
    assert "X-Model-Version" not in response.headers


def test_the_model_list_and_metadata_name_the_policys_primary(toy: FlaskClient) -> None:
    def default_version() -> tuple[str, str]:
        listed = next(m for m in toy.get("/api/models").get_json()["models"])
        return listed["version"], toy.get("/api/models/toy/metadata").get_json()["version"]

    assert default_version() == ("1.0.0", "1.0.0")
    put_policy(toy, {"primary": "1.1.0"})
    assert default_version() == ("1.1.0", "1.1.0")


def test_a_bad_routing_setting_stops_the_start_naming_the_model(
    toy_settings: dict[str, Any],
) -> None:
    settings = {**toy_settings, "ROUTING": {"toy": {"canary": {"5.0.0": 10}}}}
    with pytest.raises(ValueError, match=r"ROUTING for 'toy'.*5\.0\.0"):
        create_app(settings)


class RecordingCapture:
    """Stands for monitoring's capture hook: records every call (the runtime passes the
    decision, the request id and the entry point)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, served: Any, items: Any, results: Any, seconds: float, **how: Any) -> None:
        self.calls.append(
            {"version": served.version, "items": list(items), "results": results, **how}
        )


def test_capture_receives_the_decision_request_id_and_items(toy_app: Flask) -> None:
    recording = RecordingCapture()
    runtime = toy_app.extensions["model_service"]
    runtime.capture = recording
    runtime.shadow.capture = recording
    client = toy_app.test_client()
    put_policy(client, {"primary": "1.0.0", "canary": {"1.1.0": 50}})
    items = [{"x": 1.0}, {"x": 2.0}]
    sent = {}
    for n in range(40):
        response = client.post(
            "/api/models/toy/predict", json=items, headers={"X-Request-ID": f"req-{n}"}
        )
        sent[f"req-{n}"] = response.headers["X-Model-Version"]
    put_policy(client, {"primary": "1.0.0", "shadow": {"1.1.0": 100}})
    client.post("/api/models/toy/predict", json=items, headers={"X-Request-ID": "shadowed"})
    client.post(
        "/api/models/toy/versions/1.1.0/predict", json=items, headers={"X-Request-ID": "direct"}
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        c["decision"] == "shadow" for c in recording.calls
    ):
        time.sleep(0.01)

    by_request = {c["request_id"]: c for c in recording.calls if c["decision"] != "shadow"}
    for request_id, version in sent.items():
        call = by_request[request_id]
        assert call["decision"] == ("canary" if version == "1.1.0" else "primary")
        assert (call["version"], call["items"]) == (version, items)
    assert {sent[r] for r in sent} == {"1.0.0", "1.1.0"}
    assert by_request["shadowed"]["decision"] == "primary"
    assert by_request["direct"]["decision"] == "direct"
    assert by_request["direct"]["version"] == "1.1.0"
    shadow = [c for c in recording.calls if c["decision"] == "shadow"]
    assert len(shadow) == 1
    assert shadow[0]["request_id"] == "shadowed"
    assert shadow[0]["version"] == "1.1.0"
    assert shadow[0]["items"] == items
    assert [r["y"] for r in shadow[0]["results"]] == [2.0, 4.0]
    assert shadow[0]["entry_point"] == "rest_json"


def test_a_canary_that_is_also_a_shadow_never_shadows_its_own_answer(toy_app: Flask) -> None:
    runtime = toy_app.extensions["model_service"]
    client = toy_app.test_client()
    put_policy(client, {"primary": "1.0.0", "canary": {"1.1.0": 50}, "shadow": {"1.1.0": 100}})
    with toy_app.test_request_context():
        routes = [runtime.route("toy", None, f"key-{n}") for n in range(100)]
    for route in routes:
        expected = () if route.served.version == "1.1.0" else ("1.1.0",)
        assert route.shadows == expected
    assert {route.decision for route in routes} == {"primary", "canary"}
