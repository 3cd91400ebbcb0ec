"""Toy models for the real-server tests: each makes one server behaviour observable.

They are configured through ``MODEL_SERVICE_MODELS`` (the server's working directory is the
repository root, so ``tests.server.toy_models`` imports) and read their test hooks from
environment variables, since they run inside gunicorn workers.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from schema import Schema

from model_service.ml_model import MLModel

GATE_DIRECTORY_ENV = "TOY_GATE_DIR"
WARM_UP_GATE_ENV = "TOY_WARM_UP_GATE"
GATE_WAIT_LIMIT_S = 60.0


def wait_for_gate(gate: str) -> None:
    """Mark ``<gate>.started``, then wait until the test creates ``<gate>.open``."""
    directory = Path(os.environ[GATE_DIRECTORY_ENV])
    (directory / f"{gate}.started").touch()
    deadline = time.monotonic() + GATE_WAIT_LIMIT_S
    while not (directory / f"{gate}.open").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


class GatedModel(MLModel):
    """Answers with the worker's pid; an item naming a gate waits until the test opens it.

    Its example input (what the warm-up predicts) names the gate in ``TOY_WARM_UP_GATE``, so a
    test can hold a worker in its warm-up for as long as it likes.
    """

    qualified_name = "gated"
    display_name = "Gated"
    description = "Waits for a file before answering; reports the worker's pid."
    version = "1.0.0"
    input_schema = Schema({"gate": str})
    output_schema = Schema({"gate": str, "pid": int})

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["gate"]:
            wait_for_gate(data["gate"])
        return {"gate": data["gate"], "pid": os.getpid()}

    def example_input(self) -> dict[str, Any]:
        return {"gate": os.environ.get(WARM_UP_GATE_ENV, "")}


class ForkUnsafeModel(MLModel):
    """Works only in the process that loaded it, like a model holding a thread pool or a device
    context that does not survive ``fork``."""

    qualified_name = "fork_unsafe"
    display_name = "Fork-unsafe"
    description = "Refuses to predict in a process other than the one that loaded it."
    version = "1.0.0"
    input_schema = Schema({"x": float})
    output_schema = Schema({"y": float, "pid": int})

    def __init__(self) -> None:
        self.loaded_in = os.getpid()

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        if os.getpid() != self.loaded_in:
            raise RuntimeError("loaded in another process: this model cannot cross a fork")
        return {"y": data["x"] * 2, "pid": os.getpid()}

    def example_input(self) -> dict[str, Any]:
        return {"x": 1.0}
