"""Fixtures for the OpenAPI tests: the example-model app, its document, and one live server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from model_service import create_app
from model_service.openapi import build_document
from tests.support import RunningService, run_service

EXAMPLE_SETTINGS = "config.DevelopmentConfig"
"""What ``make openapi`` builds with: the configured models plus every installed example model."""


@pytest.fixture(scope="module")
def example_app() -> Flask:
    """The app ``scripts/generate_openapi.py`` builds (all installed example models)."""
    return create_app(EXAMPLE_SETTINGS)


@pytest.fixture(scope="module")
def example_document(example_app: Flask) -> dict[str, Any]:
    return build_document(example_app)


@pytest.fixture(scope="package")
def live_service() -> Iterator[RunningService]:
    """The real service (gunicorn, 127.0.0.1) serving the example models, shared by the
    fuzzing and browser tests."""
    with run_service(["--workers", "2"], env={"APP_SETTINGS": EXAMPLE_SETTINGS}) as service:
        wait_until_ready(service)
        yield service


def wait_until_ready(service: RunningService, timeout: float = 60.0) -> None:
    """Wait until readiness answers 200 several times in a row (every worker warmed up)."""
    deadline = time.monotonic() + timeout
    in_a_row = 0
    while in_a_row < 5:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the service never became ready:\n{service.log()}")
        ready = requests.get(service.url("/api/health/ready"), timeout=5).status_code == 200
        in_a_row = in_a_row + 1 if ready else 0
        time.sleep(0.05 if ready else 0.2)
