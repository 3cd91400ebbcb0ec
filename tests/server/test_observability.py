"""Health, metrics and request logs of an app in this process (no gunicorn)."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from model_service import create_app
from model_service.api.health import WARM_UP_KEY
from model_service.observability import ID_POOL, JsonFormatter, TextFormatter, new_request_id
from tests.fixtures import EchoModel, FailingLoadModel, entry

ECHO_ITEM = {"x": 1.5, "count": 2, "flag": True, "colour": "red", "note": "private-note"}


def test_ready_lists_the_models_that_failed_to_load() -> None:
    app = create_app({"MODELS": [entry(EchoModel), entry(FailingLoadModel)]})
    response = app.test_client().get("/api/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert body["models"] == ["echo:1.0.0"]
    assert body["failed"][0]["source"].endswith("FailingLoadModel")
    assert any("missing.joblib" in reason for reason in body["reasons"])


def test_ready_waits_for_the_warm_up_when_one_runs(app: Flask, client: FlaskClient) -> None:
    assert client.get("/api/health/ready").status_code == 200
    warmed_up = threading.Event()
    app.extensions[WARM_UP_KEY] = warmed_up
    response = client.get("/api/health/ready")
    assert response.status_code == 503
    assert "warming up" in response.get_json()["reasons"][0]
    warmed_up.set()
    assert client.get("/api/health/ready").status_code == 200


def metric_samples(client: FlaskClient) -> list[Any]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def value(samples: list[Any], name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


def test_metrics_count_requests_and_predicted_rows(client: FlaskClient) -> None:
    client.post("/api/models/echo/predict", json=ECHO_ITEM)
    client.post("/api/models/echo/predict", json=[ECHO_ITEM, ECHO_ITEM, ECHO_ITEM])
    client.post("/api/models/echo/predict", json={"x": "bad"})
    samples = metric_samples(client)
    endpoint = "/api/models/<name>/predict"
    labels = {"endpoint": endpoint, "model": "echo", "version": "2.0.0"}
    assert value(samples, "model_service_requests_total", **labels, status="200") == 2
    assert value(samples, "model_service_requests_total", **labels, status="400") == 1
    assert value(samples, "model_service_predictions_total", model="echo") == 4
    assert value(samples, "model_service_request_duration_seconds_count", **labels) == 3
    assert value(samples, "model_service_model_info", model="echo", version="1.0.0") == 1


def test_metrics_never_name_a_model_that_is_not_loaded(client: FlaskClient) -> None:
    client.post("/api/models/made-up-name/predict", json={})
    samples = metric_samples(client)
    assert value(samples, "model_service_requests_total", status="404", model="") == 1
    assert not any(s.labels.get("model") == "made-up-name" for s in samples)


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()], ids=["json", "text"])
def test_request_log_line_has_id_model_status_and_duration_but_not_the_body(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, formatter: logging.Formatter
) -> None:
    with caplog.at_level(logging.INFO, logger="model_service.requests"):
        client.post("/api/models/echo/predict", json=ECHO_ITEM, headers={"X-Request-ID": "r-1"})
    (record,) = [r for r in caplog.records if r.name == "model_service.requests"]
    line = formatter.format(record)
    assert "private-note" not in line
    if isinstance(formatter, JsonFormatter):
        entry_ = json.loads(line)
        assert entry_["request_id"] == "r-1"
        assert (entry_["model"], entry_["version"], entry_["status"]) == ("echo", "2.0.0", 200)
        assert entry_["duration_ms"] >= 0
        assert entry_["message"].startswith("POST /api/models/echo/predict 200 ")
    else:
        assert "POST /api/models/echo/predict 200 " in line
        assert line.endswith("request_id=r-1 model=echo version=2.0.0")


def test_request_log_records_name_their_source_like_any_log_call(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The request line's record is made without a stack walk; operators' own formats
    (``%(funcName)s``, ``%(module)s``, ``%(lineno)d``) still see where it comes from."""
    from model_service import observability

    with caplog.at_level(logging.INFO, logger="model_service.requests"):
        client.post("/api/models/echo/predict", json=ECHO_ITEM)
    (record,) = [r for r in caplog.records if r.name == "model_service.requests"]
    assert (record.module, record.funcName) == ("observability", "_finish_request")
    assert record.pathname == observability.__file__
    assert record.lineno == observability._finish_request.__code__.co_firstlineno
    assert record.process == os.getpid()


def test_log_times_are_formatted_exactly_as_before_across_seconds() -> None:
    """The formatters format a second's date and time once; every line still shows its own
    time: JSON as ``datetime.isoformat`` (milliseconds, UTC), text as ``logging.Formatter``."""
    import random
    from datetime import UTC, datetime

    json_formatter, text_formatter = JsonFormatter(), TextFormatter()
    reference = logging.Formatter(text_formatter._fmt, text_formatter.datefmt)
    generator = random.Random(7)
    start = 1_790_000_000
    # consecutive records within and across seconds, and fractions that round up to the next
    # second (datetime rounds to the microsecond before it truncates to the millisecond)
    times = sorted(start + generator.uniform(0, 5) for _ in range(2000))
    times += [start + 6.9999996, start + 6.9995, start + 7.0000004, start + 7.0]
    for created in times:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        record.created = created
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert json.loads(json_formatter.format(record))["time"] == expected
        assert text_formatter.format(record) == reference.format(record)


def test_an_unacceptable_request_id_is_replaced(client: FlaskClient) -> None:
    response = client.get("/api/models", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["X-Request-ID"] != "bad id\twith spaces"
    assert len(response.headers["X-Request-ID"]) == 32


def test_created_request_ids_are_unique_and_sort_by_creation_time(client: FlaskClient) -> None:
    # the monitoring store indexes captures by request id: ids that sort by time keep its
    # index growing at the end (see new_request_id)
    before_ms = time.time_ns() // 1_000_000
    ids = [client.get("/api/models").headers["X-Request-ID"] for _ in range(50)]
    after_ms = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    assert all(len(id_) == 32 and int(id_, 16) >= 0 for id_ in ids)
    assert ids == sorted(ids, key=lambda id_: id_[:12])
    assert before_ms <= int(ids[0][:12], 16) <= int(ids[-1][:12], 16) <= after_ms
    # the rest is random, not a counter
    assert len({id_[12:] for id_ in ids}) == len(ids)


def test_request_ids_drawn_from_the_pool_are_unique_across_refills_and_forked_workers() -> None:
    ids = [new_request_id() for _ in range(3 * ID_POOL + 7)]  # more than three pool refills
    assert len({id_[12:] for id_ in ids}) == len(ids)

    reader, writer = os.pipe()
    child = os.fork()  # as gunicorn forks its workers from the preloaded app
    if child == 0:
        os.write(writer, "".join(new_request_id()[12:] for _ in range(20)).encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader) as pipe:
        text = pipe.read()
    in_child = {text[start : start + 20] for start in range(0, len(text), 20)}
    in_parent = {new_request_id()[12:] for _ in range(20)}
    assert len(in_child) == 20 and not in_child & in_parent


def test_json_formatter_carries_exceptions() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    entry_ = json.loads(JsonFormatter().format(record))
    assert entry_["level"] == "ERROR"
    assert "ValueError: boom" in entry_["exception"]
