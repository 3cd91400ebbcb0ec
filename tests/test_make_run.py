"""`make run`'s command starts the real service (gunicorn) and it predicts over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.support import REPO_ROOT, run_service

pytestmark = [pytest.mark.server]


def make_run_command() -> list[str]:
    """The command the Makefile's `run` target executes, with its port made a placeholder."""
    makefile = Path(REPO_ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no run target"
    command = recipe.group(1).replace("$(BIN)", str(REPO_ROOT / ".venv" / "bin"))
    command = command.replace("$(HOST)", "127.0.0.1").replace("$(PORT)", "{port}")
    return command.split()


def test_make_run_serves_and_predicts_over_http() -> None:
    with run_service(command=make_run_command()) as service:
        models = requests.get(service.url("/api/models"), timeout=10).json()["models"]
        assert "iris_model" in {model["qualified_name"] for model in models}
        example = requests.get(service.url("/api/models/iris_model/metadata"), timeout=10).json()[
            "example_input"
        ]
        response = requests.post(
            service.url("/api/models/iris_model/predict"), json=example, timeout=10
        )
        assert response.status_code == 200
        assert response.json()["species"] == "setosa"
        bad = requests.post(
            service.url("/api/models/iris_model/predict"),
            data=b'{"sepal_length": NaN}',
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["type"] == "invalid_input"
