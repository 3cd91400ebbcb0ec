"""Read the service's settings once: a ``config.py`` class plus ``MODEL_SERVICE_*`` overrides."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from typing import Any

ENV_PREFIX = "MODEL_SERVICE_"
DEFAULT_SETTINGS = "config.DevelopmentConfig"


def import_object(path: str) -> Any:
    """Import ``package.module.Name`` (or ``package.module:Name``) and return ``Name``."""
    module_name, _, attribute = path.replace(":", ".").rpartition(".")
    if not module_name:
        raise ImportError(f"'{path}' is not an import path such as 'config.ProductionConfig'.")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"Module '{module_name}' has no attribute '{attribute}'.") from None


def _class_settings(source: Any) -> dict[str, Any]:
    return {name: getattr(source, name) for name in dir(source) if name.isupper()}


def _parse_override(text: str, current: Any) -> Any:
    """Read ``text`` as the type of the setting's default (JSON for numbers, lists, mappings)."""
    if current is None or isinstance(current, str):
        return text
    if isinstance(current, bool):
        return text.strip().lower() in {"1", "true", "yes", "on"}
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(current, float) and isinstance(value, int):
        return float(value)
    return value


def environment_overrides(
    defaults: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Settings named ``MODEL_SERVICE_<NAME>`` in the environment, typed like their defaults."""
    environ = os.environ if environ is None else environ
    overrides: dict[str, Any] = {}
    for key, text in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :]
        if name in defaults:
            overrides[name] = _parse_override(text, defaults[name])
    return overrides


def load_settings(
    source: str | type | Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve the settings to run with.

    :param source: a settings class, its import path, or a mapping of overrides applied on top of
        ``APP_SETTINGS`` (default ``config.DevelopmentConfig``).
    :param environ: the environment to read ``APP_SETTINGS`` and ``MODEL_SERVICE_*`` from.
    """
    environ = os.environ if environ is None else environ
    extra: Mapping[str, Any] = {}
    if source is None or isinstance(source, Mapping):
        extra = source or {}
        source = environ.get("APP_SETTINGS", DEFAULT_SETTINGS)
    settings_class = import_object(source) if isinstance(source, str) else source
    settings = _class_settings(settings_class)
    settings.update(environment_overrides(settings, environ))
    settings.update(extra)
    settings["SETTINGS_NAME"] = f"{settings_class.__module__}.{settings_class.__qualname__}"
    return settings


def model_entries(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every model entry the settings name: ``MODELS`` then ``MLFLOW_MODELS``, each MLflow entry
    completed with the deployment's ``MLFLOW_TRUSTED_TYPES`` and ``MLFLOW_TRACKING_URI``."""
    entries = [dict(entry) for entry in settings["MODELS"]]
    entries += [{"mlflow_model": str(path)} for path in settings.get("MLFLOW_MODELS") or ()]
    for entry in entries:
        if "mlflow_model" in entry:
            entry.setdefault("trusted_types", list(settings.get("MLFLOW_TRUSTED_TYPES") or ()))
            entry.setdefault("tracking_uri", settings.get("MLFLOW_TRACKING_URI"))
    return entries
