"""Capture from every entry point, feedback, quality and drift through the API, on SQLite and on
a real PostgreSQL server (the ``database_url`` fixture runs each test on both)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from model_service import create_app
from model_service.monitoring.store import Store, capture_row
from tests.monitoring.conftest import IRIS_ITEM, monitor_of, monitored_settings

IRIS_URL = "/api/models/iris_model"
BIKE_URL = "/api/models/bike_demand_model"
V2_IRIS = {
    "inputs": [
        {"name": name, "shape": [1], "datatype": "FP64", "data": [value]}
        for name, value in IRIS_ITEM.items()
    ]
}


def captured(app: Flask, model: str = "iris_model") -> list[dict[str, Any]]:
    monitor = monitor_of(app)
    monitor.flush()
    return monitor.store.raw_rows(model, None, 10_000)


def predict_iris(client: FlaskClient, request_id: str, body: Any = None, **options: Any) -> Any:
    response = client.post(
        f"{IRIS_URL}/predict",
        json=IRIS_ITEM if body is None else body,
        headers={"X-Request-ID": request_id, **options.pop("headers", {})},
        **options,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- capture ------------------------------------------------------------------------------------


def test_every_entry_point_is_captured_with_its_request_id_and_index(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    client = monitored_client
    predict_iris(client, "rest-json")
    second = {"sepal_length": 7.2, "sepal_width": 3.0, "petal_length": 6.1, "petal_width": 2.2}
    batch_results = predict_iris(client, "rest-batch", body=[IRIS_ITEM, second])
    form = {name: str(value) for name, value in IRIS_ITEM.items()}
    client.post(f"{IRIS_URL}/predict", data=form, headers={"X-Request-ID": "rest-form"})
    csv_body = ",".join(IRIS_ITEM) + "\n" + ",".join(map(str, IRIS_ITEM.values())) + "\n"
    client.post(
        f"{IRIS_URL}/predict",
        data=csv_body,
        content_type="text/csv",
        headers={"X-Request-ID": "rest-csv"},
    )
    client.post(
        f"{IRIS_URL}/predict",
        data=csv_body,
        content_type="text/csv",
        headers={"X-Request-ID": "web-csv", "X-Entry-Point": "web_csv"},
    )
    v2 = client.post("/v2/models/iris_model/infer", json=V2_IRIS, headers={"X-Request-ID": "v2"})
    assert v2.status_code == 200, v2.get_json()
    page = client.post("/models/iris_model/predict", data=form, headers={"X-Request-ID": "page"})
    assert page.status_code == 200

    rows = captured(monitored_app)
    seen = {(row["request_id"], row["item_index"], row["entry_point"]) for row in rows}
    assert seen == {
        ("rest-json", 0, "rest_json"),
        ("rest-batch", 0, "rest_json"),
        ("rest-batch", 1, "rest_json"),
        ("rest-form", 0, "rest_form"),
        ("rest-csv", 0, "rest_csv"),
        ("web-csv", 0, "web_csv"),
        ("v2", 0, "v2"),
        ("page", 0, "web_form"),
    }
    batch_second = next(r for r in rows if r["request_id"] == "rest-batch" and r["item_index"])
    assert batch_second["inputs"] == second
    assert batch_second["prediction"] == batch_results[1]
    assert all(row["version"] == "1.0.0" and row["latency_ms"] > 0 for row in rows)


def test_a_request_without_an_id_is_captured_under_the_id_the_service_returned(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    response = monitored_client.post(f"{IRIS_URL}/predict", json=IRIS_ITEM)
    [row] = captured(monitored_app)
    assert row["request_id"] == response.headers["X-Request-ID"]


def test_failed_requests_count_as_errors_not_predictions(
    monitored_client: FlaskClient,
) -> None:
    monitored_client.post(f"{IRIS_URL}/predict", json={"sepal_length": "wide"})
    predict_iris(monitored_client, "fine")
    monitor_of(monitored_client.application).flush()
    summary = monitored_client.get(f"{IRIS_URL}/monitoring?window=1h").get_json()
    assert (summary["predictions"], summary["errors"]) == (1, 1)


def test_excluded_fields_are_never_stored_and_sampling_zero_stores_nothing(
    database_url: str,
) -> None:
    app = create_app(
        monitored_settings(database_url, MONITORING_EXCLUDED_FIELDS=["sepal_width", "date"])
    )
    client = app.test_client()
    predict_iris(client, "private")
    [row] = captured(app)
    assert "sepal_width" not in row["inputs"] and row["inputs"]["sepal_length"] == 5.1
    monitor_of(app).store.dispose()

    unsampled = create_app(monitored_settings(database_url, MONITORING_SAMPLE_RATE=0.0))
    predict_iris(unsampled.test_client(), "not-sampled")
    assert [r["request_id"] for r in captured(unsampled)] == ["private"]
    monitor_of(unsampled).store.dispose()


def test_a_batch_larger_than_the_queue_keeps_its_first_items_and_counts_the_rest(
    database_url: str,
) -> None:
    app = create_app(
        monitored_settings(database_url, MONITORING_QUEUE_SIZE=3, MONITORING_FLUSH_INTERVAL_S=3600)
    )
    dropped_before = REGISTRY.get_sample_value("model_service_capture_dropped_total") or 0.0
    predict_iris(app.test_client(), "big", body=[IRIS_ITEM] * 10)
    dropped = REGISTRY.get_sample_value("model_service_capture_dropped_total") or 0.0
    assert dropped - dropped_before == 7
    assert sorted(row["item_index"] for row in captured(app)) == [0, 1, 2]
    monitor_of(app).writer.close()
    monitor_of(app).store.dispose()


# --- feedback and quality -----------------------------------------------------------------------


def test_feedback_validation_refuses_the_whole_call_listing_every_problem(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    predict_iris(monitored_client, "known")
    captured(monitored_app)
    response = monitored_client.post(
        f"{IRIS_URL}/feedback",
        json=[
            {"request_id": "known", "index": 0, "actual": "setosa"},
            {"request_id": "unknown", "actual": "setosa"},
            {"request_id": "known", "index": 0, "actual": "rose"},
            {"request_id": "known", "index": -1, "actual": "setosa", "extra": 1},
            "not an object",
        ],
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["type"] == "invalid_input"
    paths = [detail["path"] for detail in error["details"]]
    assert [1] in paths and [2, "actual"] in paths and [3, "index"] in paths
    assert [3, "extra"] in paths and [4] in paths
    # nothing stored: the valid first item was refused with the rest
    summary = monitored_client.get(f"{IRIS_URL}/monitoring?window=1h").get_json()
    assert summary["quality"]["labelled"] == 0


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"request_id": "x"}'],
    ids=["malformed", "missing-actual"],
)
def test_bad_feedback_bodies_get_400_in_the_error_shape(
    monitored_client: FlaskClient, body: bytes
) -> None:
    response = monitored_client.post(
        f"{IRIS_URL}/feedback", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.get_json()["error"]) == {"type", "message", "details", "request_id"}


def test_quality_matches_a_hand_computed_confusion(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    flowers = [
        {"sepal_length": 5.0, "sepal_width": 3.4, "petal_length": 1.5, "petal_width": 0.2},
        {"sepal_length": 6.0, "sepal_width": 2.8, "petal_length": 4.5, "petal_width": 1.4},
        {"sepal_length": 7.2, "sepal_width": 3.0, "petal_length": 6.1, "petal_width": 2.2},
        {"sepal_length": 6.3, "sepal_width": 2.9, "petal_length": 5.0, "petal_width": 1.8},
    ]
    predicted = [r["species"] for r in predict_iris(monitored_client, "batch", body=flowers)]
    captured(monitored_app)
    actual = ["setosa", "versicolor", "virginica", "versicolor"]
    # the first label of item 3 is superseded by the second: the later one counts
    first = [{"request_id": "batch", "index": 3, "actual": "setosa"}]
    later = [{"request_id": "batch", "index": i, "actual": a} for i, a in enumerate(actual)]
    for body in (first, later):
        answer = monitored_client.post(f"{IRIS_URL}/feedback", json=body)
        assert answer.status_code == 200 and answer.get_json() == {"accepted": len(body)}

    quality = monitored_client.get(f"{IRIS_URL}/monitoring?window=all").get_json()["quality"]

    right = sum(p == a for p, a in zip(predicted, actual, strict=True))
    assert quality["labelled"] == 4 and quality["kind"] == "classification"
    assert quality["metrics"]["accuracy"] == pytest.approx(right / 4)
    for species in set(predicted) | set(actual):
        hits = sum(p == a == species for p, a in zip(predicted, actual, strict=True))
        assert quality["metrics"]["per_class"][species]["support"] == actual.count(species)
        assert quality["metrics"]["per_class"][species]["recall"] == (
            pytest.approx(hits / actual.count(species)) if species in actual else None
        )


def test_regression_quality_is_mae_and_rmse(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    day = monitor_of(monitored_app).manager.get_model("bike_demand_model").example_input
    assert day is not None
    response = monitored_client.post(
        f"{BIKE_URL}/predict",
        json=[day, {**day, "weather": "light_rain"}],
        headers={"X-Request-ID": "days"},
    )
    forecasts = [result["rentals"] for result in response.get_json()]
    captured(monitored_app, "bike_demand_model")
    actual = [forecasts[0] + 100.0, forecasts[1] - 300.0]
    monitored_client.post(
        f"{BIKE_URL}/feedback",
        json=[{"request_id": "days", "index": i, "actual": a} for i, a in enumerate(actual)],
    )
    quality = monitored_client.get(f"{BIKE_URL}/monitoring?window=1h").get_json()["quality"]
    assert quality["kind"] == "regression" and quality["labelled"] == 2
    assert quality["metrics"]["mae"] == pytest.approx(200.0)
    assert quality["metrics"]["rmse"] == pytest.approx(((100**2 + 300**2) / 2) ** 0.5)


# --- drift --------------------------------------------------------------------------------------


def test_bike_drift_is_flagged_when_only_frozen_winter_days_arrive(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    winter = [
        {
            "date": f"2026-01-{day:02d}",
            "season": "winter",
            "weather": "clear",
            "holiday": False,
            "working_day": True,
            "temperature": -25.0 + day / 10,  # the training days never went below -15 °C
            "humidity": 70.0,
            "wind_speed": 10.0,
        }
        for day in range(1, 31)
    ]
    assert monitored_client.post(f"{BIKE_URL}/predict", json=winter).status_code == 200
    captured(monitored_app, "bike_demand_model")

    drift = monitored_client.get(f"{BIKE_URL}/monitoring?window=1h").get_json()["drift"]

    assert drift["features"]["temperature"]["status"] == "drift"
    assert drift["features"]["temperature"]["out_of_range_rate"] == 1.0
    assert drift["features"]["season"]["status"] == "drift"
    assert drift["features"]["date"]["status"] == "drift"
    assert drift["prediction"]["status"] in {"watch", "drift"}


def test_traffic_like_the_training_data_reads_ok(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    served = monitor_of(monitored_app).manager.get_model("iris_model")
    reference = served.model.reference_data()
    assert reference
    monitored_client.post(f"{IRIS_URL}/predict", json=reference)
    captured(monitored_app)
    drift = monitored_client.get(f"{IRIS_URL}/monitoring?window=1h").get_json()["drift"]
    assert {figures["status"] for figures in drift["features"].values()} == {"ok"}
    assert drift["prediction"]["status"] == "ok"


def test_an_empty_window_has_no_data(monitored_client: FlaskClient) -> None:
    summary = monitored_client.get(f"{IRIS_URL}/versions/1.0.0/monitoring?window=7d").get_json()
    assert summary["predictions"] == 0 and summary["latency_ms"] == {"p50": None, "p99": None}
    assert summary["drift"]["features"]["petal_length"] == {
        "psi": None,
        "status": "no data",
        "out_of_range_rate": None,
    }


@pytest.mark.parametrize("window", ["", "0h", "24", "1w", "-1d", "all;"])
def test_a_bad_window_is_a_400_naming_the_window(
    monitored_client: FlaskClient, window: str
) -> None:
    response = monitored_client.get(f"{IRIS_URL}/monitoring?window={window}")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"][0]["path"] == ["window"]


def test_an_unknown_model_is_a_404(monitored_client: FlaskClient) -> None:
    assert monitored_client.get("/api/models/nope/monitoring").status_code == 404


# --- retention and raw rows ---------------------------------------------------------------------


def test_retention_deletes_only_rows_older_than_the_period(
    monitored_app: Flask, monitored_client: FlaskClient
) -> None:
    predict_iris(monitored_client, "recent")
    monitor = monitor_of(monitored_app)
    monitor.flush()
    old = [
        capture_row(
            "iris_model",
            "1.0.0",
            time.time() - days * 86400,
            f"old-{days}",
            0,
            "rest_json",
            IRIS_ITEM,
            {"species": "setosa"},
            1.0,
        )
        for days in (29, 31, 45)
    ]
    monitor.store.insert(old)

    assert monitor.clean_up() == 2
    left = {row["request_id"] for row in captured(monitored_app)}
    assert left == {"recent", "old-29"}


ADMIN_TOKEN = "s3cret-token"


def test_raw_rows_need_the_admin_token(database_url: str) -> None:
    app = create_app(monitored_settings(database_url, ADMIN_TOKEN=ADMIN_TOKEN))
    client = app.test_client()
    predict_iris(client, "raw")
    monitor_of(app).flush()
    url = "/api/admin/models/iris_model/captures?limit=5"

    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    answer = client.get(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    assert answer.status_code == 200
    [row] = answer.get_json()["captures"]
    assert row["request_id"] == "raw" and row["inputs"] == IRIS_ITEM and row["index"] == 0
    bad = client.get(url + "&since=yesterday", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert bad.status_code == 400
    monitor_of(app).store.dispose()


def test_the_schema_is_migrated_once_by_concurrent_starts(database_url: str) -> None:
    import threading

    stores = [Store(database_url) for _ in range(4)]
    failures: list[BaseException] = []

    def migrate(store: Store) -> None:
        try:
            store.migrate()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=migrate, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    stores[0].insert([], [])  # the tables exist
    for store in stores:
        store.dispose()


def test_the_migrations_build_exactly_the_tables_the_code_uses(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from model_service.monitoring.tables import metadata

    store = Store(database_url)
    store.migrate()
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    store.dispose()
    assert differences == []
