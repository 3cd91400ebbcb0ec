"""The web UI's pages: thin views that read the model layer and render templates.

Every page works without JavaScript: the predict form is a plain POST that re-renders the page
with the result (or inline errors) and the typed values kept. ``static/js/predict.js`` upgrades it
to fetch calls against the JSON API when scripts run.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from typing import Any

from flask import Response, render_template, request, url_for

from model_service.coercion import coerce_fields
from model_service.errors import ErrorDetail, InvalidInput, ServingError
from model_service.model_manager import ServedModel
from model_service.routing import ROUTING_KEY_HEADER
from model_service.runtime import ServiceRuntime, current_runtime
from model_service.views import views
from model_service.views.form_fields import FormField, describe_fields, display_values
from model_service.views.presentation import (
    EXPLANATION_SENTENCE,
    card_view,
    explanation_view,
    output_layout,
    result_view,
    schema_rows,
)

logger = logging.getLogger(__name__)


@views.get("/")
def index() -> str:
    """Every loaded model as a card, and every model that failed to load with its error."""
    manager = current_runtime().manager
    return render_template(
        "views/index.html", models=manager.get_models(), failures=manager.failures
    )


@views.get("/models/<name>", defaults={"version": None})
@views.get("/models/<name>/versions/<version>")
def model_page(name: str, version: str | None) -> str:
    """The model card: description, input and output fields, training data, metrics."""
    served, versions = served_model(name, version)
    return render_template(
        "views/model.html",
        **model_context(served, versions, version),
        card=card_view(served.model_card),
        input_rows=schema_rows(served.input_schema.json_schema),
        output_rows=schema_rows(served.output_schema.json_schema),
    )


@views.route("/models/<name>/predict", defaults={"version": None}, methods=["GET", "POST"])
@views.route("/models/<name>/versions/<version>/predict", methods=["GET", "POST"])
def predict_page(name: str, version: str | None) -> tuple[str, int]:
    """The form generated from the input schema; a POST predicts and shows the result."""
    runtime = current_runtime()
    served, versions = served_model(name, version, routed=request.method == "POST")
    fields = describe_fields(served.input_schema.json_schema)
    layout = output_layout(served.output_schema.json_schema)
    outcome: dict[str, Any] = {"values": None, "errors": {}, "form_errors": []}
    status = 200
    if request.method == "POST":
        outcome = _predict_from_form(runtime, served, fields, layout)
        status = 400 if outcome["errors"] or outcome["form_errors"] else 200
    elif request.args.get("example"):
        outcome["values"] = served.example_input
    return (
        render_template(
            "views/predict.html",
            **model_context(served, versions, version),
            fields=fields,
            shown=display_values(fields, outcome.pop("values")),
            layout=layout,
            explain_url=_explain_url(served, version),
            explain_sentence=EXPLANATION_SENTENCE,
            **outcome,
        ),
        status,
    )


@views.get("/models/<name>/template.csv", defaults={"version": None})
@views.get("/models/<name>/versions/<version>/template.csv")
def csv_template(name: str, version: str | None) -> Response:
    """A CSV file with the input fields as header and the example input as first row."""
    served, _ = served_model(name, version)
    names = list(served.input_schema.json_schema.get("properties", {}))
    example = served.example_input or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    if example:
        writer.writerow(_csv_cell(example.get(field)) for field in names)
    filename = f"{served.qualified_name}-{served.version}-input.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(_csv_cell(item) for item in value)
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def served_model(
    name: str, version: str | None, *, routed: bool = False
) -> tuple[ServedModel, list[str]]:
    """The model a page is about and every loaded version of it; unknown: ``ModelNotFound``.

    :param routed: the page predicts: an unversioned page follows the routing policy.
    """
    runtime = current_runtime()
    manager = runtime.manager
    if routed:
        served = runtime.route(name, version, request.headers.get(ROUTING_KEY_HEADER)).served
    else:
        served = runtime.get_model(name, version)
    versions = next(
        (
            summary["versions"]
            for summary in manager.get_models()
            if summary["qualified_name"] == name
        ),
        [served.version],
    )
    return served, versions


def model_context(served: ServedModel, versions: list[str], pinned: str | None) -> dict[str, Any]:
    """What every model page needs: the model, its versions and the URLs of its other pages."""
    name = served.qualified_name
    version_args: dict[str, Any] = {"name": name, "version": pinned}
    return {
        "served": served,
        "model": served.model,
        "versions": versions,
        "pinned": pinned,
        "urls": {
            "model": url_for("views.model_page", **version_args),
            "predict": url_for("views.predict_page", **version_args),
            "example": url_for("views.predict_page", **version_args, example=1),
            "template": url_for("views.csv_template", **version_args),
            "monitoring": url_for("views.monitoring_page", **version_args),
            "metadata": url_for("api.model_metadata", **version_args),
            "api_predict": url_for("api.predict", **version_args),
            "docs": f"{request.script_root}/api/docs#/{name}",
        },
    }


def _explain_url(served: ServedModel, version: str | None) -> str:
    """The JSON explain endpoint for the page's script, or ``""`` for an unexplainable model."""
    if not served.model.explainable:
        return ""
    return url_for("api.explain", name=served.qualified_name, version=version)


def _predict_from_form(
    runtime: ServiceRuntime, served: ServedModel, fields: list[FormField], layout: Any
) -> dict[str, Any]:
    """Convert the posted text, predict, explain; report problems the way the API does."""
    posted = {name: request.form.getlist(name) for name in request.form}
    outcome: dict[str, Any] = {"values": posted, "errors": {}, "form_errors": []}
    item, problems = coerce_fields(posted, served.input_schema.json_schema)
    try:
        if problems:
            raise InvalidInput("Some fields cannot be converted to their types.", problems)
        result = runtime.predict(served, [item], batch=False)[0]
    except InvalidInput as error:
        known = {form_field.name for form_field in fields}
        outcome["errors"], outcome["form_errors"] = errors_by_field(error.details, known)
        return outcome
    except ServingError as error:
        outcome["form_errors"] = [error.message]
        return outcome
    outcome["result"] = result_view(layout, result)
    explanation = _explain(runtime, served, item)
    if explanation is not None:
        outcome["explanation"] = explanation_view(explanation)
    return outcome


def _explain(
    runtime: ServiceRuntime, served: ServedModel, item: dict[str, Any]
) -> Mapping[str, Any] | None:
    if not served.model.explainable:
        return None
    try:
        explanations = runtime.explain(served, [item], batch=False)
    except ServingError:
        logger.warning("Explaining %s failed; the page shows the prediction only", served.source)
        return None
    return explanations[0] if explanations else None


def errors_by_field(
    details: list[ErrorDetail], known: set[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Group validation problems under the field they name; the rest are form-level errors.

    A problem deeper in a field (``["pixels", 3]``) keeps its position: ``item 4: ...``.
    """
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for detail in details:
        path = list(detail.path)
        if path and path[0] in known:
            where = "".join(
                f"item {part + 1}: " if isinstance(part, int) else f"{part}: " for part in path[1:]
            )
            by_field.setdefault(str(path[0]), []).append(where + detail.message)
        else:
            prefix = f"{'.'.join(map(str, path))}: " if path else ""
            general.append(prefix + detail.message)
    return by_field, general
