"""The routing admin API: read, replace, promote, roll back; refusals; every worker in step."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from model_service import create_app
from tests.reliability.conftest import assert_error_shape
from tests.rollout.conftest import AUTH, ROUTING, predict, put_policy


def refused(response: Any, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert_error_shape(response.status_code, body, response.headers)
    assert body["error"]["type"] == error_type
    return body["error"]


def test_get_shows_the_policy_the_loaded_versions_and_the_history(toy: FlaskClient) -> None:
    body = toy.get(ROUTING, headers=AUTH).get_json()
    assert body["policy"] == {"primary": "1.0.0", "canary": {}, "shadow": {}}
    assert body["loaded_versions"] == ["1.1.0", "1.0.0", "0.2.0", "0.1.0"]
    assert body["history_length"] == 0  # the configured policy is the start, not a change


def test_put_answers_the_new_policy_and_routes_by_it(toy: FlaskClient) -> None:
    body = put_policy(toy, {"primary": "1.1.0", "shadow": {"1.0.0": 5}})
    assert body["policy"] == {"primary": "1.1.0", "canary": {}, "shadow": {"1.0.0": 5.0}}
    assert body["history_length"] == 1
    assert predict(toy).headers["X-Model-Version"] == "1.1.0"


def test_a_bad_put_is_a_400_listing_every_problem(toy: FlaskClient) -> None:
    response = toy.put(
        ROUTING,
        json={"primary": "3.0.0", "canary": {"1.1.0": 70, "0.1.0": 40}, "extra": 1},
        headers=AUTH,
    )
    error = refused(response, 400, "invalid_input")
    paths = [detail["path"] for detail in error["details"]]
    assert sorted(map(tuple, paths)) == [("canary",), ("extra",), ("primary",)]
    assert predict(toy).headers["X-Model-Version"] == "1.0.0"  # unchanged


def test_promote_makes_the_version_primary_and_clears_its_weights(toy: FlaskClient) -> None:
    put_policy(toy, {"primary": "1.0.0", "canary": {"1.1.0": 10}, "shadow": {"1.1.0": 100}})
    response = toy.post(ROUTING + "/promote", json={"version": "1.1.0"}, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["policy"] == {"primary": "1.1.0", "canary": {}, "shadow": {}}
    assert {predict(toy).headers["X-Model-Version"] for _ in range(50)} == {"1.1.0"}


def test_promoting_an_unknown_version_is_refused(toy: FlaskClient) -> None:
    response = toy.post(ROUTING + "/promote", json={"version": "8.0.0"}, headers=AUTH)
    error = refused(response, 400, "invalid_input")
    assert "8.0.0" in error["details"][0]["message"]


def test_rollback_returns_to_each_earlier_policy_then_409(toy: FlaskClient) -> None:
    put_policy(toy, {"primary": "1.0.0", "canary": {"1.1.0": 10}})
    toy.post(ROUTING + "/promote", json={"version": "1.1.0"}, headers=AUTH)
    back = toy.post(ROUTING + "/rollback", headers=AUTH)
    assert back.status_code == 200
    assert back.get_json()["policy"] == {
        "primary": "1.0.0",
        "canary": {"1.1.0": 10.0},
        "shadow": {},
    }
    back = toy.post(ROUTING + "/rollback", headers=AUTH)
    assert back.get_json()["policy"]["primary"] == "1.0.0"
    assert back.get_json()["policy"]["canary"] == {}
    error = refused(toy.post(ROUTING + "/rollback", headers=AUTH), 409, "no_previous_policy")
    assert "toy" in error["message"]


def test_unloading_a_version_the_policy_names_is_a_409(toy: FlaskClient) -> None:
    put_policy(toy, {"primary": "1.0.0", "canary": {"1.1.0": 10}})
    response = toy.delete("/api/admin/models/toy/versions/1.1.0", headers=AUTH)
    error = refused(response, 409, "routed_version")
    assert "1.1.0" in error["message"] and "routing policy" in error["message"]
    unnamed = toy.delete("/api/admin/models/toy/versions/0.2.0", headers=AUTH)
    assert unnamed.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ROUTING),
        ("PUT", ROUTING),
        ("POST", ROUTING + "/promote"),
        ("POST", ROUTING + "/rollback"),
    ],
)
@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 403), ({"Authorization": "Basic x"}, 401)],
)
def test_the_routing_api_needs_the_admin_token(
    toy: FlaskClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    response = toy.open(path, method=method, json={"primary": "1.1.0"}, headers=headers)
    refused(response, status, "unauthorized" if status == 401 else "forbidden")
    assert predict(toy).headers["X-Model-Version"] == "1.0.0"


def test_every_worker_follows_a_policy_change_and_a_late_worker_replays_it(
    toy_settings: dict[str, Any],
) -> None:
    """Two apps sharing ``ADMIN_STATE_DIR`` stand for two workers; a third made after the changes
    stands for a worker forked later (a crash or a HUP). The real two-worker server is checked in
    test_server.py."""
    first = create_app(toy_settings).test_client()
    second = create_app(toy_settings).test_client()
    put_policy(first, {"primary": "1.1.0"})
    assert predict(second).headers["X-Model-Version"] == "1.1.0"
    put_policy(second, {"primary": "1.0.0", "canary": {"1.1.0": 100}})
    assert first.post(ROUTING + "/rollback", headers=AUTH).status_code == 200
    late = create_app(toy_settings).test_client()
    for worker in (first, second, late):
        body = worker.get(ROUTING, headers=AUTH).get_json()
        assert body["policy"]["primary"] == "1.1.0"
        assert body["history_length"] == 1
        assert predict(worker).headers["X-Model-Version"] == "1.1.0"
