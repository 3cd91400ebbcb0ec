"""Web UI blueprint (issue 6 fills this in)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the web UI on ``app``."""
