"""Fixtures for the routing tests: the toy versions in-process, with the admin API enabled."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from model_service import create_app
from tests.fixtures import entry
from tests.rollout.toys import TOYS

TOKEN = "rollout-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROUTING = "/api/admin/models/toy/routing"


@pytest.fixture
def toy_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "MODELS": [entry(model) for model in TOYS],
        "LOAD_ENTRY_POINTS": False,
        "BATCHING_ENABLED": False,
        "ADMIN_TOKEN": TOKEN,
        "ADMIN_STATE_DIR": str(tmp_path / "admin"),
        "ROUTING": {"toy": {"primary": "1.0.0"}},
        "SHADOW_TIMEOUT_S": 0.2,
    }


@pytest.fixture
def toy_app(toy_settings: dict[str, Any]) -> Flask:
    return create_app(toy_settings)


@pytest.fixture
def toy(toy_app: Flask) -> FlaskClient:
    return toy_app.test_client()


def predict(client: FlaskClient, key: str | None = None, **extra: Any) -> Any:
    """One unversioned prediction of ``toy``; asserts 200 and returns the response."""
    headers = {"X-Routing-Key": key} if key is not None else {}
    response = client.post("/api/models/toy/predict", json={"x": 1.0}, headers=headers, **extra)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def put_policy(client: FlaskClient, policy: dict[str, Any]) -> Any:
    response = client.put(ROUTING, json=policy, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def shadow_counter(metrics_text: str, counter: str, version: str) -> float:
    """``model_service_shadow_<counter>_total`` of ``toy`` ``version`` (0 when absent)."""
    series = f'model_service_shadow_{counter}_total{{model="toy",version="{version}"}} '
    match = re.search(rf"^{re.escape(series)}(\S+)$", metrics_text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0
