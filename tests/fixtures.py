"""Toy models for the tests: small, deterministic, each showing one behaviour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schema import And, Literal, Optional, Or, Schema

from model_service.fields import Date, Length, Range
from model_service.ml_model import MLModel


class EchoModel(MLModel):
    """Returns a summary of its validated input, so tests can see what reached predict."""

    qualified_name = "echo"
    display_name = "Echo"
    description = "Echoes what it receives."
    version = "1.0.0"
    input_schema = Schema(
        {
            Literal("x", description="A number from 0 to 100."): And(float, Range(0, 100)),
            "count": int,
            "flag": bool,
            "colour": Or("red", "green", "blue"),
            Optional("note", default="none"): And(str, Length(max_length=20)),
            Optional("day"): Date(),
            Optional("values"): And([float], Length(1, 3)),
        }
    )
    output_schema = Schema({"received": dict, "calls": int})

    def __init__(self) -> None:
        self.calls = 0
        self.batch_sizes: list[int] = []

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        return {"received": data, "calls": self.calls}

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        self.batch_sizes.append(len(items))
        return [self.predict(item) for item in items]

    def example_input(self) -> dict[str, Any]:
        return {"x": 1.5, "count": 2, "flag": True, "colour": "red"}


class EchoModelV2(EchoModel):
    """A second version of :class:`EchoModel` served side by side."""

    version = "2.0.0"

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"received": {**data, "version": 2}, "calls": 0}


class ErrorModel(MLModel):
    """Raises on every prediction."""

    qualified_name = "error_model"
    display_name = "Always fails"
    description = "Raises RuntimeError with a secret in the message."
    version = "0.1.0"
    input_schema = Schema({"x": float})
    output_schema = Schema({"y": float})

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("secret-internal-detail /srv/model.py")


class WrongOutputModel(MLModel):
    """Returns a result that breaks its own output schema."""

    qualified_name = "wrong_output"
    display_name = "Wrong output"
    description = "Returns a string where its schema promises a number."
    version = "0.1.0"
    input_schema = Schema({"x": float})
    output_schema = Schema({"y": float})

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"y": "not a number"}


class FailingLoadModel(MLModel):
    """Fails in its constructor, like a model whose artifact is missing."""

    qualified_name = "failing_load"
    display_name = "Fails to load"
    description = "Its constructor raises."
    version = "1.0.0"
    input_schema = Schema({"x": float})
    output_schema = Schema({"y": float})

    def __init__(self) -> None:
        raise FileNotFoundError("artifacts/missing.joblib")

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"y": 0.0}


class NotAModel:
    """A class that does not derive from MLModel."""

    qualified_name = "not_a_model"


def entry(cls: type) -> dict[str, str]:
    """The configuration entry that names ``cls``."""
    return {"module_name": cls.__module__, "class_name": cls.__name__}
