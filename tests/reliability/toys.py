"""Toy models for the reliability tests, loaded by the real server through
``MODEL_SERVICE_MODELS`` (the server's working directory is the repository root)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from schema import Optional, Schema

from model_service.ml_model import MLModel

HANG_SECONDS = 10.0
"""How long :class:`HangingModel` blocks: far past the tests' prediction timeout (1 s) and their
clients' patience, yet bounded so that a test server still stops gracefully."""

ARTIFACT_ENV = "RELIABILITY_ARTIFACT"
"""Environment variable naming the file :class:`ArtifactModel` reads its answer from."""


class _ToyModel(MLModel):
    display_name = "Toy"
    description = "A reliability test toy."
    version = "1.0.0"
    input_schema = Schema({"x": float, Optional("label"): str})
    output_schema = Schema({"y": float})

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.predict_batch([data])[0]


class DoubleModel(_ToyModel):
    """Answers ``2x``: the healthy neighbour that must keep serving."""

    qualified_name = "double"

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"y": 2 * item["x"]} for item in items]


class FlakyModel(_ToyModel):
    """Raises for a whole batch when any row has a negative ``x``, as a vectorised model would."""

    qualified_name = "flaky"

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        if any(item["x"] < 0 for item in items):
            raise ValueError("negative input /srv/secret/model.py")
        return [{"y": item["x"]} for item in items]


class HangingModel(_ToyModel):
    """Blocks for :data:`HANG_SECONDS` on a negative ``x``; answers ``x`` otherwise."""

    qualified_name = "hanging"

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        if any(item["x"] < 0 for item in items):
            time.sleep(HANG_SECONDS)
        return [{"y": item["x"]} for item in items]


class ArtifactModel(_ToyModel):
    """Reads its answer from the file named by ``$RELIABILITY_ARTIFACT`` when instantiated, like
    a model that loads retrained parameters: a reload makes a new file's value take effect."""

    qualified_name = "artifact"

    def __init__(self) -> None:
        path = os.environ.get(ARTIFACT_ENV)
        self.answer = float(Path(path).read_text()) if path else 0.0

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"y": self.answer} for _ in items]


class ArtifactModelV2(ArtifactModel):
    """A second version of :class:`ArtifactModel`, loaded through the admin API."""

    version = "2.0.0"


class NotAModel:
    """Not derived from :class:`MLModel`: the admin API must refuse to load it."""

    qualified_name = "not_a_model"


class BrokenSchemaModel(_ToyModel):
    """Declares an input schema the service cannot compile: loading it must fail cleanly."""

    qualified_name = "broken_schema"
    input_schema = Schema({object(): float})
