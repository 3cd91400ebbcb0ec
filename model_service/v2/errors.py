"""Errors of the ``/v2`` blueprint in the protocol's shape: ``{"error": "..."}``.

The V2 protocol's error body is one string; clients such as ``tritonclient`` show exactly that
string. So the string says what went wrong *and* lists the first few problems, while the same
problems stay machine-readable in the extra ``details`` field (the ``/api`` detail shape), next to
``type`` and ``request_id``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from model_service.error_handlers import error_response
from model_service.errors import ErrorDetail, ServingError

logger = logging.getLogger(__name__)

SHOWN_IN_MESSAGE = 5
"""How many problems the ``error`` string itself lists; ``details`` has them all."""

_HTTP_ERROR_MESSAGES = {
    404: "No such V2 endpoint. GET /v2/models/<name> describes a model; POST "
    "/v2/models/<name>/infer predicts.",
    405: "This V2 endpoint does not accept that HTTP method.",
    413: "The request body is larger than this service accepts.",
}


def _readable_path(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path) or "(request)"


def v2_error_body(
    error_type: str, message: str, details: list[ErrorDetail] | None = None
) -> dict[str, Any]:
    """``{"error": message and first problems, "type", "details", "request_id"}``."""
    details = details or []
    text = message
    if details:
        listed = "; ".join(
            f"{_readable_path(detail.path)}: {detail.message}"
            for detail in details[:SHOWN_IN_MESSAGE]
        )
        more = len(details) - SHOWN_IN_MESSAGE
        text = f"{message} {listed}" + (f"; and {more} more" if more > 0 else "")
    return {
        "error": text,
        "type": error_type,
        "details": [detail.to_dict() for detail in details],
        "request_id": g.get("request_id", ""),
    }


def handle_serving_error(error: ServingError) -> Response:
    return error_response(
        int(error.status), v2_error_body(error.type, error.message, error.details)
    )


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    type_name = HTTPStatus(status).phrase.lower().replace(" ", "_")
    message = _HTTP_ERROR_MESSAGES.get(status) or error.description or HTTPStatus(status).phrase
    headers = None
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers = {"Allow": ", ".join(valid_methods)}
    return error_response(status, v2_error_body(type_name, message), headers)


def handle_unexpected_error(error: Exception) -> Response:
    logger.exception("Unhandled error in V2 request %s", g.get("request_id", "-"))
    body = v2_error_body(
        "internal_error",
        "The service failed to handle this request; the error is logged under its request id.",
    )
    return error_response(500, body)


def register_error_handlers(blueprint: Blueprint) -> None:
    """Answer every error of the blueprint's views, and unmatched ``/v2`` URLs, in V2 shape.

    Blueprint error handlers only see errors raised inside the blueprint's views; a URL under the
    prefix that matches no route (404, 405) fails before any view is chosen, so a
    ``before_app_request`` hook answers those.
    """
    blueprint.register_error_handler(ServingError, handle_serving_error)
    blueprint.register_error_handler(HTTPException, handle_http_exception)
    blueprint.register_error_handler(Exception, handle_unexpected_error)
    prefix = blueprint.url_prefix or ""

    @blueprint.before_app_request
    def _unmatched_v2_url() -> Response | None:
        failure = request.routing_exception
        if failure is None or isinstance(failure, RequestRedirect):
            return None
        if request.path != prefix and not request.path.startswith(prefix + "/"):
            return None
        if isinstance(failure, HTTPException):
            return handle_http_exception(failure)
        return None
