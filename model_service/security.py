"""Security headers and optional rate limits (issue 8 fills this in)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Add security headers to every response and the optional rate limit."""
