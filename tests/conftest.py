"""Fixtures in layers: settings -> manager (toy models) -> app -> client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from model_service import create_app
from model_service.model_manager import ModelManager
from tests.fixtures import EchoModel, EchoModelV2, ErrorModel, WrongOutputModel, entry

TOY_MODELS = [EchoModel, EchoModelV2, ErrorModel, WrongOutputModel]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any) -> None:
    """Settings come from the test, never from the developer's shell; each test's monitoring
    database is a SQLite file of its own."""
    import os

    for name in list(os.environ):
        if name.startswith("MODEL_SERVICE_") or name == "APP_SETTINGS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("APP_SETTINGS", "config.TestingConfig")
    state = tmp_path_factory.mktemp("monitoring")
    monkeypatch.setenv("MODEL_SERVICE_MONITORING_STATE_DIR", str(state))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One real headless Chromium for the whole run (Playwright allows one sync driver at once)."""
    from playwright.sync_api import sync_playwright

    from tests.support import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "MODELS": [entry(model) for model in TOY_MODELS],
        "LOAD_ENTRY_POINTS": False,
        "BATCHING_ENABLED": False,
    }


@pytest.fixture
def app(settings: dict[str, Any]) -> Iterator[Flask]:
    yield create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def manager(app: Flask) -> ModelManager:
    manager: ModelManager = app.extensions["model_service"].manager
    return manager
