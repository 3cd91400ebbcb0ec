"""Routing policies over HTTP, on the admin blueprint (same token rules, same change log):

* ``GET /api/admin/models/<name>/routing``: the current policy, the loaded versions and how many
  earlier policies a rollback can return to;
* ``PUT`` the same path with a policy document (see :mod:`model_service.routing`): 200 with the
  new policy, 400 listing every problem;
* ``POST .../routing/promote`` with ``{"version": v}``: ``v`` becomes the primary, its canary
  weight and shadow entry removed;
* ``POST .../routing/rollback``: the previous policy again (409 when there is none).

Every change goes through the admin change log, so every worker applies it before its next
request, and a worker forked later (after a crash or a HUP) replays it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request

from model_service.admin import admin, run_change
from model_service.api.request_body import read_json_body
from model_service.errors import ErrorDetail, InvalidInput
from model_service.responses import json_response
from model_service.routing import RoutingPolicy, promoted
from model_service.runtime import EXTENSION_KEY, ServiceRuntime, current_runtime


def describe(runtime: ServiceRuntime, name: str) -> dict[str, Any]:
    """The routing state of ``name`` as the API reports it."""
    versions = runtime.manager.versions(name)
    policy = runtime.routing.get(name) or RoutingPolicy(name)
    return {
        "model": name,
        "policy": policy.to_dict(),
        "default_version": runtime.manager.get_model(name).version,
        "loaded_versions": versions,
        "history_length": len(runtime.routing.history.get(name, [])),
    }


def _json_body() -> Any:
    return read_json_body(request, "Send a JSON object (Content-Type: application/json).")


@admin.get("/models/<name>/routing")
def get_routing(name: str) -> Response:
    """The model's routing policy, its loaded versions and the rollback history's length."""
    return json_response(describe(current_runtime(), name))


@admin.put("/models/<name>/routing")
def put_routing(name: str) -> Response:
    """Replace the model's routing policy (400 listing every problem of the document)."""
    runtime = current_runtime()
    document = _json_body()
    runtime.validate_routing(name, document)  # refused here before it reaches the change log
    return _changed(runtime, name, {"action": "routing", "name": name, "policy": document})


@admin.post("/models/<name>/routing/promote")
def promote(name: str) -> Response:
    """Make ``{"version": v}`` the primary: its canary weight and shadow entry are removed."""
    runtime = current_runtime()
    body = _json_body()
    version = body.get("version") if isinstance(body, Mapping) else None
    if not isinstance(version, str):
        raise InvalidInput(
            'Name the version to promote as {"version": "1.1.0"}.',
            [ErrorDetail(("version",), "expected a version string")],
        )
    document = promoted(runtime.routing.get(name), name, version)
    runtime.validate_routing(name, document)
    return _changed(runtime, name, {"action": "routing", "name": name, "policy": document})


@admin.post("/models/<name>/routing/rollback")
def rollback(name: str) -> Response:
    """Return to the previous policy (409 when there is none)."""
    runtime = current_runtime()
    runtime.manager.versions(name)  # 404 for a model that is not loaded
    return _changed(runtime, name, {"action": "routing", "name": name, "rollback": True})


def _changed(runtime: ServiceRuntime, name: str, change: dict[str, Any]) -> Response:
    run_change(change)
    return json_response(describe(runtime, name))


def apply_settings(app: Flask) -> None:
    """Apply ``ROUTING = {model: policy}`` from the settings; a bad policy stops the start with
    an error naming the model and every problem."""
    runtime: ServiceRuntime = app.extensions[EXTENSION_KEY]
    for name, document in (app.config.get("ROUTING") or {}).items():
        try:
            runtime.routing.set(name, runtime.validate_routing(name, document), remember=False)
        except InvalidInput as error:
            problems = "; ".join(f"{list(d.path)}: {d.message}" for d in error.details)
            raise ValueError(f"ROUTING for {name!r}: {error.message} {problems}") from None
        except Exception as error:
            raise ValueError(f"ROUTING for {name!r}: {error}") from None
    runtime.pin_primaries()


def init_app(app: Flask) -> None:
    """Apply the configured policies (the routes are on the admin blueprint)."""
    apply_settings(app)
