"""Security headers, request-size limits handed to werkzeug, and the optional rate limit.

* Every response carries ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``
  and ``X-Frame-Options: DENY``; HTML pages also get a Content-Security-Policy that allows no
  inline script and no framing (``CSP_OVERRIDES`` may relax it for one path prefix, e.g. a
  documentation page whose vendored library needs it).
* werkzeug is told the form limits (``MAX_FORM_FIELDS`` -> ``MAX_FORM_PARTS``), so a hostile form
  is refused while it is parsed, not after.
* ``RATE_LIMIT`` (Flask-Limiter notation, e.g. ``"100/second"``) limits each client address, in
  this worker's memory; unset, nothing is imported or counted. See ``docs/security.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)
"""What an HTML page may load: only this service's own files; no inline script, no framing."""

EVERY_RESPONSE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

_EVERY_RESPONSE_LOWERED = tuple(
    (name.lower(), name, value) for name, value in EVERY_RESPONSE_HEADERS.items()
)

RATE_LIMIT_EXEMPT_PREFIXES = ("/api/health/", "/metrics")
"""Probes and scrapes come from one address, often and by design: never rate limited."""


def content_security_policy(path: str, overrides: Mapping[str, str]) -> str:
    """The policy for ``path``: the override of the longest matching prefix, else the default."""
    matches = [prefix for prefix in overrides if path.startswith(prefix)]
    if not matches:
        return CONTENT_SECURITY_POLICY
    return overrides[max(matches, key=len)]


def _secure_headers(app: Flask) -> None:
    overrides: Mapping[str, str] = app.config.get("CSP_OVERRIDES") or {}

    def add_headers(response: Response) -> Response:
        # one pass over the headers, then appends: Headers.setdefault scans the list three times
        # per call, and this hook ran on every response (measured 25-35 us of a 650 us
        # prediction inside a request, against about 5 now)
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        for lowered, name, value in _EVERY_RESPONSE_LOWERED:
            if lowered not in present:
                headers.add(name, value)
        if "content-security-policy" not in present and response.mimetype == "text/html":
            headers.add("Content-Security-Policy", content_security_policy(request.path, overrides))
        return response

    app.after_request(add_headers)


def _form_limits(app: Flask) -> None:
    """Pass our settings to werkzeug's form parser, which enforces them while it parses."""
    app.config["MAX_FORM_PARTS"] = int(app.config.get("MAX_FORM_FIELDS", 1000))
    # A form field may hold one string of MAX_STRING_LENGTH characters, 4 UTF-8 bytes each.
    app.config["MAX_FORM_MEMORY_SIZE"] = 4 * int(app.config.get("MAX_STRING_LENGTH", 10_000))


def _rate_limit(app: Flask, limit: str) -> None:
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    Limiter(
        get_remote_address,
        app=app,
        default_limits=[limit],
        default_limits_exempt_when=lambda: request.path.startswith(RATE_LIMIT_EXEMPT_PREFIXES),
        storage_uri="memory://",
        headers_enabled=True,
    )


def init_app(app: Flask) -> None:
    """Add security headers to every response, werkzeug's form limits and the optional rate
    limit (``RATE_LIMIT``)."""
    _secure_headers(app)
    _form_limits(app)
    limit = app.config.get("RATE_LIMIT")
    if limit:
        _rate_limit(app, str(limit))
