"""V2 tests run on the toy models, two V2-only toys (:mod:`tests.v2.toy_models`) and the iris
example, whose mapping has every tensor layout a classifier needs (scalar inputs, the matrix
input, a BYTES and a 2-D output)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures import entry
from tests.v2.toy_models import FreeFormModel, SometimesModel

IRIS = {"module_name": "iris_model.model", "class_name": "IrisModel"}


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    extra = [IRIS, entry(FreeFormModel), entry(SometimesModel)]
    return {**settings, "MODELS": [*settings["MODELS"], *extra]}
