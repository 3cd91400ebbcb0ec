"""Health endpoints for load balancers and orchestrators.

``/api/health/live`` answers 200 while the process can answer at all (a liveness probe restarts
the container when it cannot). ``/api/health/ready`` answers 200 only when this worker should get
traffic (see :mod:`model_service.readiness`); otherwise 503 with the reasons, so a readiness probe
keeps the instance out of the load balancer meanwhile.
"""

from __future__ import annotations

from flask import Response

from model_service.api import api
from model_service.api.schemas import health_schema
from model_service.readiness import WARM_UP_KEY, not_ready_reasons, readiness
from model_service.responses import json_response

__all__ = ["WARM_UP_KEY", "live", "not_ready_reasons", "ready"]


@api.get("/health/live")
def live() -> Response:
    """The process is up and answering."""
    return json_response({"status": "ok"})


@api.get("/health/ready")
def ready() -> Response:
    """200 when every required model is loaded and warmed up; 503 with the reasons otherwise."""
    body = readiness()
    return json_response(health_schema.dump(body), status=503 if body["reasons"] else 200)
