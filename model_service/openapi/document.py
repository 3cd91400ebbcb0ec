"""Build the OpenAPI 3.1 document of one app: the static API plus one set of paths per model.

The static part (model list, metadata, health, errors) comes from the marshmallow schemas of
:mod:`model_service.api.schemas` through apispec's marshmallow plugin; the per-model part comes
from each model's own JSON schemas (:mod:`model_service.openapi.model_paths`). Only routes the app
really serves are documented, so the document never promises an endpoint that answers 404.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from werkzeug.exceptions import HTTPException

from model_service.api.schemas import HealthSchema, ModelListSchema
from model_service.model_manager import ServedModel, version_key
from model_service.openapi.components import (
    error_refs,
    json_response,
    operation,
    register_components,
)
from model_service.openapi.model_paths import PathOptions, add_model_paths
from model_service.openapi.monitoring_paths import add_monitoring_paths
from model_service.runtime import EXTENSION_KEY, ServiceRuntime

OPENAPI_VERSION = "3.1.0"

DESCRIPTION = """\
Serves machine-learning models over REST. Every loaded model has its own predict and metadata
paths (and explain paths when the model supports explanations) whose request and response schemas
are the model's own.

A predict body is one JSON object (answered with one result object), a JSON list or
`{"instances": [...]}` (answered with a list of results in the same order), form fields (one
item), or CSV with a header row (one item per row). Every error has the one shape of the `Error`
schema, and every response carries `X-Request-ID`.
"""


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document (a plain dict) for the models ``app`` serves right now."""
    runtime: ServiceRuntime = app.extensions[EXTENSION_KEY]
    served = sorted(
        runtime.manager.served_models(),
        key=lambda model: (model.qualified_name, version_key(model.version)),
    )
    rate_limited = bool(app.config.get("RATE_LIMIT"))
    spec = APISpec(
        title="model-service",
        version=_service_version(),
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={"description": DESCRIPTION},
    )
    register_components(spec)
    _add_static_paths(spec, app, rate_limited)
    for model in served:
        name = model.qualified_name
        options = PathOptions(
            is_default=model is runtime.manager.get_model(name),
            max_items=int(runtime.settings["MAX_BATCH_ITEMS"]),
            explain=_serves(app, f"/api/models/{name}/explain", "POST"),
            rate_limited=rate_limited,
        )
        add_model_paths(spec, model, options)
        if _serves(app, f"/api/models/{name}/monitoring", "GET"):
            add_monitoring_paths(spec, model, options.is_default, rate_limited)
    _add_v2_paths(spec, served)
    return spec.to_dict()


def _add_static_paths(spec: APISpec, app: Flask, rate_limited: bool) -> None:
    errors = error_refs(rate_limited=rate_limited)
    spec.tag({"name": "models", "description": "The models this service serves."})
    spec.tag({"name": "health", "description": "Liveness and readiness for orchestrators."})
    _get(
        spec,
        "/api/models",
        operation(
            "Every loaded model at its default version, with all versions loaded",
            "models",
            "list_models",
            responses={"200": json_response("The models.", ModelListSchema), **errors},
        ),
    )
    alive = {"type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"]}
    _get(
        spec,
        "/api/health/live",
        operation(
            "The process is up and answering",
            "health",
            "health_live",
            responses={"200": json_response("Alive.", alive), **errors},
        ),
    )
    _get(
        spec,
        "/api/health/ready",
        operation(
            "Ready when every required model is loaded",
            "health",
            "health_ready",
            responses={
                "200": json_response("Ready.", HealthSchema),
                "503": json_response("Not ready: `reasons` says why.", HealthSchema),
                **errors,
            },
        ),
    )
    if _serves(app, "/metrics", "GET"):
        spec.tag({"name": "metrics", "description": "Prometheus metrics."})
        metrics = {
            "description": "The metrics.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
        _get(
            spec,
            "/metrics",
            operation(
                "Prometheus metrics in the text exposition format",
                "metrics",
                "metrics",
                responses={"200": metrics},
            ),
        )


def _get(spec: APISpec, path: str, get: dict[str, Any]) -> None:
    spec.path(path=path, operations={"get": get})


def _add_v2_paths(spec: APISpec, served: list[ServedModel]) -> None:
    from model_service.v2.openapi import add_v2_paths

    add_v2_paths(spec, served)


def _serves(app: Flask, path: str, method: str) -> bool:
    """Whether ``app`` has a route for ``method path`` (so the document lists only real ones)."""
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path, method=method)
    except HTTPException:
        return False
    return True


def _service_version() -> str:
    try:
        return package_version("model-service")
    except PackageNotFoundError:
        return "0.0.0"
