"""Request ids and request logging: one line per request, never the body."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

logger = logging.getLogger("model_service.requests")


def _start_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    if logger.isEnabledFor(logging.INFO):
        view_args = request.view_args or {}
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            (time.perf_counter() - g.get("started", time.perf_counter())) * 1000,
            extra={
                "request_id": g.get("request_id"),
                "model": view_args.get("name"),
                "version": view_args.get("version"),
            },
        )
    return response


def init_app(app: Flask) -> None:
    """Give every request an id (the client's ``X-Request-ID`` when acceptable) and log it."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
