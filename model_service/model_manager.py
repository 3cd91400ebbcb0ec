"""The :class:`ModelManager`: imports, checks and instantiates model classes; looks them up.

It knows nothing of HTTP: it raises domain errors (:mod:`model_service.errors`) that the blueprints
turn into responses.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from model_service.errors import InvalidModelClass, ModelLoadError, ModelNotFound
from model_service.ml_model import MLModel
from model_service.validation import CompiledSchema, compile_schema

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "model_service.models"


def version_key(version: str) -> tuple[Any, ...]:
    """Order semantic versions: ``1.10.0`` > ``1.9.0``; a pre-release sorts before its release."""
    core, _, pre_release = re.split(r"[+]", version)[0].partition("-")
    numbers = tuple(int(part) if part.isdigit() else 0 for part in core.split("."))
    return (*numbers, 0 if pre_release else 1, pre_release)


@dataclass
class ServedModel:
    """A loaded model with everything the service derives from it once, at load time."""

    model: MLModel
    source: str
    input_schema: CompiledSchema
    output_schema: CompiledSchema
    load_seconds: float
    model_card: dict[str, Any] | None
    example_input: dict[str, Any] | None

    @property
    def qualified_name(self) -> str:
        return self.model.qualified_name

    @property
    def version(self) -> str:
        return self.model.version

    def summary(self) -> dict[str, Any]:
        return {
            "qualified_name": self.model.qualified_name,
            "display_name": self.model.display_name,
            "description": self.model.description,
            "version": self.model.version,
        }


@dataclass(frozen=True)
class LoadFailure:
    """A model that could not be loaded, kept so health checks and the UI can report it."""

    source: str
    error: str
    qualified_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "error": self.error, "qualified_name": self.qualified_name}


@dataclass
class ModelManager:
    """Loads every configured model once and finds them by qualified name and version.

    :param strict: raise on the first model that fails to load instead of recording it.
    :param default_versions: ``{qualified_name: version}`` pins for unversioned look-ups.
    """

    strict: bool = False
    default_versions: Mapping[str, str] = field(default_factory=dict)
    failures: list[LoadFailure] = field(default_factory=list)
    # name -> version -> model; replaced as a whole on change, so readers never see a half update
    _models: dict[str, dict[str, ServedModel]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # name -> (its versions as published in _models, the highest of them); emptied on change
    _highest: dict[str, tuple[dict[str, ServedModel], str]] = field(default_factory=dict)

    # --- loading ------------------------------------------------------------------------------

    def load(
        self, configured: Iterable[Mapping[str, Any]] = (), *, discover_entry_points: bool = True
    ) -> None:
        """Load the configured entries, then the entry points.

        An entry is ``{"module_name", "class_name"}`` (a model class) or ``{"mlflow_model": PATH,
        "qualified_name"?, "version"?}`` (a directory saved by MLflow, see
        :mod:`model_service.mlflow_adapter`).
        """
        seen: set[type] = set()
        for entry in configured:
            if "mlflow_model" in entry:
                source = f"MLflow model {entry['mlflow_model']}"
                self._load_one(source, lambda entry=entry: _mlflow_model_class(entry), seen)
                continue
            source = f"{entry.get('module_name')}.{entry.get('class_name')}"
            self._load_one(source, lambda entry=entry: _import_class(entry), seen)
        if discover_entry_points:
            for point in entry_points(group=ENTRY_POINT_GROUP):
                source = f"entry point '{point.name}' ({point.value})"
                self._load_one(source, point.load, seen)

    def _load_one(self, source: str, import_class: Any, seen: set[type]) -> None:
        model_class = None
        try:
            model_class = import_class()
            if model_class in seen:
                return
            seen.add(model_class)
            self.add_model_class(model_class, source)
        except Exception as error:
            if self.strict:
                raise
            name = getattr(model_class, "qualified_name", None)
            failure = LoadFailure(
                source, _describe_error(error), name if isinstance(name, str) else None
            )
            self.failures.append(failure)
            logger.error("Model %s failed to load: %s", source, failure.error)
            logger.debug("Traceback of the failed load:\n%s", traceback.format_exc())

    def add_model_class(
        self, model_class: Any, source: str | None = None, *, replace: bool = False
    ) -> ServedModel:
        """Check, instantiate and register ``model_class``; return what is now served.

        The instance is built beside the served models and swapped in as a whole, so a request
        never sees a half-loaded model.

        :param replace: serve it in place of an already loaded model of the same name and
            version (requests in flight finish on the old instance); otherwise that is an error.
        """
        served = self._build(model_class, source or _class_path(model_class))
        self._register(served, replace=replace)
        logger.info(
            "Loaded model %s %s from %s in %.2f s",
            served.qualified_name,
            served.version,
            served.source,
            served.load_seconds,
        )
        return served

    def reload(self, name: str, version: str | None = None) -> list[ServedModel]:
        """Instantiate each loaded version of ``name`` (or only ``version``) again, so a model
        whose artifacts were retrained re-reads them; swap them in together once all loaded.

        :raises ModelNotFound: nothing of that name (and version) is loaded.
        :raises ModelLoadError: a new instance failed; the old ones keep serving.
        """
        versions = self._models.get(name, {})
        if not versions or (version is not None and version not in versions):
            raise ModelNotFound(name, version)
        old = [versions[version]] if version is not None else list(versions.values())
        fresh = [self._build(type(served.model), served.source) for served in old]
        with self._lock:
            current = dict(self._models.get(name, {}))
            # a version unloaded while the new instances loaded stays unloaded
            current.update({s.version: s for s in fresh if s.version in current})
            if current:
                self._publish({**self._models, name: current})
        logger.info("Reloaded model %s versions %s", name, [s.version for s in fresh])
        return fresh

    def _build(self, model_class: Any, source: str) -> ServedModel:
        if not (isinstance(model_class, type) and issubclass(model_class, MLModel)):
            raise InvalidModelClass(
                f"{source} is not a subclass of model_service.MLModel, so it cannot be served. "
                "Derive the model class from MLModel (see docs/writing-a-model.md)."
            )
        model_class.check_declaration()
        started = time.perf_counter()
        try:
            model = model_class()
        except ModelLoadError:
            raise
        except Exception as error:
            raise ModelLoadError(
                f"{source} raised while loading: {_describe_error(error)}"
            ) from error
        return ServedModel(
            model=model,
            source=source,
            input_schema=compile_schema(model_class.input_schema),
            output_schema=compile_schema(model_class.output_schema),
            load_seconds=time.perf_counter() - started,
            model_card=model.model_card(),
            example_input=model.example_input(),
        )

    def _register(self, served: ServedModel, *, replace: bool = False) -> None:
        with self._lock:
            versions = dict(self._models.get(served.qualified_name, {}))
            if served.version in versions and not replace:
                raise ModelLoadError(
                    f"{served.source} declares {served.qualified_name} version {served.version}, "
                    f"which {versions[served.version].source} already serves. Give one of them "
                    "another version."
                )
            versions[served.version] = served
            self._publish({**self._models, served.qualified_name: versions})

    def unload(self, name: str, version: str | None = None) -> list[ServedModel]:
        """Stop serving one version of a model (or every version); return what was removed."""
        with self._lock:
            versions = dict(self._models.get(name, {}))
            if not versions or (version is not None and version not in versions):
                raise ModelNotFound(name, version)
            removed = [versions.pop(version)] if version else list(versions.values())
            models = {**self._models, name: versions}
            if not versions or version is None:
                del models[name]
            self._publish(models)
        return removed

    # --- look-ups -----------------------------------------------------------------------------

    def get_model(self, name: str, version: str | None = None) -> ServedModel:
        """The served model ``name`` at ``version`` (default: pinned, else the highest)."""
        versions = self._models.get(name)
        if not versions:
            raise ModelNotFound(name)
        if version is None:
            version = self.default_versions.get(name) or self._highest_version(name, versions)
        served = versions.get(version)
        if served is None:
            raise ModelNotFound(name, version)
        return served

    def _highest_version(self, name: str, versions: dict[str, ServedModel]) -> str:
        """The highest of ``versions`` (the published versions of ``name``), remembered until
        they change: ordering them cost 2-3 us of every unversioned prediction."""
        remembered = self._highest.get(name)
        if remembered is not None and remembered[0] is versions:
            return remembered[1]
        highest = max(versions, key=version_key)
        self._highest[name] = (versions, highest)
        return highest

    def _publish(self, models: dict[str, dict[str, ServedModel]]) -> None:
        """Make ``models`` the served ones (lock held); what was remembered of the old ones is
        forgotten, so it keeps no unloaded model alive."""
        self._models = models
        self._highest = {}

    def serves(self, name: str) -> bool:
        """Whether some version of ``name`` is loaded."""
        return bool(self._models.get(name))

    def versions(self, name: str) -> list[str]:
        """The loaded versions of ``name``, highest first (:class:`ModelNotFound`: none)."""
        versions = self._models.get(name)
        if not versions:
            raise ModelNotFound(name)
        return sorted(versions, key=version_key, reverse=True)

    def get_models(self) -> list[dict[str, Any]]:
        """One summary per model (its default version), with every version loaded."""
        summaries = []
        for name in sorted(self._models):
            default = self.get_model(name)
            versions = sorted(self._models[name], key=version_key, reverse=True)
            summaries.append({**default.summary(), "versions": versions})
        return summaries

    def get_model_metadata(self, name: str, version: str | None = None) -> dict[str, Any]:
        """Everything a client needs to call the model: summary, schemas, card, example."""
        served = self.get_model(name, version)
        versions = sorted(self._models[name], key=version_key, reverse=True)
        return {
            **served.summary(),
            "versions": versions,
            "input_schema": served.input_schema.json_schema,
            "output_schema": served.output_schema.json_schema,
            "model_card": served.model_card,
            "example_input": served.example_input,
        }

    def served_models(self) -> list[ServedModel]:
        """Every loaded version of every model."""
        return [served for versions in self._models.values() for served in versions.values()]


def import_model_class(spec: Mapping[str, str]) -> tuple[Any, str]:
    """Import the class named by ``{"module_name", "class_name"}`` or ``{"entry_point": name}``
    (a name in the ``model_service.models`` group); return it with a description of its source.

    :raises ModelLoadError: the module, class or entry point does not exist or fails to import.
    """
    point_name = spec.get("entry_point")
    if point_name is None:
        return _import_class(spec), f"{spec.get('module_name')}.{spec.get('class_name')}"
    points = [point for point in entry_points(group=ENTRY_POINT_GROUP) if point.name == point_name]
    if not points:
        raise ModelLoadError(
            f"No entry point named '{point_name}' in the group '{ENTRY_POINT_GROUP}'. Is the "
            "model package installed in this environment?"
        )
    source = f"entry point '{points[0].name}' ({points[0].value})"
    try:
        return points[0].load(), source
    except Exception as error:
        raise ModelLoadError(f"{source} failed to import: {_describe_error(error)}") from error


def _import_class(entry: Mapping[str, str]) -> Any:
    module_name, class_name = entry.get("module_name"), entry.get("class_name")
    if not module_name or not class_name:
        raise ModelLoadError(
            f"Model entry {dict(entry)!r} needs both 'module_name' and 'class_name'."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ModelLoadError(
            f"Cannot import module '{module_name}': {error}. Is the model package installed in "
            "this environment (pip install <package>)?"
        ) from error
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ModelLoadError(f"Module '{module_name}' has no class '{class_name}'.") from None


def _mlflow_model_class(entry: Mapping[str, Any]) -> Any:
    from model_service.mlflow_adapter import mlflow_model_class  # imports MLflow only when used

    return mlflow_model_class(entry)


def _class_path(model_class: Any) -> str:
    module = getattr(model_class, "__module__", "?")
    return f"{module}.{getattr(model_class, '__qualname__', repr(model_class))}"


def _describe_error(error: BaseException) -> str:
    if isinstance(error, ModelLoadError):
        return str(error)
    return f"{type(error).__name__}: {error}"
