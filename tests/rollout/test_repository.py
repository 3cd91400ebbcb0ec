"""The V2 model repository extension: index, load and unload, behind the admin token."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.rollout.conftest import AUTH, put_policy

INDEX = "/v2/repository/index"
CANDIDATE = {"module_name": "tests.fixtures", "class_name": "EchoModelV2"}


def index(client: FlaskClient, body: Any = None) -> list[dict[str, str]]:
    response = client.post(INDEX, json=body if body is not None else {}, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    entries: list[dict[str, str]] = response.get_json()
    return entries


def test_the_server_metadata_announces_the_extension(toy: FlaskClient) -> None:
    assert "model_repository" in toy.get("/v2").get_json()["extensions"]


def test_index_lists_each_loaded_version_ready(toy: FlaskClient) -> None:
    entries = index(toy)
    assert {(e["name"], e["version"], e["state"]) for e in entries} == {
        ("toy", version, "READY") for version in ("0.1.0", "0.2.0", "1.0.0", "1.1.0")
    }


def test_index_reports_a_failed_load_unavailable_with_its_reason(toy_settings: Any) -> None:
    from model_service import create_app

    settings = {
        **toy_settings,
        "MODELS": [*toy_settings["MODELS"], {"module_name": "nope.nothing", "class_name": "X"}],
    }
    client = create_app(settings).test_client()
    failed = [e for e in index(client) if e["state"] == "UNAVAILABLE"]
    assert len(failed) == 1 and "nope" in failed[0]["reason"]
    assert all(e["state"] == "READY" for e in index(client, {"ready": True}))


def test_load_by_module_and_class_then_unload(toy: FlaskClient) -> None:
    response = toy.post(
        "/v2/repository/models/echo/load", json={"parameters": CANDIDATE}, headers=AUTH
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ("echo", "2.0.0", "READY") in {(e["name"], e["version"], e["state"]) for e in index(toy)}
    assert toy.get("/v2/models/echo/ready").status_code == 200
    response = toy.post("/v2/repository/models/echo/unload", headers=AUTH)
    assert response.status_code == 200
    assert "echo" not in {e["name"] for e in index(toy)}
    assert toy.get("/v2/models/echo/ready").status_code == 404


def test_load_without_a_body_reloads_the_model(toy: FlaskClient) -> None:
    response = toy.post("/v2/repository/models/toy/load", headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_class_of_another_model_is_refused(toy: FlaskClient) -> None:
    response = toy.post(
        "/v2/repository/models/toy/load", json={"parameters": CANDIDATE}, headers=AUTH
    )
    assert response.status_code == 400
    assert "echo" in response.get_json()["error"]


def test_unloading_a_routed_version_is_a_409_in_the_v2_shape(toy: FlaskClient) -> None:
    put_policy(toy, {"primary": "1.0.0", "shadow": {"1.1.0": 100}})
    response = toy.post(
        "/v2/repository/models/toy/unload", json={"parameters": {"version": "1.1.0"}}, headers=AUTH
    )
    assert response.status_code == 409
    assert "routing policy" in response.get_json()["error"]


@pytest.mark.parametrize(
    "path", [INDEX, "/v2/repository/models/toy/load", "/v2/repository/models/toy/unload"]
)
@pytest.mark.parametrize(
    ("headers", "status"), [({}, 401), ({"Authorization": "Bearer wrong"}, 403)]
)
def test_the_repository_needs_the_admin_token(
    toy: FlaskClient, path: str, headers: dict[str, str], status: int
) -> None:
    response = toy.post(path, json={}, headers=headers)
    assert response.status_code == status
    assert isinstance(response.get_json()["error"], str)
    assert toy.get("/v2/models/toy/ready").status_code == 200  # nothing was unloaded
