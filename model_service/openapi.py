"""OpenAPI document and Swagger UI (issue 5 fills this in)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Serve ``/api/openapi.json``, ``/api/openapi.yaml`` and the Swagger UI at ``/api/docs``."""
