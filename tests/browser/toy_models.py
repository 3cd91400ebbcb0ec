"""Toy models the browser tests serve next to (or instead of) the examples.

They run inside the service process started by the tests (``MODEL_SERVICE_MODELS`` names them),
so what they prove has to be visible through the page: :class:`HostileModel` reports how many
items reached ``predict`` in its own output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schema import And, Literal, Schema

from model_service.fields import Range, Unit
from model_service.ml_model import MLModel

HOSTILE_TEXT = '<script>window.__xss = 1; alert("xss")</script><img src=x onerror="alert(1)">'


class HostileModel(MLModel):
    """Model-provided text full of markup; counts every item that reaches ``predict``.

    Not explainable: an explanation would call ``predict_batch`` too and blur the count.
    """

    qualified_name = "hostile_model"
    display_name = "Hostile <b>model</b>"
    description = f"Tries to inject script: {HOSTILE_TEXT}"
    version = "1.0.0"
    explainable = False
    input_schema = Schema(
        {
            Literal("x", description=f"A number from 0 to 10. {HOSTILE_TEXT}"): And(
                float, Range(0, 10), Unit("m")
            )
        }
    )
    output_schema = Schema({"y": And(float, Unit("m")), "calls": int})

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.predict_batch([data])[0]

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        results = []
        for item in items:
            self.calls += 1
            results.append({"y": item["x"] * 2, "calls": self.calls})
        return results

    def model_card(self) -> dict[str, Any]:
        return {
            "training_data": HOSTILE_TEXT,
            "limitations": [HOSTILE_TEXT],
            "notes": {"markup": HOSTILE_TEXT},
        }

    def example_input(self) -> dict[str, Any]:
        return {"x": 1.5}


class BrokenModel(MLModel):
    """Fails to load with markup in its error message, like a model whose artifact is missing."""

    qualified_name = "broken_model"
    display_name = "Broken"
    description = "Never loads."
    version = "1.0.0"
    input_schema = Schema({"x": float})
    output_schema = Schema({"y": float})

    def __init__(self) -> None:
        raise FileNotFoundError(f"artifacts/missing.joblib {HOSTILE_TEXT}")

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"y": 0.0}
