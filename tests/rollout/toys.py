"""Toy versions of one model, ``toy``, for routing and shadow tests: each answers with its version
so a test sees which one predicted; two shadow candidates misbehave (one raises, one hangs)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from schema import Schema

from model_service.ml_model import MLModel

HANG_SECONDS = 30.0


class ToyModel(MLModel):
    """Version 1.0.0: ``y`` is ``x``."""

    qualified_name = "toy"
    display_name = "Toy"
    description = "Answers with its version."
    version = "1.0.0"
    input_schema = Schema({"x": float})
    output_schema = Schema({"y": float, "version": str})
    factor = 1.0

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"y": data["x"] * self.factor, "version": self.version}

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.predict(item) for item in items]

    def example_input(self) -> dict[str, Any]:
        return {"x": 1.0}


class ToyCandidate(ToyModel):
    """Version 1.1.0: ``y`` is twice ``x``."""

    version = "1.1.0"
    factor = 2.0


class RaisingShadow(ToyModel):
    """Version 0.1.0: every prediction raises."""

    version = "0.1.0"

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("this shadow always fails")


class HangingShadow(ToyModel):
    """Version 0.2.0: every prediction hangs (far beyond any shadow timeout)."""

    version = "0.2.0"

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        threading.Event().wait(HANG_SECONDS)
        return super().predict(data)


TOYS = [ToyModel, ToyCandidate, RaisingShadow, HangingShadow]
