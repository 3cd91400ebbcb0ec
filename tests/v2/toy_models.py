"""Toy models for shapes of schema the example models do not have."""

from __future__ import annotations

from typing import Any

from schema import Optional, Schema

from model_service.ml_model import MLModel


class FreeFormModel(MLModel):
    """Declares no fields: its items and results travel whole, as JSON text tensors."""

    qualified_name = "free_form"
    display_name = "Free form"
    description = "Counts the keys of whatever object it receives."
    version = "1.0.0"
    input_schema = Schema({str: object})
    output_schema = Schema({str: object})

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"keys": sorted(data)}


class SometimesModel(MLModel):
    """Returns an optional output only for some rows."""

    qualified_name = "sometimes"
    display_name = "Sometimes"
    description = "Adds a score when x is positive."
    version = "1.0.0"
    input_schema = Schema({"x": float})
    output_schema = Schema({"sign": int, Optional("score"): float})

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["x"] > 0:
            return {"sign": 1, "score": data["x"] * 2}
        return {"sign": -1}
