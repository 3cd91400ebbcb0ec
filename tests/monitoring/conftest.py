"""Fixtures for the monitoring tests: a PostgreSQL server, a database per test (SQLite or
PostgreSQL), and apps that serve the example models with monitoring on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from model_service import create_app
from model_service.monitoring import Monitor
from model_service.monitoring_app import MONITOR_KEY
from tests.monitoring.postgres import PostgresServer, postgres_binaries

IRIS = {"module_name": "iris_model.model", "class_name": "IrisModel"}
BIKE = {"module_name": "bike_demand_model.model", "class_name": "BikeDemandModel"}
IRIS_ITEM = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole run (``make test-install`` installs Debian's)."""
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL binaries not found under /usr/lib/postgresql: make test-install")
    server = PostgresServer(binaries)
    server.initialise()
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty monitoring database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitoring.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


def monitored_settings(database_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "MODELS": [IRIS, BIKE],
        "LOAD_ENTRY_POINTS": False,
        "MONITORING_DATABASE_URL": database_url,
        "MONITORING_GAUGE_REFRESH_S": 0,
        **overrides,
    }


@pytest.fixture
def monitored_app(database_url: str) -> Iterator[Flask]:
    app = create_app(monitored_settings(database_url))
    yield app
    monitor_of(app).writer.close()
    monitor_of(app).store.dispose()


@pytest.fixture
def monitored_client(monitored_app: Flask) -> FlaskClient:
    return monitored_app.test_client()


def monitor_of(app: Flask) -> Monitor:
    monitor: Monitor = app.extensions[MONITOR_KEY]
    return monitor
