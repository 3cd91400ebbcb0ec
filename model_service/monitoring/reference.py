"""What a served model is compared against: its reference profiles, target field and checker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from schema import Schema

from model_service.model_manager import ServedModel
from model_service.monitoring.profiles import FieldProfile, Kind, build_profile, field_kind
from model_service.prediction import validate_items
from model_service.validation import CompiledSchema, compile_schema

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelReference:
    """Built once per loaded model (see :func:`build_reference`)."""

    target_field: str | None = None
    quality_kind: str | None = None
    """``classification``, ``regression``, or None without a target field."""
    target_check: CompiledSchema | None = None
    fields: dict[str, FieldProfile] = field(default_factory=dict)
    prediction: FieldProfile | None = None

    def predicted_value(self, result: Any) -> Any:
        """The target field's value in one prediction result (None without a target)."""
        if self.target_field is None or not isinstance(result, dict):
            return None
        return result.get(self.target_field)


def _target(served: ServedModel) -> tuple[str | None, Kind | None, CompiledSchema | None]:
    name = getattr(served.model, "target_field", None)
    if not name:
        return None, None, None
    properties = served.output_schema.json_schema.get("properties", {})
    if name not in properties:
        logger.error("%s declares target_field %r, not in its output schema", served.source, name)
        return None, None, None
    kind: Kind | None = field_kind(properties[name], integers="category")
    declared = getattr(served.model, "output_schema", None)
    check = None
    if isinstance(declared, Schema) and isinstance(declared.schema, dict):
        for key, value in declared.schema.items():
            if getattr(key, "schema", key) == name:
                check = compile_schema(value)
    return name, kind, check


def build_reference(served: ServedModel) -> ModelReference:
    """The model's target and, when it declares reference data, the reference profiles.

    A model whose reference data fails to load or predict is still served and monitored; only its
    drift reads ``no data`` (the failure is logged).
    """
    target, target_kind, check = _target(served)
    quality_kind = None
    if target is not None:
        quality_kind = "regression" if target_kind == "numeric" else "classification"
    base = ModelReference(target, quality_kind, check)
    try:
        items = served.model.reference_data()
        if not items:
            return base
        cleaned = validate_items(served, items, batch=True)
        predictions = served.model.predict_batch(cleaned)
    except Exception:
        logger.exception("Reference data of %s could not be profiled", served.source)
        return base
    return ModelReference(
        target,
        quality_kind,
        check,
        input_profiles(served.input_schema.json_schema, cleaned),
        _prediction_profile(base, target_kind, predictions),
    )


def input_profiles(input_schema: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """One profile per profiled input field of ``input_schema``, from the reference ``items``."""
    profiles = {}
    for name, declared in input_schema.get("properties", {}).items():
        kind = field_kind(declared)
        if kind is None:
            continue
        profile = build_profile(
            name, kind, [item.get(name) for item in items], declared.get("enum", ())
        )
        if profile is not None:
            profiles[name] = profile
    return profiles


def _prediction_profile(
    reference: ModelReference, kind: Kind | None, predictions: list[Any]
) -> FieldProfile | None:
    if kind is None or reference.target_field is None:
        return None
    values = [reference.predicted_value(result) for result in predictions]
    return build_profile(reference.target_field, kind, values)
