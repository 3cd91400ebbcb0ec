"""The ``/api`` blueprint: list models, describe them, predict."""

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api")

from model_service.api import health, routes  # noqa: E402,F401  (registers the views)
