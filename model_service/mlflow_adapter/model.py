"""The :class:`MLflowModel`: an ordinary :class:`MLModel` whose declarations come from MLflow.

:func:`build_model_class` reads the model directory once and creates a subclass per model with
its name, version and schemas as class attributes, as a hand-written model declares them; its
instances predict through ``mlflow.pyfunc`` with one call per batch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from model_service.errors import ModelLoadError
from model_service.ml_model import QUALIFIED_NAME_PATTERN, MLModel
from model_service.mlflow_adapter import loading, outputs, signature
from model_service.mlflow_adapter.card import model_card

DEFAULT_VERSION = "1.0.0"


class MLflowModel(MLModel):
    """Serves one MLflow model; :func:`build_model_class` makes the subclass for a directory."""

    model_uri: ClassVar[str]
    trusted_types: ClassVar[tuple[str, ...]] = ()
    tracking_uri: ClassVar[str | None] = None
    fields: ClassVar[tuple[signature.InputField, ...]]
    layout: ClassVar[outputs.OutputLayout]
    examples: ClassVar[tuple[dict[str, Any], ...]]
    typical: ClassVar[dict[str, Any]]

    def __init__(self) -> None:
        cls = type(self)
        self._loaded = _load(cls.model_uri, cls.trusted_types, cls.tracking_uri)
        self._predict = loading.predict_function(self._loaded)
        raw_model = self._loaded.raw_model
        self._predict_proba = getattr(raw_model, "predict_proba", None)
        self._run = loading.run_details(self._loaded.metadata.run_id, cls.tracking_uri)

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.predict_batch([data])[0]

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """One call of the flavor's predict function on a DataFrame of every item."""
        model_input = signature.frame_from_items(self.fields, items)
        if self.layout.is_classifier and self._predict_proba is not None:
            return outputs.classifier_results(self.layout, self._predict_proba(model_input))
        return outputs.prediction_results(self.layout, self._predict(model_input), len(items))

    def example_input(self) -> dict[str, Any] | None:
        return dict(self.examples[0]) if self.examples else None

    def baseline(self) -> dict[str, Any] | None:
        """Explanations compare with the logged input example's rows (the mean of each number
        column): MLflow records no training statistics."""
        return dict(self.typical) if len(self.typical) == len(self.fields) else None

    def reference_data(self) -> list[dict[str, Any]]:
        """The reference rows for monitoring: the logged input example's rows."""
        return [dict(row) for row in self.examples]

    def model_card(self) -> dict[str, Any]:
        return model_card(self._loaded, self._run, self.baseline())


def _load(uri: str, trusted_types: Sequence[str], tracking_uri: str | None) -> loading.LoadedModel:
    source = f"MLflow model {uri}"
    path = loading.local_path(uri, tracking_uri)
    metadata = loading.read_metadata(path, source)
    return loading.load_model(path, metadata, trusted_types, source)


def build_model_class(entry: Mapping[str, Any]) -> type[MLflowModel]:
    """Load the MLflow model ``entry`` names and declare its :class:`MLflowModel` subclass.

    The model is loaded here for what its declaration needs (a classifier's labels) and again by
    the instance the service builds, so that the load time the service reports is real and a
    reload reads the directory afresh.
    """
    uri = str(entry["mlflow_model"])
    trusted_types = tuple(entry.get("trusted_types") or ())
    tracking_uri = entry.get("tracking_uri")
    loaded = _load(uri, trusted_types, tracking_uri)
    name = entry.get("qualified_name") or default_name(uri, loaded.path)
    fields = tuple(signature.input_fields(loaded.metadata.signature.inputs))
    examples = signature.example_rows(loaded.metadata.load_input_example(str(loaded.path)), fields)
    labels = getattr(loaded.raw_model, "classes_", ()) if _predicts_labels(loaded) else ()
    layout = outputs.output_layout(loaded.metadata.signature.outputs, list(labels))
    title = "".join(part.capitalize() for part in name.split("_"))
    attributes = {
        "qualified_name": name,
        "display_name": entry.get("display_name") or name.replace("_", " ").capitalize(),
        "description": entry.get("description")
        or f"MLflow {loading.flavor_names(loaded.metadata)} model served from {uri}.",
        "version": entry.get("version") or default_version(uri),
        "input_schema": signature.input_schema(
            fields, f"{title}Input", examples[0] if examples else None
        ),
        "output_schema": outputs.output_schema(layout, f"{title}Output"),
        "model_uri": uri,
        "trusted_types": trusted_types,
        "tracking_uri": tracking_uri,
        "fields": fields,
        "layout": layout,
        "examples": tuple(examples),
        "typical": signature.typical_item(examples, fields),
        "__module__": __name__,
    }
    return type(f"{title}MLflowModel", (MLflowModel,), attributes)


def _predicts_labels(loaded: loading.LoadedModel) -> bool:
    """A classifier whose pyfunc predicts labels (not a custom ``pyfunc_predict_fn``)."""
    flavor = loaded.metadata.flavors.get("python_function", {})
    raw = loaded.raw_model
    return (flavor.get("predict_fn") or "predict") == "predict" and all(
        hasattr(raw, attribute) for attribute in ("predict_proba", "classes_")
    )


def default_name(uri: str, path: Path) -> str:
    """A qualified name from the URI (``models:/churn/3`` -> ``churn``) or the directory name."""
    registered = re.match(r"^models:/([^/@]+)", uri)
    raw = registered.group(1) if registered else path.name
    name = re.sub(r"[^a-z0-9_]+", "_", raw.lower()).strip("_")
    if not name or not name[0].isalpha():
        name = f"mlflow_{name}".rstrip("_")
    name = name[:63]
    if not QUALIFIED_NAME_PATTERN.match(name):
        raise ModelLoadError(f"Cannot make a model name from {uri}: give 'qualified_name'.")
    return name


def default_version(uri: str) -> str:
    """``N.0.0`` for a registered model version ``models:/name/N``, else ``1.0.0``."""
    registered = re.match(r"^models:/[^/]+/(\d+)$", uri)
    return f"{registered.group(1)}.0.0" if registered else DEFAULT_VERSION
