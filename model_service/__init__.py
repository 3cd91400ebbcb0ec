"""model-service: serve many machine-learning models over REST, the V2 protocol and a web UI."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from model_service.ml_model import MLModel
from model_service.model_manager import ModelManager

if TYPE_CHECKING:  # Flask is imported by create_app only: model packages need not load it
    from flask import Flask

__all__ = ["MLModel", "ModelManager", "create_app"]


def create_app(
    settings: str | type | Mapping[str, Any] | None = None,
    manager: ModelManager | None = None,
) -> Flask:
    """Build the Flask app.

    :param settings: a settings class, its import path, or overrides on top of ``APP_SETTINGS``
        (see ``config.py``); ``MODEL_SERVICE_*`` environment variables apply either way.
    :param manager: an already loaded :class:`ModelManager` (tests, the preloading launcher);
        by default one is built and loads the configured models.
    """
    from model_service import (
        admin,
        batching,
        error_handlers,
        metrics,
        monitoring_app,
        observability,
        openapi,
        prediction,
        routing_api,
        security,
        shadow,
        v2,
        views,
    )
    from model_service.api import api
    from model_service.json_provider import OrjsonProvider
    from model_service.runtime import EXTENSION_KEY, ServiceRuntime
    from model_service.settings import load_settings
    from model_service.url_matching import ServiceFlask

    resolved = load_settings(settings)
    app = ServiceFlask(__name__)
    app.config.update(resolved)
    app.json = OrjsonProvider(app)
    if manager is None:
        manager = build_manager(resolved)
    app.extensions[EXTENSION_KEY] = ServiceRuntime(
        settings=resolved,
        manager=manager,
        run_prediction=batching.prediction_runner(prediction.call_model, resolved),
    )
    observability.init_app(app)
    security.init_app(app)
    shadow_counters = metrics.init_app(app)
    error_handlers.register_error_handlers(app)
    app.register_blueprint(api)
    admin.init_app(app)
    monitoring_app.init_app(app)
    shadow.init_app(app, shadow_counters)
    routing_api.init_app(app)
    openapi.init_app(app)
    v2.init_app(app)
    views.init_app(app)
    return app


def build_manager(settings: Mapping[str, Any]) -> ModelManager:
    """A :class:`ModelManager` with every model the settings name loaded."""
    from model_service.settings import model_entries

    manager = ModelManager(
        strict=settings["STRICT_MODEL_LOADING"], default_versions=settings["DEFAULT_VERSIONS"]
    )
    manager.load(model_entries(settings), discover_entry_points=settings["LOAD_ENTRY_POINTS"])
    if not manager.served_models():
        logging.getLogger(__name__).warning("No model is loaded: check MODELS in the settings.")
    return manager
