"""Health endpoints for load balancers and orchestrators."""

from __future__ import annotations

from flask import Response

from model_service.api import api
from model_service.api.routes import json_response
from model_service.api.schemas import health_schema
from model_service.runtime import current_runtime


@api.get("/health/live")
def live() -> Response:
    """The process is up and answering."""
    return json_response({"status": "ok"})


@api.get("/health/ready")
def ready() -> Response:
    """200 when every required model is loaded; 503 with the reasons otherwise."""
    runtime = current_runtime()
    manager = runtime.manager
    served = manager.served_models()
    names = {model.qualified_name for model in served}
    required = runtime.settings.get("REQUIRED_MODELS") or []
    reasons = [f"required model '{name}' is not loaded" for name in required if name not in names]
    if not required:
        reasons += [
            f"{failure.source} failed to load: {failure.error}" for failure in manager.failures
        ]
    if not served:
        reasons.append("no model is loaded")
    body = {
        "status": "unavailable" if reasons else "ok",
        "models": sorted(f"{model.qualified_name}:{model.version}" for model in served),
        "failed": [failure.to_dict() for failure in manager.failures],
        "reasons": reasons,
    }
    return json_response(health_schema.dump(body), status=503 if reasons else 200)
