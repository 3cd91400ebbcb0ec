"""Turn every error into the one JSON error shape, in one place.

Domain errors carry their status; werkzeug's HTTP errors (404 route, 405, 413) keep theirs; anything
else is a 500 whose trace goes to the log under the request id and never to the client.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g
from werkzeug.exceptions import HTTPException

from model_service.api.schemas import error_schema
from model_service.errors import ErrorDetail, ServingError
from model_service.json_provider import dumps_bytes

logger = logging.getLogger(__name__)

MAX_DETAILS = 100
"""Most problems listed in one error body; the rest are counted, so a hostile body stays cheap."""

MAX_QUOTED = 200
"""Longest text quoted back in an error (messages may quote what the client sent)."""

_HTTP_ERROR_MESSAGES = {
    429: "Too many requests from this client; retry after the seconds in the Retry-After header.",
    404: "No such endpoint. GET /api/models lists the models; /api/docs documents the API.",
    405: "This endpoint does not accept that HTTP method.",
    413: "The request body is larger than this service accepts.",
}


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_QUOTED:
        return value[: MAX_QUOTED - 1] + "…"
    return value


def _bounded(details: list[ErrorDetail]) -> list[dict[str, Any]]:
    shown = [
        {"path": [_cut(part) for part in detail.path], "message": _cut(detail.message)}
        for detail in details[:MAX_DETAILS]
    ]
    if len(details) > MAX_DETAILS:
        hidden = len(details) - MAX_DETAILS
        shown.append({"path": [], "message": f"... and {hidden} more problem(s)"})
    return shown


def error_body(
    error_type: str, message: str, details: list[ErrorDetail] | None = None
) -> dict[str, Any]:
    """The one error shape: ``{"error": {type, message, details, request_id}}``."""
    return error_schema.dump(
        {
            "error": {
                "type": error_type,
                "message": _cut(message),
                "details": _bounded(list(details or [])),
                "request_id": g.get("request_id", ""),
            }
        }
    )


def error_response(status: int, body: dict[str, Any], headers: Any = None) -> Response:
    return Response(dumps_bytes(body), status=status, mimetype="application/json", headers=headers)


def handle_serving_error(error: ServingError) -> Response:
    body = error_body(error.type, error.message, error.details)
    return error_response(int(error.status), body)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    type_name = HTTPStatus(status).phrase.lower().replace(" ", "_")
    message = _HTTP_ERROR_MESSAGES.get(status) or error.description or HTTPStatus(status).phrase
    headers = None
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers = {"Allow": ", ".join(error.valid_methods)}  # type: ignore[attr-defined]
    return error_response(status, error_body(type_name, message), headers)


def handle_unexpected_error(error: Exception) -> Response:
    logger.exception("Unhandled error in request %s", g.get("request_id", "-"))
    body = error_body(
        "internal_error",
        "The service failed to handle this request; the error is logged under its request id.",
    )
    return error_response(500, body)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ServingError, handle_serving_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected_error)
