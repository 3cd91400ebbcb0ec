"""The V2 model repository extension (Triton's, as MLServer serves it) over REST:

* ``POST /v2/repository/index`` (body ``{}`` or ``{"ready": true}``): a JSON array with one entry
  per loaded version (``state`` ``READY``) and per model that failed to load (``UNAVAILABLE``,
  with the ``reason``);
* ``POST /v2/repository/models/<name>/load``: with ``{"parameters": {"module_name", "class_name"}}``
  or ``{"parameters": {"entry_point"}}`` load that class (it must declare ``<name>``); with no
  body, reload every loaded version of ``<name>``. 200 with an empty body;
* ``POST /v2/repository/models/<name>/unload``: stop serving ``<name>`` (or only
  ``{"parameters": {"version": v}}``). 200 with an empty body.

These are the admin API's operations (:mod:`model_service.admin`): the same token and the same
change log, so every worker follows them; errors come in the V2 shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, request

from model_service.admin import check_load_spec, require_admin_token, run_change
from model_service.api.request_body import parse_json
from model_service.errors import ErrorDetail, InvalidInput, ModelLoadError
from model_service.model_manager import import_model_class
from model_service.responses import json_response
from model_service.runtime import current_runtime
from model_service.v2 import v2

READY, UNAVAILABLE = "READY", "UNAVAILABLE"


def _parameters() -> Mapping[str, Any] | None:
    """The request's ``parameters`` object; ``None`` for an empty body."""
    body = request.get_data(cache=False)
    if not body.strip():
        return None
    document = parse_json(body)
    parameters = document.get("parameters", {}) if isinstance(document, Mapping) else None
    if not isinstance(parameters, Mapping):
        raise InvalidInput(
            'Send {"parameters": {...}} (an object) or no body.',
            [ErrorDetail(("parameters",), "expected an object")],
        )
    return parameters


@v2.post("/repository/index")
def repository_index() -> Response:
    """Every loaded version (READY) and every model that failed to load (UNAVAILABLE)."""
    require_admin_token()
    body = request.get_data(cache=False)
    document = parse_json(body) if body.strip() else {}
    ready_only = isinstance(document, Mapping) and document.get("ready") is True
    manager = current_runtime().manager
    index: list[dict[str, str]] = [
        {"name": served.qualified_name, "version": served.version, "state": READY, "reason": ""}
        for served in sorted(manager.served_models(), key=lambda s: (s.qualified_name, s.version))
    ]
    if not ready_only:
        index += [
            {
                "name": failure.qualified_name or failure.source,
                "version": "",
                "state": UNAVAILABLE,
                "reason": failure.error,
            }
            for failure in manager.failures
        ]
    return json_response(index)


@v2.post("/repository/models/<name>/load")
def repository_load(name: str) -> Response:
    """Load a model class declaring ``name``, or reload ``name`` when the body is empty."""
    require_admin_token()
    parameters = _parameters()
    if not parameters:
        run_change({"action": "reload", "name": name, "version": None})
        return Response(status=200)
    spec = check_load_spec(dict(parameters))
    try:
        model_class, _ = import_model_class(spec)
    except ModelLoadError:
        model_class = None  # the change below reports it as the admin API does
    declared = getattr(model_class, "qualified_name", name)
    if declared != name:
        raise InvalidInput(
            f"The class declares the model {declared!r}, not {name!r}; load it as "
            f"/v2/repository/models/{declared}/load.",
            [ErrorDetail(("parameters",), "the class serves another model")],
        )
    run_change({"action": "load", "spec": spec})
    return Response(status=200)


@v2.post("/repository/models/<name>/unload")
def repository_unload(name: str) -> Response:
    """Stop serving ``name`` (or one version of it)."""
    require_admin_token()
    parameters = _parameters() or {}
    version = parameters.get("version")
    if version is not None and not isinstance(version, str):
        raise InvalidInput(
            "The version to unload must be a string.",
            [ErrorDetail(("parameters", "version"), "expected a string")],
        )
    run_change({"action": "unload", "name": name, "version": version})
    return Response(status=200)
