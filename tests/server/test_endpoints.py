"""The real service under gunicorn (2 preloaded gevent workers): endpoints, metrics, logs."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from model_service import create_app
from tests.fixtures import entry
from tests.server.conftest import IRIS, IRIS_ITEM, log_records, predict_gated, wait_for
from tests.server.toy_models import GatedModel
from tests.support import RunningService

pytestmark = pytest.mark.server

ROUTE_ARGUMENTS = {"name": "iris_model", "version": "1.0.0"}
V2_INFER = {
    "inputs": [
        {"name": name, "shape": [1], "datatype": "FP64", "data": [value]}
        for name, value in IRIS_ITEM.items()
    ]
}
CSV_BODY = "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"


def get_routes() -> list[str]:
    """Every GET route of the app, its arguments filled for the iris model (static files aside)."""
    app = create_app(
        {"MODELS": [IRIS, entry(GatedModel)], "LOAD_ENTRY_POINTS": False, "LOG_LEVEL": "WARNING"}
    )
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or set(rule.arguments) - set(ROUTE_ARGUMENTS):
            continue
        paths.append(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ROUTE_ARGUMENTS[m.group(1)], rule.rule))
    return sorted(set(paths))


@pytest.mark.parametrize("path", get_routes())
def test_every_get_route_answers_without_a_server_error(service: RunningService, path: str) -> None:
    response = requests.get(service.url(path), timeout=10)
    assert response.status_code < 500, response.text[:500]
    assert response.status_code != 404 or path.startswith("/api/admin"), response.text[:500]


@pytest.mark.parametrize(
    ("path", "kwargs", "check"),
    [
        ("/api/models/iris_model/predict", {"json": IRIS_ITEM}, lambda b: b["species"] == "setosa"),
        (
            "/api/models/iris_model/versions/1.0.0/predict",
            {"json": {"instances": [IRIS_ITEM, IRIS_ITEM]}},
            lambda b: len(b) == 2,
        ),
        (
            "/api/models/iris_model/predict",
            {"data": IRIS_ITEM},
            lambda b: b["species"] == "setosa",
        ),
        (
            "/api/models/iris_model/predict",
            {"data": CSV_BODY, "headers": {"Content-Type": "text/csv"}},
            lambda b: [r["species"] for r in b] == ["setosa", "virginica"],
        ),
        ("/api/models/iris_model/explain", {"json": IRIS_ITEM}, lambda b: bool(b)),
        ("/v2/models/iris_model/infer", {"json": V2_INFER}, lambda b: bool(b["outputs"])),
    ],
    ids=["json", "instances", "form", "csv", "explain", "v2-infer"],
)
def test_post_endpoints_predict(
    service: RunningService, path: str, kwargs: dict[str, Any], check: Any
) -> None:
    response = requests.post(service.url(path), timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    assert check(response.json())


def test_invalid_input_is_a_400_in_the_one_error_shape(service: RunningService) -> None:
    response = requests.post(
        service.url("/api/models/iris_model/predict"), json={"sepal_length": "x"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_input"


def test_health_endpoints(service: RunningService) -> None:
    assert requests.get(service.url("/api/health/live"), timeout=5).json() == {"status": "ok"}
    ready = requests.get(service.url("/api/health/ready"), timeout=5).json()
    assert ready["status"] == "ok"
    assert set(ready["models"]) == {"iris_model:1.0.0", "gated:1.0.0", "fork_unsafe:1.0.0"}


def test_request_id_is_echoed_and_logged_with_model_status_and_duration_but_no_body(
    service: RunningService,
) -> None:
    secret = 4.0123456789
    response = requests.post(
        service.url("/api/models/iris_model/predict"),
        json={**IRIS_ITEM, "sepal_length": secret},
        headers={"X-Request-ID": "test-request-42"},
        timeout=10,
    )
    assert response.headers["X-Request-ID"] == "test-request-42"
    generated = requests.get(service.url("/api/models"), timeout=10).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)

    def logged() -> list[dict[str, Any]]:
        return [r for r in log_records(service) if r.get("request_id") == "test-request-42"]

    wait_for(lambda: bool(logged()), "the request's log line")
    (record,) = logged()
    assert record["model"] == "iris_model"
    assert record["version"] == "1.0.0"
    assert record["status"] == 200
    assert record["duration_ms"] >= 0
    assert str(secret) not in service.log()


def samples(service: RunningService) -> dict[str, list[Any]]:
    """``/metrics`` parsed by prometheus-client's own parser: family name -> samples."""
    text = requests.get(service.url("/metrics"), timeout=10).text
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def predictions_of(parsed: dict[str, list[Any]], model: str) -> float:
    return sum(
        s.value
        for s in parsed["model_service_predictions"]
        if s.name.endswith("_total") and s.labels["model"] == model
    )


def requests_to(parsed: dict[str, list[Any]], endpoint: str, status: str) -> float:
    return sum(
        s.value
        for s in parsed["model_service_requests"]
        if s.name.endswith("_total")
        and s.labels["endpoint"] == endpoint
        and s.labels["status"] == status
    )


def test_metrics_add_up_the_requests_of_both_workers(service: RunningService) -> None:
    endpoint = "/api/models/<name>/predict"
    before = samples(service)
    sent, pids = 0, set()
    with ThreadPoolExecutor(4) as pool:
        while len(pids) < 2 and sent < 400:
            responses = list(pool.map(lambda _: predict_gated(service), range(20)))
            assert all(r.status_code == 200 for r in responses)
            pids |= {r.json()["pid"] for r in responses}
            sent += len(responses)
    assert len(pids) == 2, "the requests did not reach both workers"
    after = samples(service)
    assert requests_to(after, endpoint, "200") - requests_to(before, endpoint, "200") >= sent
    assert predictions_of(after, "gated") - predictions_of(before, "gated") == sent
    gated_count = sum(
        s.value
        for s in after["model_service_request_duration_seconds"]
        if s.name.endswith("_count") and s.labels["model"] == "gated"
    )
    assert gated_count >= sent


def test_metrics_describe_the_loaded_models_and_batches(service: RunningService) -> None:
    requests.post(service.url("/api/models/iris_model/predict"), json=IRIS_ITEM, timeout=10)
    parsed = samples(service)
    info = {(s.labels["model"], s.labels["version"]) for s in parsed["model_service_model_info"]}
    assert ("iris_model", "1.0.0") in info
    load = {s.labels["model"]: s.value for s in parsed["model_service_model_load_seconds"]}
    assert load["iris_model"] > 0
    assert parsed["model_service_model_load_failures"][0].value == 0
    assert any(s.labels.get("model") == "iris_model" for s in parsed["model_service_batch_size"])


def test_a_fork_unsafe_model_fails_when_preloaded(service: RunningService) -> None:
    """The counterpart of the ``--no-preload`` test: preloading is what breaks this model."""
    response = requests.post(
        service.url("/api/models/fork_unsafe/predict"), json={"x": 1.0}, timeout=10
    )
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "prediction_error"
