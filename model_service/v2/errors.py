"""Errors of the ``/v2`` blueprint in the protocol's shape: ``{"error": "..."}``.

The V2 protocol's error body is one string; clients such as ``tritonclient`` show exactly that
string. So the string says what went wrong *and* lists the first few problems, while the same
problems stay machine-readable in the extra ``details`` field (the ``/api`` detail shape), next to
``type`` and ``request_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from model_service.error_handlers import (
    HTTP_ERROR_MESSAGES,
    ErrorShape,
    bounded_details,
    cut,
)
from model_service.errors import ErrorDetail

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
    error_type: str, message: str, details: Sequence[ErrorDetail] | None = None
) -> dict[str, Any]:
    """``{"error": message and first problems, "type", "details", "request_id"}``."""
    details = details or []
    text = cut(message)
    if details:
        listed = "; ".join(
            f"{_readable_path(detail.path)}: {cut(detail.message)}"
            for detail in details[:SHOWN_IN_MESSAGE]
        )
        more = len(details) - SHOWN_IN_MESSAGE
        text = f"{message} {listed}" + (f"; and {more} more" if more > 0 else "")
    return {
        "error": text,
        "type": error_type,
        "details": bounded_details(details),
        "request_id": g.get("request_id", ""),
    }


V2_ERRORS = ErrorShape(v2_error_body, {**HTTP_ERROR_MESSAGES, **_HTTP_ERROR_MESSAGES})


def register_error_handlers(blueprint: Blueprint) -> None:
    """Answer every error of the blueprint's views, and unmatched ``/v2`` URLs, in V2 shape.

    Blueprint error handlers only see errors raised inside the blueprint's views; a URL under the
    prefix that matches no route (404, 405) fails before any view is chosen, so a
    ``before_app_request`` hook answers those.
    """
    V2_ERRORS.register(blueprint)
    prefix = blueprint.url_prefix or ""

    @blueprint.before_app_request
    def _unmatched_v2_url() -> Response | None:
        failure = request.routing_exception
        if failure is None or isinstance(failure, RequestRedirect):
            return None
        if request.path != prefix and not request.path.startswith(prefix + "/"):
            return None
        if isinstance(failure, HTTPException):
            return V2_ERRORS.http_exception(failure)
        return None
