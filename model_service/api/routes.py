"""REST routes: thin functions that parse, call the model layer and shape the response."""

from __future__ import annotations

from typing import Any

from flask import Response

from model_service.api import api
from model_service.api.request_body import read_items
from model_service.api.schemas import (
    explanation_schema,
    model_list_schema,
    model_metadata_schema,
)
from model_service.flask_locals import current_request
from model_service.model_manager import ServedModel
from model_service.responses import json_response
from model_service.routing import ROUTING_KEY_HEADER
from model_service.runtime import ServiceRuntime, current_runtime


@api.get("/models")
def list_models() -> Response:
    """Every loaded model, at its default version, with all versions loaded."""
    models = current_runtime().manager.get_models()
    return json_response(model_list_schema.dump({"models": models}))


@api.get("/models/<name>/metadata", defaults={"version": None})
@api.get("/models/<name>/versions/<version>/metadata")
def model_metadata(name: str, version: str | None) -> Response:
    """A model's description, input and output JSON schemas, model card and example input."""
    metadata = current_runtime().manager.get_model_metadata(name, version)
    return json_response(model_metadata_schema.dump(metadata))


@api.post("/models/<name>/predict", defaults={"version": None})
@api.post("/models/<name>/versions/<version>/predict")
def predict(name: str, version: str | None) -> Response:
    """Predict one item (JSON object or form fields) or a batch (JSON list, instances, CSV)."""
    runtime = current_runtime()
    served, items, batch = _model_and_items(runtime, name, version)
    results = runtime.predict(served, items, batch)
    return json_response(results if batch else results[0])


@api.post("/models/<name>/explain", defaults={"version": None})
@api.post("/models/<name>/versions/<version>/explain")
def explain(name: str, version: str | None) -> Response:
    """Explain the prediction for one item or a batch: one contribution per input field."""
    runtime = current_runtime()
    served, items, batch = _model_and_items(runtime, name, version)
    explanations = explanation_schema.dump(runtime.explain(served, items, batch), many=True)
    return json_response(explanations if batch else explanations[0])


def _model_and_items(
    runtime: ServiceRuntime, name: str, version: str | None
) -> tuple[ServedModel, list[Any], bool]:
    """The requested model and the items of the request body (predict and explain share it)."""
    current = current_request()  # read_items looks at it a dozen times
    served = runtime.route(name, version, current.headers.get(ROUTING_KEY_HEADER)).served
    items, batch = read_items(current, served.input_schema.json_schema)
    return served, items, batch
