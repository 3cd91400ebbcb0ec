"""Turn every error into the one JSON error shape, in one place.

Domain errors carry their status; werkzeug's HTTP errors (404 route, 405, 413) keep theirs; anything
else is a 500 whose trace goes to the log under the request id and never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Flask, Response, g
from werkzeug.exceptions import HTTPException

from model_service.api.schemas import error_schema
from model_service.errors import ErrorDetail, ServingError
from model_service.json_provider import dumps_bytes

logger = logging.getLogger(__name__)

MAX_DETAILS = 100
"""Most problems listed in one error body; the rest are counted, so a hostile body stays cheap."""

MAX_QUOTED = 200
"""Longest text quoted back in an error (messages may quote what the client sent)."""

HTTP_ERROR_MESSAGES = {
    429: "Too many requests from this client; retry after the seconds in the Retry-After header.",
    404: "No such endpoint. GET /api/models lists the models; /api/docs documents the API.",
    405: "This endpoint does not accept that HTTP method.",
    413: "The request body is larger than this service accepts.",
}


def cut(value: Any) -> Any:
    """``value`` itself, or a string shortened to :data:`MAX_QUOTED` characters."""
    if isinstance(value, str) and len(value) > MAX_QUOTED:
        return value[: MAX_QUOTED - 1] + "…"
    return value


def bounded_details(details: Sequence[ErrorDetail]) -> list[dict[str, Any]]:
    """At most :data:`MAX_DETAILS` details, quotes cut, and a count of the rest."""
    shown = [
        {"path": [cut(part) for part in detail.path], "message": cut(detail.message)}
        for detail in details[:MAX_DETAILS]
    ]
    if len(details) > MAX_DETAILS:
        hidden = len(details) - MAX_DETAILS
        shown.append({"path": [], "message": f"... and {hidden} more problem(s)"})
    return shown


def error_body(
    error_type: str, message: str, details: Sequence[ErrorDetail] | None = None
) -> dict[str, Any]:
    """The one error shape: ``{"error": {type, message, details, request_id}}``."""
    return error_schema.dump(
        {
            "error": {
                "type": error_type,
                "message": cut(message),
                "details": bounded_details(details or []),
                "request_id": g.get("request_id", ""),
            }
        }
    )


def error_response(status: int, body: dict[str, Any], headers: Any = None) -> Response:
    return Response(dumps_bytes(body), status=status, mimetype="application/json", headers=headers)


BuildBody = Callable[[str, str, Sequence[ErrorDetail] | None], dict[str, Any]]


@dataclass(frozen=True)
class ErrorShape:
    """How one protocol answers errors: its body builder and its texts for HTTP errors.

    Domain errors keep their status; werkzeug's HTTP errors keep theirs (405 with ``Allow``);
    anything else is a 500 whose trace goes to the log under the request id, never to the client.
    """

    build_body: BuildBody
    http_messages: Mapping[int, str]

    def serving_error(self, error: ServingError) -> Response:
        body = self.build_body(error.type, error.message, error.details)
        return error_response(int(error.status), body)

    def http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        type_name = HTTPStatus(status).phrase.lower().replace(" ", "_")
        message = self.http_messages.get(status) or error.description or HTTPStatus(status).phrase
        headers = None
        valid_methods = getattr(error, "valid_methods", None)
        if status == 405 and valid_methods:
            headers = {"Allow": ", ".join(valid_methods)}
        return error_response(status, self.build_body(type_name, message, None), headers)

    def unexpected_error(self, error: Exception) -> Response:
        logger.exception("Unhandled error in request %s", g.get("request_id", "-"))
        body = self.build_body(
            "internal_error",
            "The service failed to handle this request; the error is logged under its request id.",
            None,
        )
        return error_response(500, body)

    def register(self, target: Flask | Blueprint) -> None:
        """Answer every error of ``target`` (an app, or a blueprint's views) in this shape."""
        target.register_error_handler(ServingError, self.serving_error)
        target.register_error_handler(HTTPException, self.http_exception)
        target.register_error_handler(Exception, self.unexpected_error)


API_ERRORS = ErrorShape(error_body, HTTP_ERROR_MESSAGES)


def register_error_handlers(app: Flask) -> None:
    API_ERRORS.register(app)
