"""``model-service captures export`` and the drift/quality gauges in ``/metrics``."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from model_service.cli import main
from tests.monitoring.conftest import IRIS_ITEM, monitor_of


def test_export_writes_every_captured_row_as_csv_and_json_lines(
    monitored_client: FlaskClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = [IRIS_ITEM, {**IRIS_ITEM, "sepal_length": 6.0}]
    monitored_client.post(
        "/api/models/iris_model/predict", json=batch, headers={"X-Request-ID": "export"}
    )
    monitor_of(monitored_client.application).flush()
    monkeypatch.setenv("MODEL_SERVICE_MONITORING_DATABASE_URL", database_url)
    runner = CliRunner()

    as_csv = runner.invoke(main, ["captures", "export", "iris_model", "--format", "csv"])
    as_lines = runner.invoke(main, ["captures", "export", "iris_model", "--format", "jsonl"])

    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["request_id"], r["item_index"]) for r in rows] == [("export", "0"), ("export", "1")]
    assert json.loads(rows[1]["inputs"]) == batch[1]
    assert json.loads(rows[0]["prediction"])["species"] == "setosa"
    records = [json.loads(line) for line in as_lines.stdout.splitlines()]
    assert [record["inputs"] for record in records] == batch


def test_export_refuses_a_bad_since(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_SERVICE_MONITORING_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["captures", "export", "iris_model", "--since", "soon"])
    assert result.exit_code == 2 and "ISO 8601" in result.output


def test_gauges_carry_each_fields_psi_and_the_accuracy(monitored_client: FlaskClient) -> None:
    response = monitored_client.post(
        "/api/models/iris_model/predict", json=[IRIS_ITEM] * 20, headers={"X-Request-ID": "g"}
    )
    monitor = monitor_of(monitored_client.application)
    monitor.flush()
    species = response.get_json()[0]["species"]
    monitored_client.post(
        "/api/models/iris_model/feedback",
        json=[{"request_id": "g", "index": i, "actual": species} for i in range(10)],
    )
    monitor.refresh_gauges()

    metrics = monitored_client.get("/metrics").get_data(as_text=True)
    summary = monitored_client.get("/api/models/iris_model/monitoring").get_json()

    psi = summary["drift"]["features"]["petal_length"]["psi"]
    line = 'model_service_drift_psi{field="petal_length",model="iris_model",version="1.0.0"}'
    assert f"{line} {psi}" in metrics
    accuracy = 'model_service_quality{metric="accuracy",model="iris_model",version="1.0.0"} 1.0'
    assert accuracy in metrics
