"""The versions comparison of ``GET /api/models/<name>/monitoring`` on crafted captures, on SQLite
and on a real PostgreSQL server (the ``database_url`` fixture runs each test on both): shadow
pairs and their agreement, regression's mean absolute difference, canary label shares, latency
per version, quality per version from feedback, the row cap, the decision of failed requests, the
agreement gauge and the upgrade of a store made by the first migration."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from model_service import create_app
from model_service.cli import main
from model_service.monitoring.store import MIGRATIONS, Store, capture_row
from model_service.monitoring.tables import captures, prediction_errors
from model_service.runtime import EXTENSION_KEY, ServiceRuntime
from tests.monitoring.conftest import BIKE, IRIS, IRIS_ITEM, monitor_of, monitored_settings
from tests.monitoring.toy_versions import IRIS_NEXT

IRIS_URL = "/api/models/iris_model"
LONG_SEPALS = {"sepal_length": 7.2, "sepal_width": 3.0, "petal_length": 6.1, "petal_width": 2.2}
"""Virginica for 1.0.0, versicolor for 1.1.0 (see :class:`IrisModelNext`)."""


@pytest.fixture
def two_versions(database_url: str) -> Iterator[Flask]:
    """iris 1.0.0 (the default) and 1.1.0, and the bike model, with an empty store."""
    settings = monitored_settings(
        database_url, MODELS=[IRIS, IRIS_NEXT, BIKE], DEFAULT_VERSIONS={"iris_model": "1.0.0"}
    )
    app = create_app(settings)
    yield app
    monitor_of(app).writer.close()
    monitor_of(app).store.dispose()


def iris(
    version: str,
    request_id: str,
    species: str,
    decision: str,
    *,
    ago_s: float = 60.0,
    index: int = 0,
    latency_ms: float = 1.0,
) -> Any:
    return capture_row(
        "iris_model",
        version,
        time.time() - ago_s,
        request_id,
        index,
        "rest_json",
        IRIS_ITEM,
        {"species": species},
        latency_ms,
        decision,
    )


def versions(client: FlaskClient, model: str = "iris_model", window: str = "24h") -> Any:
    response = client.get(f"/api/models/{model}/monitoring?window={window}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["versions"]


def compared(section: dict[str, Any], version: str) -> dict[str, Any]:
    [entry] = [entry for entry in section["compared"] if entry["version"] == version]
    return entry


def test_shadow_agreement_is_the_share_of_paired_items_whose_labels_agree(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    answers = ["setosa", "setosa", "versicolor", "virginica", "setosa", "virginica"]
    shadows = ["setosa", "virginica", "versicolor", "virginica", "versicolor", "virginica"]
    rows = [iris("1.0.0", f"r{i}", species, "primary") for i, species in enumerate(answers)]
    rows += [iris("1.1.0", f"r{i}", species, "shadow") for i, species in enumerate(shadows)]
    # a batch: item 1 of r0 pairs with item 1 of r0 only
    rows += [iris("1.0.0", "r0", "virginica", "primary", index=1)]
    rows += [iris("1.1.0", "r0", "virginica", "shadow", index=1)]
    # no answer of the primary at all, and an answer 10 minutes apart: both unpaired
    rows += [iris("1.1.0", "lonely", "setosa", "shadow")]
    rows += [iris("1.0.0", "late", "setosa", "primary", ago_s=900)]
    rows += [iris("1.1.0", "late", "setosa", "shadow", ago_s=300)]
    # the shadow version's own answer to a versioned URL never pairs
    rows += [iris("1.1.0", "r5", "virginica", "direct")]
    monitor_of(monitored_app).store.insert(rows)

    section = versions(monitored_client)

    assert section["primary"] == "1.0.0" and section["kind"] == "classification"
    assert [entry["version"] for entry in section["compared"]] == ["1.0.0", "1.1.0"]
    shadow = compared(section, "1.1.0")
    assert shadow["decisions"] == {"direct": 1, "shadow": 9}
    assert shadow["pairs"] == 7 and shadow["unpaired"] == 2
    assert shadow["agreement"] == pytest.approx(5 / 7)
    assert shadow["mean_absolute_difference"] is None
    primary = compared(section, "1.0.0")
    assert primary["is_primary"] and primary["pairs"] is None and primary["agreement"] is None
    assert primary["decisions"] == {"primary": 8}
    assert section["capped"] is False


def test_the_primary_is_the_version_that_answered_most_or_the_one_routing_names(
    monitored_app: Flask,
) -> None:
    rows = [iris("1.1.0", f"a{i}", "setosa", "primary") for i in range(3)]
    rows += [iris("1.0.0", f"b{i}", "setosa", "primary") for i in range(2)]
    rows += [iris("1.0.0", f"a{i}", "virginica", "shadow") for i in range(3)]
    monitor = monitor_of(monitored_app)
    monitor.store.insert(rows)

    by_traffic = monitor.summary("iris_model", "1.0.0", "1h")["versions"]
    named = monitor.summary("iris_model", "1.0.0", "1h", primary="1.0.0")["versions"]

    assert by_traffic["primary"] == "1.1.0"
    assert compared(by_traffic, "1.0.0")["agreement"] == 0.0
    assert compared(by_traffic, "1.0.0")["pairs"] == 3
    # named primary 1.0.0: 1.1.0 has only primary rows, so it is not compared
    assert [entry["version"] for entry in named["compared"]] == ["1.0.0"]


def test_only_the_newest_rows_are_read_and_the_response_says_so(database_url: str) -> None:
    app = create_app(monitored_settings(database_url, MONITORING_ANALYSIS_MAX_ROWS=4))
    monitor = monitor_of(app)
    rows = []
    for i in range(10):
        old = i < 6  # the six oldest disagree; the four newest agree
        rows.append(iris("1.0.0", f"c{i}", "setosa", "primary", ago_s=1000 - i * 10))
        label = "virginica" if old else "setosa"
        rows.append(iris("1.1.0", f"c{i}", label, "shadow", ago_s=1000 - i * 10))
    monitor.store.insert(rows)

    section = versions(app.test_client())

    shadow = compared(section, "1.1.0")
    assert section["capped"] is True and section["max_rows"] == 4
    assert shadow["capped"] is True and shadow["rows_read"] == 4
    assert shadow["decisions"] == {"shadow": 10}
    assert (shadow["pairs"], shadow["agreement"]) == (4, 1.0)
    monitor.writer.close()
    monitor.store.dispose()


def test_canary_label_shares_sit_beside_the_primarys(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    rows = [iris("1.0.0", f"p{i}", s, "primary") for i, s in enumerate(["setosa"] * 4)]
    canary = ["setosa", "setosa", "setosa", "virginica"]
    rows += [iris("1.1.0", f"k{i}", s, "canary") for i, s in enumerate(canary)]
    monitor_of(monitored_app).store.insert(rows)

    section = versions(monitored_client)

    assert compared(section, "1.0.0")["label_shares"] == {"setosa": 1.0}
    canary_entry = compared(section, "1.1.0")
    assert canary_entry["label_shares"] == {"setosa": 0.75, "virginica": 0.25}
    assert canary_entry["decisions"] == {"canary": 4}
    assert (canary_entry["pairs"], canary_entry["unpaired"]) == (0, 0)
    assert canary_entry["agreement"] is None and canary_entry["mean"] is None


def test_regression_pairs_give_the_mean_absolute_difference_and_the_mean(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    def bike(version: str, request_id: str, rentals: float, decision: str) -> Any:
        return capture_row(
            "bike_demand_model",
            version,
            time.time() - 30,
            request_id,
            0,
            "rest_json",
            {},
            {"rentals": rentals},
            2.0,
            decision,
        )

    answers = {"d1": 100.0, "d2": 200.0, "d3": 300.0}
    shadows = {"d1": 110.0, "d2": 180.0, "d3": 330.0}
    rows = [bike("1.0.0", key, value, "primary") for key, value in answers.items()]
    rows += [bike("2.0.0", key, value, "shadow") for key, value in shadows.items()]
    monitor_of(monitored_app).store.insert(rows)

    section = versions(monitored_client, "bike_demand_model")

    assert section["kind"] == "regression"
    shadow = compared(section, "2.0.0")
    assert shadow["pairs"] == 3
    assert shadow["mean_absolute_difference"] == pytest.approx((10 + 20 + 30) / 3)
    assert shadow["agreement"] is None and shadow["label_shares"] is None
    assert shadow["mean"] == pytest.approx(620 / 3)
    assert compared(section, "1.0.0")["mean"] == pytest.approx(200.0)


def test_latency_percentiles_per_version_and_per_decision(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    rows = [iris("1.0.0", f"l{i}", "setosa", "primary", latency_ms=1.0) for i in range(10)]
    rows += [
        iris("1.1.0", f"l{i}", "setosa", "shadow", latency_ms=float(i + 1)) for i in range(100)
    ]
    rows += [iris("1.1.0", "direct", "setosa", "direct", latency_ms=500.0)]
    monitor_of(monitored_app).store.insert(rows)

    section = versions(monitored_client)

    shadow = compared(section, "1.1.0")
    # numpy's linear percentiles of 1..100: p50 50.5, p99 99.01
    assert shadow["latency_by_decision"]["shadow"] == {"p50": 50.5, "p99": 99.01}
    assert shadow["latency_by_decision"]["direct"] == {"p50": 500.0, "p99": 500.0}
    assert shadow["latency_ms"]["p50"] == 51.0
    assert compared(section, "1.0.0")["latency_ms"] == {"p50": 1.0, "p99": 1.0}


def test_feedback_gives_each_version_its_own_quality(two_versions: Flask) -> None:
    client = two_versions.test_client()
    runtime: ServiceRuntime = two_versions.extensions[EXTENSION_KEY]
    manager = runtime.manager
    batch = [IRIS_ITEM, LONG_SEPALS, IRIS_ITEM, LONG_SEPALS]
    answer = client.post(f"{IRIS_URL}/predict", json=batch, headers={"X-Request-ID": "fb"})
    assert answer.status_code == 200, answer.get_json()
    results = answer.get_json()
    # what a shadow runner does after the answer: the same items through 1.1.0, outside the
    # request, captured under the request's id
    shadow = manager.get_model("iris_model", "1.1.0")
    shadow_results = shadow.model.predict_batch(batch)
    assert runtime.capture is not None
    runtime.capture(
        shadow, batch, shadow_results, 0.002, decision="shadow", request_id="fb", entry_point="v2"
    )
    monitor_of(two_versions).flush()
    truth = ["setosa", "virginica", "setosa", "virginica"]
    feedback = [{"request_id": "fb", "index": i, "actual": s} for i, s in enumerate(truth)]
    assert client.post(f"{IRIS_URL}/feedback", json=feedback).status_code == 200

    section = versions(client)

    assert [result["species"] for result in results] == truth
    primary, next_version = compared(section, "1.0.0"), compared(section, "1.1.0")
    assert primary["quality"]["labelled"] == 4
    assert primary["quality"]["metrics"]["accuracy"] == 1.0
    assert next_version["quality"]["labelled"] == 4
    assert next_version["quality"]["metrics"]["accuracy"] == 0.5
    assert (next_version["pairs"], next_version["agreement"]) == (4, 0.5)
    rows = monitor_of(two_versions).store.raw_rows("iris_model", None, 100)
    assert {(row["version"], row["decision"], row["entry_point"]) for row in rows} == {
        ("1.0.0", "primary", "rest_json"),
        ("1.1.0", "shadow", "v2"),
    }


def test_failed_requests_keep_their_decision_and_count_per_version(two_versions: Flask) -> None:
    client = two_versions.test_client()
    bad = {"sepal_length": "long"}
    assert client.post(f"{IRIS_URL}/versions/1.1.0/predict", json=bad).status_code == 400
    assert client.post(f"{IRIS_URL}/predict", json=bad).status_code == 400
    monitor = monitor_of(two_versions)
    monitor.store.insert(
        [iris("1.0.0", "y", "setosa", "primary", index=i) for i in range(2)]
        + [iris("1.1.0", "x", "setosa", "direct")]
    )
    monitor.flush()

    with monitor.store.engine.connect() as connection:
        query = sa.select(prediction_errors.c.version, prediction_errors.c.decision)
        stored = sorted(tuple(row) for row in connection.execute(query))
    section = versions(client)

    assert stored == [("1.0.0", "primary"), ("1.1.0", "direct")]
    assert compared(section, "1.0.0")["errors"] == {"count": 1, "rate": pytest.approx(1 / 3)}
    assert compared(section, "1.1.0")["errors"] == {"count": 1, "rate": 0.5}


def test_the_agreement_gauge_follows_the_shadow_pairs(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    rows = [iris("1.0.0", f"g{i}", "setosa", "primary") for i in range(4)]
    rows += [iris("7.0.0", f"g{i}", s, "shadow") for i, s in enumerate(["setosa"] * 3 + ["x"])]
    monitor = monitor_of(monitored_app)
    monitor.store.insert(rows)

    monitor.refresh_gauges()
    metrics = monitored_client.get("/metrics").get_data(as_text=True)

    assert 'model_service_version_agreement{model="iris_model",version="7.0.0"} 0.75' in metrics


def test_a_store_made_by_the_first_migration_reads_its_rows_as_primary(database_url: str) -> None:
    store = Store(database_url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001_captures")
        connection.commit()
    old_row = {
        "model": "iris_model",
        "version": "1.0.0",
        "created": time.time() - 60,
        "request_id": "before",
        "item_index": 0,
        "entry_point": "rest_json",
        "inputs": IRIS_ITEM,
        "prediction": {"species": "setosa"},
        "latency_ms": 1.0,
    }
    # the tables as 0001 made them: no decision column
    old_captures = sa.table(
        "captures", *(sa.column(name, captures.c[name].type) for name in old_row)
    )
    old_errors = sa.table(
        "prediction_errors",
        *(
            sa.column(column.name, column.type)
            for column in prediction_errors.c
            if column.name not in ("id", "decision")
        ),
    )
    with store.engine.begin() as connection:
        connection.execute(sa.insert(old_captures), [old_row])
        error = {"model": "iris_model", "version": "1.0.0", "created": time.time()}
        error.update(request_id="e", status=500, entry_point="rest_json")
        connection.execute(sa.insert(old_errors), [error])

    store.migrate()
    store.insert([iris("1.1.0", "before", "setosa", "shadow")])

    [first, second] = store.raw_rows("iris_model", None, 10)
    assert (first["request_id"], first["decision"]) == ("before", "primary")
    assert second["decision"] == "shadow"
    with store.engine.connect() as connection:
        assert connection.scalar(sa.select(prediction_errors.c.decision)) == "primary"
    assert store.shadow_pairs("iris_model", "1.1.0", "1.0.0", None, 10, 300.0)[1] == [
        ({"species": "setosa"}, {"species": "setosa"})
    ]
    store.dispose()


def test_the_page_shows_versions_only_when_more_than_one_version_has_rows(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    monitor = monitor_of(monitored_app)
    monitor.store.insert([iris("1.0.0", "one", "setosa", "primary")])
    alone = monitored_client.get("/models/iris_model/monitoring").get_data(as_text=True)
    monitor.store.insert([iris("1.1.0", "one", "setosa", "shadow")])
    both = monitored_client.get("/models/iris_model/monitoring").get_data(as_text=True)

    assert 'id="versions"' not in alone
    assert 'id="versions"' in both and 'id="agreement-chart"' in both


def test_the_routing_policys_primary_is_the_one_compared_against(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    rows = [iris("1.0.0", f"t{i}", "setosa", "primary") for i in range(3)]
    rows += [iris("1.1.0", f"t{i}", "setosa", "canary") for i in range(2)]
    monitor_of(monitored_app).store.insert(rows)
    runtime = monitored_app.extensions[EXTENSION_KEY]

    class Table:  # what routing's table answers: the policy of a model, with its primary
        @staticmethod
        def get(model: str) -> Any:
            return SimpleNamespace(primary="1.1.0") if model == "iris_model" else None

    runtime.routing = Table()
    section = versions(monitored_client)

    assert section["primary"] == "1.1.0"
    assert [entry["version"] for entry in section["compared"]] == ["1.1.0"]
    assert versions(monitored_client, "bike_demand_model")["primary"] == "1.0.0"


def test_the_admin_rows_and_the_export_carry_the_decision(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(monitored_settings(database_url, ADMIN_TOKEN="t0ken"))
    monitor = monitor_of(app)
    monitor.store.insert([iris("1.0.0", "e1", "setosa", "primary")])
    monitor.store.insert([iris("1.1.0", "e1", "virginica", "shadow")])
    monkeypatch.setenv("MODEL_SERVICE_MONITORING_DATABASE_URL", database_url)

    admin = app.test_client().get(
        "/api/admin/models/iris_model/captures", headers={"Authorization": "Bearer t0ken"}
    )
    exported = CliRunner().invoke(main, ["captures", "export", "iris_model", "--format", "csv"])

    assert [row["decision"] for row in admin.get_json()["captures"]] == ["primary", "shadow"]
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(row["version"], row["decision"]) for row in rows] == [
        ("1.0.0", "primary"),
        ("1.1.0", "shadow"),
    ]
    monitor.store.dispose()
