"""Whether this worker should get traffic: what ``/api/health/ready`` and ``/v2/health/ready``
both answer from.

Ready means every required model is loaded and, under the launcher, the worker has finished
warming up (one prediction per model with its example input, see :mod:`model_service.server`).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from typing import Any

from flask import current_app

from model_service.runtime import ServiceRuntime, current_runtime

WARM_UP_KEY = "model_service.warm_up"
"""``app.extensions`` key of a :class:`threading.Event` the launcher sets once the worker has
warmed up. Absent outside the launcher (tests, ``flask run``), where nothing warms up."""


def readiness() -> dict[str, Any]:
    """``{"status", "models", "failed", "reasons"}`` of the current app, and ``grpc`` (its port,
    whether it accepts connections) with ``serve --grpc-port``; ready when ``reasons`` is
    empty."""
    runtime = current_runtime()
    served = runtime.manager.served_models()
    reasons = not_ready_reasons(runtime)
    warm_up: threading.Event | None = current_app.extensions.get(WARM_UP_KEY)
    if warm_up is not None and not warm_up.is_set():
        reasons.append(f"worker {os.getpid()} is warming up: one prediction per model")
    grpc_port = runtime.settings.get("GRPC_PORT")
    grpc_state = None
    if grpc_port is not None:
        accepting = grpc_accepting(runtime.settings.get("GRPC_HOST"), grpc_port)
        grpc_state = {"port": grpc_port, "accepting": accepting}
        if not accepting:
            reasons.append(f"the gRPC server on port {grpc_port} does not accept connections")
    state: dict[str, Any] = {
        "status": "unavailable" if reasons else "ok",
        "models": sorted(f"{model.qualified_name}:{model.version}" for model in served),
        "failed": [failure.to_dict() for failure in runtime.manager.failures],
        "reasons": reasons,
    }
    if grpc_state is not None:
        state["grpc"] = grpc_state
    return state


def not_ready_reasons(runtime: ServiceRuntime) -> list[str]:
    """Why the models are not ready to serve: required ones missing, failed loads, none at all.

    With ``REQUIRED_MODELS`` set only those count; otherwise every model that configuration or
    entry points name must have loaded.
    """
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
    return reasons


GRPC_PROBE_SECONDS = 0.5


def _unspecified(host: str) -> bool:
    """Whether ``host`` is the any-address (the server listens everywhere: ask the loopback)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        return False


def grpc_accepting(host: str | None, port: int) -> bool:
    """Whether a gRPC server process (see :mod:`model_service.grpc_v2.processes`) accepts TCP
    connections on ``port``: they are separate processes, so a worker asks the port itself."""
    target = "127.0.0.1" if not host or _unspecified(host) else host
    try:
        with socket.create_connection((target, port), timeout=GRPC_PROBE_SECONDS):
            return True
    except OSError:
        return False
