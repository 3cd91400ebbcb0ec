"""The web UI for people: model cards, forms generated from input schemas, batch CSV predictions.

Server-rendered Jinja pages styled with Bootstrap 5 through Bootstrap-Flask, whose files are served
by this service (``BOOTSTRAP_SERVE_LOCAL``): no page loads anything from another host, and every
script is a static file, so the pages run under a strict Content-Security-Policy.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_bootstrap import Bootstrap5

views = Blueprint("views", __name__)

from model_service.views import errors, monitoring_page, pages  # noqa: E402,F401  (registers the views)


def init_app(app: Flask) -> None:
    """Register the web UI and Bootstrap (served locally) on ``app``."""
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    Bootstrap5(app)
    app.register_blueprint(views)
