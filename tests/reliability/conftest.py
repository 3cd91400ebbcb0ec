"""Fixtures for the reliability tests: toy-model settings for the app and the real server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from tests.fixtures import EchoModel, entry
from tests.reliability import toys
from tests.support import REPO_ROOT

TOY_MODELS = [EchoModel, toys.DoubleModel, toys.FlakyModel, toys.HangingModel]


def server_env(models: Iterable[type] = TOY_MODELS, **settings: Any) -> dict[str, str]:
    """Environment for ``run_service``: only ``models`` (importable from the repository root),
    no entry points, and ``settings`` as ``MODEL_SERVICE_*`` variables."""
    env = {
        "APP_SETTINGS": "config.TestingConfig",
        "MODEL_SERVICE_MODELS": json.dumps([entry(model) for model in models]),
        "MODEL_SERVICE_LOAD_ENTRY_POINTS": "false",
        # a console script does not put its working directory on sys.path
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    for name, value in settings.items():
        env[f"MODEL_SERVICE_{name}"] = value if isinstance(value, str) else json.dumps(value)
    return env


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "MODELS": [entry(model) for model in TOY_MODELS],
        "LOAD_ENTRY_POINTS": False,
        "BATCHING_ENABLED": False,
    }


def assert_error_shape(status: int, body: Mapping[str, Any], headers: Mapping[str, str]) -> None:
    """A 4xx in the one error shape, without trace, file path or library version."""
    assert 400 <= status < 500, body
    error = body["error"]
    assert set(error) == {"type", "message", "details", "request_id"}
    assert isinstance(error["message"], str) and error["message"]
    assert error["request_id"] == headers["X-Request-ID"]
    text = json.dumps(body)
    for leak in ("Traceback", "site-packages", '.py"', ".py:", "/srv/", "Werkzeug/", "gunicorn/"):
        assert leak not in text, f"{leak!r} leaked in {text[:300]}"
