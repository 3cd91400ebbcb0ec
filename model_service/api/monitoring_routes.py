"""Monitoring routes: feedback, the public monitoring summary, and raw captures (admin only).

* ``POST /api/models/<name>/feedback``: ``{"request_id", "index", "actual"}`` or a list of them;
* ``GET /api/models/<name>[/versions/<version>]/monitoring?window=24h`` (with the model's
  versions compared, see :mod:`model_service.monitoring.comparison`);
* ``GET /api/admin/models/<name>/captures?limit=&since=``: needs the admin token.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint, Flask, Response, request

from model_service.admin import require_admin_token
from model_service.api.monitoring_schemas import (
    captured_rows_schema,
    feedback_accepted_schema,
    monitoring_summary_schema,
)
from model_service.api.request_body import read_json_body
from model_service.errors import ErrorDetail, InvalidInput
from model_service.monitoring_app import current_monitor, routing_primary
from model_service.responses import json_response
from model_service.runtime import current_runtime

MAX_CAPTURE_ROWS = 10_000

monitoring_api = Blueprint("monitoring_api", __name__, url_prefix="/api")
captures_admin = Blueprint("captures_admin", __name__, url_prefix="/api/admin")
captures_admin.before_request(require_admin_token)


@monitoring_api.post("/models/<name>/feedback")
def feedback(name: str) -> Response:
    """Record the actual value of captured predictions; refused whole on any problem."""
    body = read_json_body(
        request, 'Send feedback as JSON: {"request_id", "index", "actual"} or a list.'
    )
    limit = current_runtime().settings["MAX_BATCH_ITEMS"]
    accepted = current_monitor().record_feedback(name, body, limit)
    return json_response(feedback_accepted_schema.dump({"accepted": accepted}))


@monitoring_api.get("/models/<name>/monitoring", defaults={"version": None})
@monitoring_api.get("/models/<name>/versions/<version>/monitoring")
def monitoring_summary(name: str, version: str | None) -> Response:
    """Traffic, errors, latency, drift and live quality of a model version over a window."""
    served = current_runtime().manager.get_model(name, version)
    window = request.args.get("window", "24h")
    summary = current_monitor().summary(
        served.qualified_name, served.version, window, routing_primary(served.qualified_name)
    )
    return json_response(monitoring_summary_schema.dump(summary))


@captures_admin.get("/models/<name>/captures")
def captured_rows(name: str) -> Response:
    """Raw captured rows (inputs, outputs, feedback), oldest first."""
    limit = _query_number("limit", 1000, integer=True)
    if not 1 <= limit <= MAX_CAPTURE_ROWS:
        raise _bad_query("limit", f"expected 1 to {MAX_CAPTURE_ROWS}")
    since = _since()
    rows = current_monitor().captured_rows(name, since, int(limit))
    for row in rows:
        row["created"] = iso_time(row["created"])
    return json_response(captured_rows_schema.dump({"captures": rows}))


def iso_time(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).isoformat()


def _bad_query(name: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"The query parameter '{name}' is not valid.", [ErrorDetail((name,), message)]
    )


def _query_number(name: str, default: float, integer: bool = False) -> Any:
    text = request.args.get(name)
    if text is None:
        return default
    try:
        return int(text) if integer else float(text)
    except ValueError:
        raise _bad_query(name, "expected a number") from None


def _since() -> float | None:
    text = request.args.get("since")
    if text is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise _bad_query(
            "since", "expected an ISO 8601 time such as 2026-12-01T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def register_routes(app: Flask) -> None:
    """Register the monitoring and raw-capture blueprints."""
    app.register_blueprint(monitoring_api)
    app.register_blueprint(captures_admin)
