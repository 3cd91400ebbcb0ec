"""Serve the document (JSON and YAML) and the offline Swagger UI under ``/api``.

The document is built on first request and cached on the app; it is rebuilt only when the set of
loaded models changes (models can be loaded and unloaded at run time).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from flask import Blueprint, Flask, Response, current_app, render_template, url_for

from model_service.openapi.document import build_document
from model_service.runtime import EXTENSION_KEY, ServiceRuntime

CACHE_KEY = "model_service.openapi"
SWAGGER_UI_VERSION = "5.35.0"
"""The vendored ``swagger-ui-dist`` (``static/vendor/swagger-ui/VERSION``); busts browser caches."""

openapi_pages = Blueprint("openapi", __name__, url_prefix="/api")


@dataclass(frozen=True)
class CachedDocument:
    """One built document and its two encodings, for one set of loaded models."""

    models: tuple[tuple[str, str, int], ...]
    document: dict[str, Any]
    json: bytes
    yaml: str


class _DocumentDumper(yaml.SafeDumper):
    """Readable YAML: no aliases (a shared example is written in full), lists of plain values on
    one line, and multi-line text (CSV examples, descriptions) as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(not isinstance(item, (list, dict)) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data and data == data.rstrip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_DocumentDumper.add_representer(list, _represent_list)
_DocumentDumper.add_representer(str, _represent_text)


def to_yaml(document: dict[str, Any]) -> str:
    """The document as YAML with sorted keys, so the same models always give the same text."""
    return yaml.dump(
        document,
        Dumper=_DocumentDumper,
        sort_keys=True,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def to_json(document: dict[str, Any]) -> bytes:
    """The document as JSON, keys in the order they were built (a model's fields as declared)."""
    return orjson.dumps(document)


def cached_document(app: Flask) -> CachedDocument:
    """The app's document, rebuilt when the loaded models have changed since the last build."""
    runtime: ServiceRuntime = app.extensions[EXTENSION_KEY]
    models = tuple(
        sorted(
            (served.qualified_name, served.version, id(served))
            for served in runtime.manager.served_models()
        )
    )
    state: dict[str, Any] = app.extensions[CACHE_KEY]
    cached: CachedDocument | None = state.get("document")
    if cached is not None and cached.models == models:
        return cached
    with state["lock"]:
        document = build_document(app)
        cached = CachedDocument(models, document, to_json(document), to_yaml(document))
        state["document"] = cached
    return cached


@openapi_pages.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document for the models this process serves."""
    return Response(cached_document(current_app).json, mimetype="application/json")


@openapi_pages.get("/openapi.yaml")
def openapi_yaml() -> Response:
    """The same document as YAML."""
    return Response(cached_document(current_app).yaml, mimetype="application/yaml")


@openapi_pages.get("/docs")
def swagger_ui() -> str:
    """Swagger UI, served from vendored files; the page loads ``/api/openapi.json``."""
    return render_template(
        "openapi/swagger_ui.html",
        spec_url=url_for("openapi.openapi_json"),
        swagger_ui_version=SWAGGER_UI_VERSION,
    )


def register(app: Flask) -> None:
    """Mount the document and the Swagger UI on ``app``."""
    app.extensions[CACHE_KEY] = {"lock": threading.Lock(), "document": None}
    app.register_blueprint(openapi_pages)
