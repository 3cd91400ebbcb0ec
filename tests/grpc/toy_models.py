"""A toy model for the gRPC server tests: one that takes as long as it is told."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from schema import Optional, Schema

from model_service.ml_model import MLModel


class SlowModel(MLModel):
    """Sleeps ``seconds``; first touches ``marker`` (a file path), so a test knows it started."""

    qualified_name = "slow"
    display_name = "Slow"
    description = "Sleeps as long as it is told."
    version = "1.0.0"
    input_schema = Schema({"seconds": float, Optional("marker"): str})
    output_schema = Schema({"slept": float})

    def example_input(self) -> dict[str, Any]:
        return {"seconds": 0.0}

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("marker"):
            Path(data["marker"]).touch()
        time.sleep(data["seconds"])
        return {"slept": data["seconds"]}
