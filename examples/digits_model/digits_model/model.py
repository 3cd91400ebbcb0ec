"""The digits classifier as a model-service :class:`MLModel`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from schema import And, Literal, Schema

from digits_model.features import DIGITS, PIXELS
from model_service.artifacts import load_artifact, load_reference_data
from model_service.fields import Length, Range
from model_service.ml_model import MLModel

ARTIFACT = Path(__file__).parent / "artifacts" / "model.joblib"
REFERENCE = Path(__file__).parent / "data" / "reference.json"


class DigitsModel(MLModel):
    """Logistic regression on the standardised pixels of an 8x8 grey-scale image."""

    qualified_name = "digits_model"
    display_name = "Handwritten digit classifier"
    description = (
        "Recognises a handwritten digit (0-9) in an 8x8 grey-scale image given as 64 pixel "
        "intensities from 0 (white) to 16 (black)."
    )
    version = "1.0.0"
    target_field = "digit"
    input_schema = Schema(
        {
            Literal(
                "pixels",
                description="The 64 pixel intensities of the 8x8 image, row by row from the top "
                "left (row-major), each from 0 (white) to 16 (black).",
            ): And([And(float, Range(0, 16))], Length(PIXELS, PIXELS)),
        },
        name="DigitsInput",
    )
    output_schema = Schema(
        {
            Literal("digit", description="The most probable digit."): And(int, Range(0, 9)),
            Literal("probabilities", description="Probability of each digit."): {
                digit: And(float, Range(0.0, 1.0)) for digit in DIGITS
            },
        },
        name="DigitsOutput",
    )

    def __init__(self) -> None:
        self._pipeline, self._record = load_artifact(ARTIFACT)

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.predict_batch([data])[0]

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        images = np.array([item["pixels"] for item in items], dtype=float)
        probabilities = self._pipeline.predict_proba(images)
        return [
            {
                "digit": int(row.argmax()),
                "probabilities": dict(zip(DIGITS, row.tolist(), strict=True)),
            }
            for row in probabilities
        ]

    def model_card(self) -> dict[str, Any]:
        record = self._record
        return {
            "training_data": (
                "The UCI handwritten digits as shipped with scikit-learn (8x8 images, 0-16 "
                f"intensity): {record['training_rows']} images for training, "
                f"{record['test_rows']} held out (stratified, seed {record['seed']})."
            ),
            "estimator": "StandardScaler + LogisticRegression (scikit-learn "
            f"{record['sklearn_version']})",
            "metrics": record["metrics"],
            "pixel_importance": record["pixel_importance"],
            "baseline": record["baseline"],
            "limitations": [
                "Only 8x8 images with intensities 0-16, centred and scaled like the training "
                "scans; photos or larger images must be reduced the same way first.",
                "Always answers one of the ten digits, even for an image of something else: "
                "a low top probability is the sign of an unfamiliar image.",
                "Trained on about 1,350 images written by a few dozen people.",
            ],
        }

    def reference_data(self) -> list[dict[str, Any]]:
        return load_reference_data(REFERENCE)

    def example_input(self) -> dict[str, Any]:
        return {"pixels": list(self._record["example"]["pixels"])}
