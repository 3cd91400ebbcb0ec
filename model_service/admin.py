"""Model lifecycle API under ``/api/admin`` (issue 8 fills this in)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the admin endpoints when an admin token is configured."""
