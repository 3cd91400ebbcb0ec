"""The monitoring paths of one loaded model version: its summary and, per model, feedback.

``GET /api/models/<name>/versions/<version>/monitoring`` for every version (and the unversioned
path for the default one); ``POST /api/models/<name>/feedback`` once per model, with ``actual``
typed by the model's target field. Raw captures (admin only) are not documented here, like the
rest of the admin API.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from model_service.model_manager import ServedModel
from model_service.openapi.components import error_refs, json_response, operation
from model_service.openapi.model_schemas import openapi_json_schema

WINDOW_PARAMETER = {
    "name": "window",
    "in": "query",
    "required": False,
    "description": "How far back to look: `<n>m`, `<n>h`, `<n>d` (e.g. `1h`, `24h`, `7d`) or "
    "`all`. Default `24h`.",
    "schema": {"type": "string", "pattern": "^(all|[1-9][0-9]{0,5}[mhd])$", "default": "24h"},
}


def add_monitoring_paths(
    spec: APISpec, served: ServedModel, is_default: bool, rate_limited: bool
) -> None:
    """Document the version's monitoring summary and, for the default version, its feedback."""
    name, version = served.qualified_name, served.version
    bases = {f"/api/models/{name}/versions/{version}": (f"{name} {version}", f"{name}_{version}")}
    if is_default:
        bases[f"/api/models/{name}"] = (f"{name} (default version)", name)
    for base, (which, suffix) in bases.items():
        get = operation(
            f"Traffic, latency, drift and live quality of {which}",
            name,
            f"monitoring_{suffix}".replace(".", "_"),
            responses={
                "200": json_response(
                    "The figures over the window.", {"$ref": "#/components/schemas/Monitoring"}
                ),
                **error_refs(400, 404, rate_limited=rate_limited),
            },
        )
        get["parameters"] = [*get["parameters"], WINDOW_PARAMETER]
        spec.path(path=f"{base}/monitoring", operations={"get": get})
    target = getattr(served.model, "target_field", None)
    properties = served.output_schema.json_schema.get("properties", {})
    if is_default and target in properties:
        spec.path(
            path=f"/api/models/{name}/feedback",
            operations={"post": _feedback(name, properties[target], rate_limited)},
        )


def _feedback(name: str, actual: dict[str, Any], rate_limited: bool) -> dict[str, Any]:
    label = {
        "type": "object",
        "properties": {
            "request_id": {
                "type": "string",
                "pattern": "^[A-Za-z0-9._:-]{1,128}$",
                "description": "The X-Request-ID of the prediction.",
            },
            "index": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "The item's position in the predicted batch (0 for one item).",
            },
            "actual": openapi_json_schema(actual),
        },
        "required": ["request_id", "actual"],
        "additionalProperties": False,
    }
    body = {"oneOf": [label, {"type": "array", "items": label, "minItems": 1}]}
    return operation(
        f"Give the true value of predictions of {name}",
        name,
        f"feedback_{name}",
        description="Accepted whole or refused whole: a 400 lists every unknown prediction and "
        "invalid value (path: the item's position). A later label of the same prediction "
        "replaces the earlier one.",
        requestBody={"required": True, "content": {"application/json": {"schema": body}}},
        responses={
            "200": json_response(
                "How many labels were stored.", {"$ref": "#/components/schemas/FeedbackAccepted"}
            ),
            **error_refs(400, 404, 413, 415, rate_limited=rate_limited),
        },
    )
