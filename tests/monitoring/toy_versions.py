"""A second version of the iris model for the version comparison tests (served next to 1.0.0 by
``MODELS`` settings, in this process or in a real server)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from iris_model.model import IrisModel

LONG_SEPAL_CM = 7.0


class IrisModelNext(IrisModel):
    """Version 1.1.0: the same schemas and answers as 1.0.0, except that a flower with sepals
    longer than :data:`LONG_SEPAL_CM` is always called versicolor, so the two versions disagree
    on exactly the items a test chooses."""

    version = "1.1.0"

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        results = super().predict_batch(items)
        for item, result in zip(items, results, strict=True):
            if item["sepal_length"] > LONG_SEPAL_CM:
                result["species"] = "versicolor"
        return results


IRIS_NEXT = {"module_name": "tests.monitoring.toy_versions", "class_name": "IrisModelNext"}
