"""The OpenAPI 3.1 document of the service, its Swagger UI, and the ``openapi`` command.

The document is generated, never written by hand: the static API from the marshmallow response
schemas, plus one set of paths per loaded model version from the model's own input and output
schemas (:mod:`model_service.openapi.model_paths`). The running service serves it for the models
it actually loaded::

    GET /api/openapi.json     the document
    GET /api/openapi.yaml     the same, as YAML
    GET /api/docs             Swagger UI (vendored swagger-ui-dist, no CDN)

and ``model-service openapi --output openapi.yaml`` (or ``scripts/generate_openapi.py``) writes it
for the configured models; the committed ``openapi.yaml`` is checked against it by the tests.
"""

from __future__ import annotations

from flask import Flask

from model_service.openapi.command import openapi_command, write_document
from model_service.openapi.document import build_document
from model_service.openapi.views import register

__all__ = ["build_document", "init_app", "openapi_command", "write_document"]


def init_app(app: Flask) -> None:
    """Serve ``/api/openapi.json``, ``/api/openapi.yaml`` and the Swagger UI at ``/api/docs``."""
    register(app)
