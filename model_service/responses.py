"""Response helpers every blueprint shares (``/api``, ``/v2``, monitoring, admin)."""

from __future__ import annotations

from flask import Response

from model_service.json_provider import dumps_bytes


def json_response(value: object, status: int = 200) -> Response:
    """``value`` as a JSON response, encoded with the service's fast codec."""
    return Response(dumps_bytes(value), status=status, mimetype="application/json")
