"""HTML error pages for the web UI; the API keeps its JSON errors (``error_handlers.py``).

Handlers registered on the blueprint only see errors raised by its own views, so a browser asking
for an unknown model gets a page with a way back, while ``/api`` clients still get JSON.
"""

from __future__ import annotations

import logging

from flask import g, render_template, request
from werkzeug.exceptions import HTTPException

from model_service.errors import ModelNotFound, ServingError
from model_service.views import views

logger = logging.getLogger(__name__)


def error_page(status: int, title: str, message: str) -> tuple[str, int]:
    """Render the friendly error page with ``status``."""
    return render_template("views/error.html", status=status, title=title, message=message), status


@views.errorhandler(ModelNotFound)
def model_not_found(error: ModelNotFound) -> tuple[str, int]:
    name = (request.view_args or {}).get("name", "")
    version = (request.view_args or {}).get("version")
    what = f"“{name}” version {version}" if version else f"“{name}”"
    return error_page(
        404,
        "Model not found",
        f"This service has no model {what}. It may have been renamed or not be installed here; "
        "the list of models shows every one it serves.",
    )


@views.errorhandler(ServingError)
def serving_error(error: ServingError) -> tuple[str, int]:
    return error_page(int(error.status), "Something went wrong", error.message)


@views.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int]:
    return error_page(error.code or 500, error.name, error.description or "")


@views.errorhandler(Exception)
def unexpected_error(error: Exception) -> tuple[str, int]:
    logger.exception("Unhandled error in web UI request %s", g.get("request_id", "-"))
    return error_page(
        500,
        "Something went wrong",
        "The page failed to load. The error is logged under the request id below; try again in "
        "a moment.",
    )
