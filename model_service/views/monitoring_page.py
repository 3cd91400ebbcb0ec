"""The monitoring page of a model: traffic, latency, errors, drift and live quality over a window,
and the model's versions compared when more than one has predictions in it.

A thin view over the monitor (:func:`model_service.monitoring_app.current_monitor`): it reads the
same summary the JSON API serves, plus the timeline and histograms, and renders them as
server-side SVG, so the page needs no script. The window is a query parameter (``?window=7d``),
chosen with plain links.
"""

from __future__ import annotations

from flask import render_template, request, url_for

from model_service.errors import InvalidInput
from model_service.monitoring_app import current_monitor, routing_primary
from model_service.views import views
from model_service.views.errors import error_page
from model_service.views.monitoring_view import (
    DEFAULT_WINDOW,
    FEW_PREDICTIONS,
    WINDOWS,
    monitoring_view,
)
from model_service.views.pages import model_context, served_model
from model_service.views.versions_view import versions_view


@views.get("/models/<name>/monitoring", defaults={"version": None})
@views.get("/models/<name>/versions/<version>/monitoring")
def monitoring_page(name: str, version: str | None) -> str | tuple[str, int]:
    """How the model is used and how it holds up, over ``?window=`` (default the last 24 h)."""
    served, versions = served_model(name, version)
    window = request.args.get("window", DEFAULT_WINDOW)
    monitor = current_monitor()
    try:
        summary = monitor.summary(
            served.qualified_name, served.version, window, routing_primary(served.qualified_name)
        )
    except InvalidInput as error:
        reasons = " ".join(detail.message for detail in error.details)
        return error_page(400, "Unknown time window", f"{error.message} {reasons}".strip())
    timeline = monitor.timeline(served.qualified_name, served.version, window)
    histograms = monitor.histograms(served.qualified_name, served.version, window)
    context = model_context(served, versions, version)
    return render_template(
        "views/monitoring.html",
        **context,
        view=monitoring_view(
            summary,
            timeline,
            histograms,
            list(served.input_schema.json_schema.get("properties", {})),
        ),
        comparison=versions_view(summary.get("versions")),
        capture_on=monitor.policy(served).enabled,
        target=getattr(served.model, "target_field", None),
        few_predictions=FEW_PREDICTIONS,
        feedback_url=f"{request.script_root}/api/models/{name}/feedback",
        windows=[
            (
                value,
                label,
                url_for("views.monitoring_page", name=name, version=version, window=value),
            )
            for value, label in WINDOWS
        ],
    )
