"""Reusable parts of the document: the error responses, the request id header and parameter.

Every operation references these instead of repeating them, so the one error shape and the
``X-Request-ID`` header are declared once.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from model_service.api.monitoring_schemas import FeedbackAcceptedSchema, MonitoringSummarySchema
from model_service.api.schemas import (
    ErrorSchema,
    ExplanationSchema,
    HealthSchema,
    ModelListSchema,
    ModelMetadataSchema,
)

REQUEST_ID = "X-Request-ID"
REQUEST_ID_PARAMETER = "RequestId"

API_SCHEMAS = {
    "Error": ErrorSchema,
    "ModelList": ModelListSchema,
    "ModelMetadata": ModelMetadataSchema,
    "Health": HealthSchema,
    "Explanation": ExplanationSchema,
    "Monitoring": MonitoringSummarySchema,
    "FeedbackAccepted": FeedbackAcceptedSchema,
}
"""The REST API's marshmallow shapes, each registered once under this component name."""

ERROR_RESPONSES = {
    400: ("InvalidInput", "The body is malformed or does not match the input schema."),
    404: ("NotFound", "No such model, version or endpoint."),
    413: ("PayloadTooLarge", "The body or the batch is larger than this service accepts."),
    415: ("UnsupportedMediaType", "The content type is not JSON, form fields or CSV."),
    429: ("TooManyRequests", "The client sent more requests than the rate limit allows."),
    500: ("InternalError", "The service or the model failed; the request id is in the log."),
    503: ("NotReady", "The model or the service is not ready."),
    504: ("PredictionTimeout", "The prediction took longer than the configured timeout."),
}
"""Reusable error responses: status -> (component name, description); all share ``Error``."""


def register_components(spec: APISpec) -> None:
    """Register the API schemas, the request id header and parameter, and the error responses."""
    for name, schema in API_SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    spec.components.header(
        REQUEST_ID,
        {
            "description": "The request's id: the client's own when acceptable, else a new one.",
            "schema": {"type": "string"},
        },
    )
    spec.components.parameter(
        REQUEST_ID_PARAMETER,
        "header",
        {
            "name": REQUEST_ID,
            "required": False,
            "description": "Your id for this request (1-128 of A-Z a-z 0-9 . _ : -), echoed back.",
            "schema": {"type": "string"},
        },
    )
    for name, description in ERROR_RESPONSES.values():
        spec.components.response(name, json_response(description, ErrorSchema))


def json_response(description: str, schema: Any) -> dict[str, Any]:
    """A response object with a JSON body of ``schema`` and the request id header."""
    return {
        "description": description,
        "headers": {REQUEST_ID: {"$ref": f"#/components/headers/{REQUEST_ID}"}},
        "content": {"application/json": {"schema": schema}},
    }


def error_refs(*statuses: int, rate_limited: bool = False) -> dict[str, str]:
    """``{status: response component}`` for ``statuses``, plus 500 always and 429 when limited."""
    wanted = {*statuses, 500}
    if rate_limited:
        wanted.add(429)
    return {str(status): ERROR_RESPONSES[status][0] for status in sorted(wanted)}


def operation(summary: str, tag: str, operation_id: str, **fields: Any) -> dict[str, Any]:
    """One operation object (``responses``, ``requestBody``... in ``fields``) under ``tag`` that
    accepts the client's request id header."""
    return {
        "summary": summary,
        "tags": [tag],
        "operationId": operation_id,
        "parameters": [REQUEST_ID_PARAMETER],
        **fields,
    }
