"""The paths of one loaded model version: predict, metadata and explain.

Every version gets ``/api/models/<name>/versions/<version>/...``; the default version also gets
``/api/models/<name>/...``. Request bodies and answers reference the version's own components
(:mod:`model_service.openapi.model_schemas`); every error the route can return references the one
error shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apispec import APISpec

from model_service.api.schemas import ModelMetadataSchema
from model_service.model_manager import ServedModel
from model_service.openapi.components import error_refs, json_response, operation
from model_service.openapi.model_schemas import (
    component_prefix,
    register_model_components,
    schema_ref,
    takes_instances,
)

REQUEST_ERRORS = (400, 404, 413, 415, 503, 504)
"""What predict and explain can answer besides 200 (500, and 429 when rate limited, are added)."""

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

BODY_FORMS = (
    "Send one item as a JSON object (answered with one result), or a batch as a JSON list, "
    '`{"instances": [...]}` or CSV with a header row (answered with a list in the same order). '
    "Form fields send one item."
)


@dataclass(frozen=True)
class PathOptions:
    """How one model version is documented.

    :param is_default: also document the unversioned paths (``/api/models/<name>/...``).
    :param max_items: the largest batch the service accepts (``MAX_BATCH_ITEMS``).
    :param explain: the app serves the explain endpoint.
    :param rate_limited: requests may be refused with 429.
    """

    is_default: bool
    max_items: int
    explain: bool
    rate_limited: bool = False


def add_model_paths(spec: APISpec, served: ServedModel, options: PathOptions) -> None:
    """Register the version's components, then its predict, metadata and explain paths."""
    prefix = component_prefix(served)
    register_model_components(spec, served, prefix, options.max_items)
    name, version = served.qualified_name, served.version
    model = served.model
    spec.tag({"name": name, "description": f"{model.display_name}: {model.description}"})
    explainable = options.explain and bool(getattr(model, "explainable", True))
    bases = {f"/api/models/{name}/versions/{version}": (f"{name} {version}", prefix)}
    if options.is_default:
        bases[f"/api/models/{name}"] = (f"{name} (default version, now {version})", name)
    for base, (which, id_suffix) in bases.items():
        operations = _operations(served, prefix, which, options)
        for action, (method, fields) in operations.items():
            if action == "explain" and not explainable:
                continue
            spec.path(
                path=f"{base}/{action}",
                operations={
                    method: operation(tag=name, operation_id=f"{action}_{id_suffix}", **fields)
                },
            )


def _operations(
    served: ServedModel, prefix: str, which: str, options: PathOptions
) -> dict[str, tuple[str, dict[str, Any]]]:
    errors = error_refs(*REQUEST_ERRORS, rate_limited=options.rate_limited)
    body = _request_body(served, prefix)
    return {
        "predict": (
            "post",
            {
                "summary": f"Predict with {which}",
                "description": f"{served.model.description}\n\n{BODY_FORMS}",
                "requestBody": body,
                "responses": {
                    "200": json_response(
                        "One result for one item; a list in the same order for a batch.",
                        schema_ref(f"{prefix}_Prediction"),
                    ),
                    **errors,
                },
            },
        ),
        "metadata": (
            "get",
            {
                "summary": f"Describe {which}: schemas, model card, example input",
                "responses": {
                    "200": json_response("The model's metadata.", ModelMetadataSchema),
                    **error_refs(404, rate_limited=options.rate_limited),
                },
            },
        ),
        "explain": (
            "post",
            {
                "summary": f"Explain the predictions of {which}",
                "description": "Takes the same bodies as predict and answers, for each item, "
                "the contribution of every input field to the prediction.",
                "requestBody": body,
                "responses": {
                    "200": json_response(
                        "One explanation for one item; a list in the same order for a batch.",
                        schema_ref(f"{prefix}_Explanations"),
                    ),
                    **errors,
                },
            },
        ),
    }


def _request_body(served: ServedModel, prefix: str) -> dict[str, Any]:
    """JSON (one item, a list, instances), CSV text and form fields, each with its examples."""
    has_example = served.example_input is not None

    def examples(*names: str) -> dict[str, Any]:
        if not has_example:
            return {}
        return {"examples": {name: f"{prefix}_{name}" for name in names}}

    json_examples = ["item", "items_as_list"]
    if not takes_instances(served.input_schema.json_schema):
        json_examples.append("items_as_instances")
    content: dict[str, Any] = {
        "application/json": {
            "schema": schema_ref(f"{prefix}_Request"),
            **examples(*json_examples),
        },
        "text/csv": {
            "schema": {
                "type": "string",
                "description": "A header row naming input fields, then one row per item.",
            },
            **examples("items_as_csv"),
        },
    }
    for media_type in FORM_TYPES:
        content[media_type] = {"schema": schema_ref(f"{prefix}_Input"), **examples("item")}
    return {"required": True, "content": content}
