"""The model lifecycle API: refused without the token, atomic swaps, every worker in step."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from model_service import create_app
from tests.fixtures import entry
from tests.reliability import toys
from tests.reliability.conftest import assert_error_shape

TOKEN = "correct horse battery staple"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MODELS = "/api/admin/models"


@pytest.fixture
def artifact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file :class:`toys.ArtifactModel` reads its answer from."""
    path = tmp_path / "answer.txt"
    path.write_text("1.0")
    monkeypatch.setenv(toys.ARTIFACT_ENV, str(path))
    return path


@pytest.fixture
def admin_settings(settings: dict[str, Any], tmp_path: Path, artifact: Path) -> dict[str, Any]:
    return {
        **settings,
        "MODELS": [*settings["MODELS"], entry(toys.ArtifactModel)],
        "ADMIN_TOKEN": TOKEN,
        "ADMIN_STATE_DIR": str(tmp_path / "admin"),
    }


@pytest.fixture
def admin_app(admin_settings: dict[str, Any]) -> Flask:
    return create_app(admin_settings)


@pytest.fixture
def admin(admin_app: Flask) -> FlaskClient:
    return admin_app.test_client()


def answer(client: FlaskClient, name: str = "artifact", version: str | None = None) -> float:
    path = (
        f"/api/models/{name}/predict"
        if version is None
        else (f"/api/models/{name}/versions/{version}/predict")
    )
    response = client.post(path, json={"x": 1.0})
    assert response.status_code == 200, response.get_data(as_text=True)
    return float(response.get_json()["y"])


def served_versions(client: FlaskClient) -> dict[str, list[str]]:
    models = client.get("/api/models").get_json()["models"]
    return {model["qualified_name"]: model["versions"] for model in models}


def assert_refused(response: Any, status: int, error_type: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert_error_shape(response.status_code, response.get_json(), response.headers)
    assert response.get_json()["error"]["type"] == error_type
    return str(response.get_json()["error"]["message"])


ADMIN_CALLS = [
    ("POST", MODELS),
    ("DELETE", "/api/admin/models/artifact"),
    ("DELETE", "/api/admin/models/artifact/versions/1.0.0"),
    ("POST", "/api/admin/models/artifact/reload"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
def test_admin_api_is_disabled_without_a_configured_token(
    client: FlaskClient, method: str, path: str
) -> None:
    message = assert_refused(client.open(path, method=method, headers=AUTH), 403, "forbidden")
    assert "ADMIN_TOKEN" in message


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
@pytest.mark.parametrize(
    ("headers", "status", "error_type"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer"}, 401, "unauthorized"),
        ({"Authorization": f"Basic {TOKEN}"}, 401, "unauthorized"),
        ({"Authorization": "Bearer wrong"}, 403, "forbidden"),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403, "forbidden"),
        ({"Authorization": "Bearer é-not-ascii"}, 403, "forbidden"),
    ],
    ids=["none", "empty", "basic", "wrong", "longer", "non-ascii"],
)
def test_admin_api_refuses_a_missing_or_wrong_token(
    admin: FlaskClient,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
    error_type: str,
) -> None:
    before = served_versions(admin)
    assert_refused(admin.open(path, method=method, headers=headers), status, error_type)
    assert served_versions(admin) == before


def test_load_a_new_version_beside_the_served_ones(admin: FlaskClient) -> None:
    response = admin.post(MODELS, json=entry(toys.ArtifactModelV2), headers=AUTH)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["loaded"]["version"] == "2.0.0"
    assert served_versions(admin)["artifact"] == ["2.0.0", "1.0.0"]
    assert answer(admin, version="2.0.0") == 1.0


def test_load_by_entry_point_name(admin: FlaskClient) -> None:
    response = admin.post(MODELS, json={"entry_point": "iris_model"}, headers=AUTH)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "iris_model" in served_versions(admin)


@pytest.mark.parametrize(
    ("body", "in_message"),
    [
        (entry(toys.NotAModel), "tests.reliability.toys.NotAModel"),
        ({"module_name": "no_such_module_xyz", "class_name": "Model"}, "no_such_module_xyz"),
        ({"module_name": "tests.reliability.toys", "class_name": "Missing"}, "Missing"),
        ({"entry_point": "no_such_entry_point"}, "no_such_entry_point"),
        (entry(toys.ArtifactModel), "already serves"),
        (entry(toys.BrokenSchemaModel), "failed to load"),
    ],
    ids=["not-an-mlmodel", "no-module", "no-class", "no-entry-point", "duplicate", "bad-schema"],
)
def test_loading_a_class_that_cannot_be_served_is_refused_by_name(
    admin: FlaskClient, body: dict[str, str], in_message: str
) -> None:
    before = served_versions(admin)
    message = assert_refused(admin.post(MODELS, json=body, headers=AUTH), 400, "model_load_error")
    assert in_message in message
    assert served_versions(admin) == before


@pytest.mark.parametrize(
    "body",
    [b"[]", b"{}", b'{"module_name": "x"}', b'{"entry_point": 3}', b"not json", b'{"a": 1}'],
)
def test_a_malformed_load_request_is_refused(admin: FlaskClient, body: bytes) -> None:
    response = admin.post(MODELS, data=body, content_type="application/json", headers=AUTH)
    assert_refused(response, 400, "invalid_input")


def test_unload_one_version_then_the_model(admin: FlaskClient) -> None:
    admin.post(MODELS, json=entry(toys.ArtifactModelV2), headers=AUTH)
    response = admin.delete("/api/admin/models/artifact/versions/2.0.0", headers=AUTH)
    assert response.status_code == 200
    assert [m["version"] for m in response.get_json()["unloaded"]] == ["2.0.0"]
    assert served_versions(admin)["artifact"] == ["1.0.0"]

    assert admin.delete("/api/admin/models/artifact", headers=AUTH).status_code == 200
    assert "artifact" not in served_versions(admin)
    missing = admin.post("/api/models/artifact/predict", json={"x": 1.0})
    assert_refused(missing, 404, "model_not_found")
    again = admin.delete("/api/admin/models/artifact", headers=AUTH)
    assert_refused(again, 404, "model_not_found")


def test_reload_rereads_the_artifacts_of_a_retrained_model(
    admin: FlaskClient, artifact: Path
) -> None:
    assert answer(admin) == 1.0
    artifact.write_text("2.0")
    assert answer(admin) == 1.0  # nothing changes until the reload
    response = admin.post("/api/admin/models/artifact/reload", headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert answer(admin) == 2.0


def test_a_failed_reload_keeps_the_old_model_serving(admin: FlaskClient, artifact: Path) -> None:
    artifact.write_text("not a number")
    response = admin.post("/api/admin/models/artifact/reload", headers=AUTH)
    assert_refused(response, 400, "model_load_error")
    assert answer(admin) == 1.0


def test_requests_in_flight_finish_while_models_are_reloaded(
    admin_app: Flask, artifact: Path
) -> None:
    failures: list[str] = []
    stop = threading.Event()

    def predict() -> None:
        client = admin_app.test_client()
        while not stop.is_set():
            response = client.post("/api/models/artifact/predict", json={"x": 1.0})
            if response.status_code != 200:
                failures.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=predict) for _ in range(4)]
    for thread in threads:
        thread.start()
    admin = admin_app.test_client()
    for value in range(20):
        artifact.write_text(str(value))
        assert admin.post("/api/admin/models/artifact/reload", headers=AUTH).status_code == 200
    stop.set()
    for thread in threads:
        thread.join(10)
    assert not failures
    assert answer(admin) == 19.0


def test_every_worker_follows_the_change_log(
    admin_settings: dict[str, Any], artifact: Path
) -> None:
    """Two apps sharing ``ADMIN_STATE_DIR`` stand for two gunicorn workers; a third made after
    the changes stands for a worker forked later (after a crash or a HUP)."""
    first = create_app(admin_settings).test_client()
    second = create_app(admin_settings).test_client()
    assert answer(second) == 1.0

    first.post(MODELS, json=entry(toys.ArtifactModelV2), headers=AUTH)
    first.delete("/api/admin/models/double", headers=AUTH)
    artifact.write_text("3.0")
    first.post("/api/admin/models/artifact/versions/1.0.0/reload", headers=AUTH)

    late = create_app(admin_settings).test_client()
    for worker in (first, second, late):
        versions = served_versions(worker)
        assert versions["artifact"] == ["2.0.0", "1.0.0"]
        assert "double" not in versions
        assert answer(worker, version="1.0.0") == 3.0
