"""The current request and its ``g`` as plain objects, for code that reads them many times.

Every attribute read through Flask's ``request`` and ``g`` proxies looks the object up in its
context variable first: about 1 us each on the benchmark machine, and a prediction request read
through them 37 times (counted by wrapping werkzeug's proxy lookup). A hook or view that reads
several attributes takes the object once here and reads it directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import Request, g, request

if TYPE_CHECKING:
    from flask.ctx import _AppCtxGlobals


def environ_key(header: str) -> str:
    """Where the WSGI environ holds ``header`` (``X-Request-ID``: ``HTTP_X_REQUEST_ID``), for a
    header read on every request: ``request.headers`` translates the name on each look-up."""
    return "HTTP_" + header.upper().replace("-", "_")


def current_request() -> Request:
    """The request being handled (outside a request: :class:`RuntimeError`, as the proxy)."""
    return cast(Request, request._get_current_object())  # type: ignore[attr-defined]


def current_globals() -> _AppCtxGlobals:
    """The ``g`` of the current app context (outside one: :class:`RuntimeError`)."""
    return cast("_AppCtxGlobals", g._get_current_object())
