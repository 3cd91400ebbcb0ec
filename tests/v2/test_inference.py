"""The V2 infer core (:mod:`model_service.v2.inference`), called as the gRPC servicer calls it:
without an HTTP request, on a parsed :class:`InferRequest`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from model_service.errors import InvalidInput, ModelNotFound, PayloadTooLarge
from model_service.runtime import ServiceRuntime
from model_service.v2.inference import infer, resolve_model
from model_service.v2.request_body import InferRequest
from tests.v2.test_endpoints import IRIS_ROWS, iris_tensors


@pytest.fixture
def runtime(app: Flask) -> Iterator[ServiceRuntime]:
    with app.test_request_context():
        yield app.extensions["model_service"]


def _request(inputs: list[dict[str, Any]], outputs: list[str] | None = None) -> InferRequest:
    return InferRequest(inputs, outputs, "call-7", {})


def test_infer_answers_what_the_rest_route_answers(app: Flask, runtime: ServiceRuntime) -> None:
    served = resolve_model("iris_model", None, routing_key=None)
    body = infer(runtime, served, _request(iris_tensors(IRIS_ROWS)))
    rest = app.test_client().post(
        "/v2/models/iris_model/infer", json={"id": "call-7", "inputs": iris_tensors(IRIS_ROWS)}
    )
    assert rest.status_code == 200
    assert body == rest.get_json()


def test_infer_returns_only_the_requested_outputs(runtime: ServiceRuntime) -> None:
    served = resolve_model("iris_model", "1.0.0", routing_key=None)
    body = infer(runtime, served, _request(iris_tensors(IRIS_ROWS), ["species"]))
    assert [output["name"] for output in body["outputs"]] == ["species"]
    assert body["outputs"][0]["shape"] == [3]


def test_every_tensor_problem_is_listed_with_its_path(runtime: ServiceRuntime) -> None:
    served = resolve_model("iris_model", None, routing_key=None)
    tensors = iris_tensors(IRIS_ROWS)[:2]
    tensors[0]["datatype"] = "BYTES"
    with pytest.raises(InvalidInput) as raised:
        infer(runtime, served, _request(tensors))
    assert [detail.path for detail in raised.value.details] == [
        ("inputs", "sepal_length"),
        ("inputs", "petal_length"),
        ("inputs", "petal_width"),
    ]


def test_more_rows_than_the_batch_limit_are_refused(runtime: ServiceRuntime) -> None:
    runtime.settings["MAX_BATCH_ITEMS"] = 2
    served = resolve_model("iris_model", None, routing_key=None)
    with pytest.raises(PayloadTooLarge, match="at most 2"):
        infer(runtime, served, _request(iris_tensors(IRIS_ROWS)))


def test_zero_rows_answer_empty_tensors_without_calling_the_model(
    runtime: ServiceRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "predict", pytest.fail)
    served = resolve_model("iris_model", None, routing_key=None)
    body = infer(runtime, served, _request(iris_tensors([])))
    assert [output["shape"][0] for output in body["outputs"]] == [0, 0]


def test_an_unknown_model_or_version_is_not_found(runtime: ServiceRuntime) -> None:
    with pytest.raises(ModelNotFound):
        resolve_model("no_such_model", None, routing_key=None)
    with pytest.raises(ModelNotFound):
        resolve_model("iris_model", "9.9.9", routing_key=None)
