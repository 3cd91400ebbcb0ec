"""The one place the blueprints reach monitoring from: :func:`init_app` and
:func:`current_monitor`.

``init_app`` makes the process's :class:`~model_service.monitoring.Monitor`, migrates the store and
profiles the reference data (once, before gunicorn forks when preloading), and hooks capture
into :class:`~model_service.runtime.ServiceRuntime`: every successful prediction, whatever the
entry point, queues its items with the request's id and the entry point, and every failed
prediction request is recorded as an error of its model version.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, current_app, g, request

from model_service.flask_locals import current_request, environ_key
from model_service.model_manager import ServedModel
from model_service.monitoring import Monitor, MonitoringSettings
from model_service.observability import request_model
from model_service.runtime import EXTENSION_KEY, ServiceRuntime

logger = logging.getLogger(__name__)

MONITOR_KEY = "model_service.monitoring"
ENTRY_POINT_HEADER = "X-Entry-Point"
"""The web UI's scripts say which page called the API (``web_form``, ``web_csv``)."""
ENTRY_POINT_ENVIRON = environ_key(ENTRY_POINT_HEADER)
DECLARED_ENTRY_POINTS = {"web_form", "web_csv"}
DECISIONS = {"primary", "canary", "shadow", "direct"}
PREDICTION_ENDPOINTS = {"api.predict", "v2.infer", "views.predict_page"}
_REST_BY_MIMETYPE = {
    "application/json": "rest_json",
    "application/x-www-form-urlencoded": "rest_form",
    "multipart/form-data": "rest_form",
    "text/csv": "rest_csv",
}


def current_monitor() -> Monitor:
    """The monitor of the app handling the current request."""
    monitor: Monitor = current_app.extensions[MONITOR_KEY]
    return monitor


def current_entry_point() -> str:
    """Where the current request came in: ``rest_json``, ``rest_form``, ``rest_csv``, ``v2``,
    ``web_form`` or ``web_csv`` (the web pages' scripts declare theirs in a header)."""
    current = current_request()  # one look-up through the proxy, not three
    declared = current.environ.get(ENTRY_POINT_ENVIRON, "")
    if declared in DECLARED_ENTRY_POINTS:
        return declared
    endpoint = current.endpoint or ""
    if endpoint == "api.predict":
        return _REST_BY_MIMETYPE.get(current.mimetype, "rest_json")
    if endpoint == "v2.infer":
        return "v2"
    if endpoint == "views.predict_page":
        return "web_form"
    return endpoint[:32] or "unknown"


def current_decision() -> str:
    """How routing chose the version of the current request: the decision of the request's
    route (``g.route``, set by routing), else ``direct`` for a versioned URL, else ``primary``."""
    decision = getattr(g.get("route"), "decision", None)
    if decision in DECISIONS:
        return str(decision)
    return "direct" if (request.view_args or {}).get("version") else "primary"


def routing_primary(name: str) -> str | None:
    """The version the model's routing policy names primary (None without a policy, or when
    the policy leaves it to the default version)."""
    runtime: ServiceRuntime = current_app.extensions[EXTENSION_KEY]
    policy = runtime.routing.get(name)
    return policy.primary if policy is not None and policy.primary else None


def _capture_hook(monitor: Monitor) -> Any:
    def capture(
        served: ServedModel,
        items: Sequence[Any],
        results: list[Any],
        seconds: float,
        *,
        decision: str,
        request_id: str,
        entry_point: str,
    ) -> None:
        try:
            monitor.capture(
                served, items, results, seconds, request_id, entry_point, decision=decision
            )
        except Exception:  # capture must never fail a prediction
            logger.exception("Monitoring capture failed")

    return capture


def _error_hook(monitor: Monitor) -> Any:
    def record_failed_prediction(response: Response) -> Response:
        if response.status_code >= 400 and request.endpoint in PREDICTION_ENDPOINTS:
            model, version = request_model()
            if model:
                monitor.record_error(
                    model,
                    version,
                    g.get("request_id", ""),
                    response.status_code,
                    current_entry_point(),
                    current_decision(),
                )
        return response

    return record_failed_prediction


def init_app(app: Flask) -> None:
    """Create the monitor, prepare its store and references, hook capture, add the routes."""
    from model_service.api.monitoring_routes import register_routes

    runtime: ServiceRuntime = app.extensions[EXTENSION_KEY]
    settings = MonitoringSettings.from_settings(app.config)
    monitor = Monitor(runtime.manager, settings)
    app.extensions[MONITOR_KEY] = monitor
    try:
        monitor.prepare()
    except Exception as error:  # the service serves anyway; the writer migrates when it can
        logger.error("Monitoring store not ready at start (%s); capture will retry", error)
    runtime.entry_point_of = current_entry_point
    if settings.enabled:
        runtime.capture = _capture_hook(monitor)
        app.after_request(_error_hook(monitor))
    register_routes(app)


def flush_on_exit(app: Any) -> None:
    """Write the process's queued captures before it exits (see :func:`.server.flush_app`)."""
    monitor: Monitor | None = getattr(app, "extensions", {}).get(MONITOR_KEY)
    if monitor is None:
        return
    left = monitor.writer.close()
    if left:
        logger.warning("Monitoring capture lost %d queued item(s) at worker exit", left)
