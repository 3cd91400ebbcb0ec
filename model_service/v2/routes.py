"""V2 routes: thin functions that parse, call the model layer and shape the response."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from flask import Response, request

from model_service.readiness import readiness
from model_service.responses import json_response
from model_service.routing import ROUTING_KEY_HEADER
from model_service.runtime import current_runtime
from model_service.v2 import inference, v2
from model_service.v2.inference import resolve_model
from model_service.v2.mapping import describe_model
from model_service.v2.request_body import HEADER_LENGTH, read_infer_request

SERVER_NAME = "model-service"


def _server_version() -> str:
    try:
        return package_version(SERVER_NAME)
    except PackageNotFoundError:
        return "unknown"


SERVER_METADATA = {
    "name": SERVER_NAME,
    "version": _server_version(),
    "extensions": ["model_repository"],
}


@v2.get("")
def server_metadata() -> Response:
    """Server name, version and the protocol extensions it supports."""
    return json_response(SERVER_METADATA)


@v2.get("/health/live")
def server_live() -> Response:
    """The process is up and answering."""
    return json_response({"live": True})


@v2.get("/health/ready")
def server_ready() -> Response:
    """200 when the service is ready to predict; 503, with the reasons, when it is not."""
    reasons = readiness()["reasons"]
    body: dict[str, Any] = {"ready": not reasons}
    if reasons:
        body["reasons"] = reasons
    return json_response(body, status=503 if reasons else 200)


@v2.get("/models/<name>/ready", defaults={"version": None})
@v2.get("/models/<name>/versions/<version>/ready")
def model_ready(name: str, version: str | None) -> Response:
    """A loaded model is ready (404 when it is not loaded)."""
    served = current_runtime().get_model(name, version)
    return json_response({"name": served.qualified_name, "ready": True})


@v2.get("/models/<name>", defaults={"version": None})
@v2.get("/models/<name>/versions/<version>")
def model_metadata(name: str, version: str | None) -> Response:
    """The model's input and output tensors: names, datatypes, shapes (``-1``: any size)."""
    runtime = current_runtime()
    served = runtime.get_model(name, version)
    versions = runtime.manager.get_model_metadata(name, served.version)["versions"]
    return json_response(describe_model(served, versions))


@v2.post("/models/<name>/infer", defaults={"version": None})
@v2.post("/models/<name>/versions/<version>/infer")
def infer(name: str, version: str | None) -> Response:
    """Predict every row of the input tensors; answer one output tensor per output field."""
    served = resolve_model(name, version, request.headers.get(ROUTING_KEY_HEADER))
    infer_request = read_infer_request(
        request.get_data(cache=False), request.headers.get(HEADER_LENGTH)
    )
    return json_response(inference.infer(current_runtime(), served, infer_request))
