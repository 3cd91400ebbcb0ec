"""The iris classifier as a model-service :class:`MLModel`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from schema import And, Literal, Or, Schema

from iris_model.features import FEATURES, SPECIES
from model_service.artifacts import load_artifact, load_reference_data
from model_service.explanations import Contribution, Explanation
from model_service.fields import Example, Range, Unit
from model_service.ml_model import MLModel

ARTIFACT = Path(__file__).parent / "artifacts" / "model.joblib"
REFERENCE = Path(__file__).parent / "data" / "reference.json"

_DESCRIPTIONS = {
    "sepal_length": ("Sepal length", 5.1),
    "sepal_width": ("Sepal width", 3.5),
    "petal_length": ("Petal length", 1.4),
    "petal_width": ("Petal width", 0.2),
}


def _measurement(name: str) -> tuple[Literal, And]:
    label, example = _DESCRIPTIONS[name]
    key = Literal(name, description=f"{label} of the flower, in centimetres.")
    return key, And(float, Range(0.0, 10.0), Unit("cm"), Example(example))


class IrisModel(MLModel):
    """Logistic regression on standardised measurements of the iris flower."""

    qualified_name = "iris_model"
    display_name = "Iris species classifier"
    description = (
        "Predicts the species of an iris flower (setosa, versicolor or virginica) from four "
        "measurements of its sepals and petals."
    )
    version = "1.0.0"
    target_field = "species"
    input_schema = Schema(dict(_measurement(name) for name in FEATURES), name="IrisInput")
    output_schema = Schema(
        {
            Literal("species", description="The most probable species."): Or(*SPECIES),
            Literal("probabilities", description="Probability of each species."): {
                name: And(float, Range(0.0, 1.0)) for name in SPECIES
            },
        },
        name="IrisOutput",
    )

    def __init__(self) -> None:
        self._pipeline, self._record = load_artifact(ARTIFACT)

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.predict_batch([data])[0]

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = np.array([[item[name] for name in FEATURES] for item in items], dtype=float)
        probabilities = self._pipeline.predict_proba(rows)
        return [
            {
                "species": SPECIES[int(row.argmax())],
                "probabilities": dict(zip(SPECIES, row.tolist(), strict=True)),
            }
            for row in probabilities
        ]

    def explain(self, data: dict[str, Any]) -> Explanation:
        """Exact for this linear pipeline: the predicted class's score (its log-odds up to a
        constant shared by all classes) is ``sum(coef_j * z_j) + intercept`` in standardised
        units ``z``, so field j contributes ``coef_j * (z_j - z_baseline_j)``."""
        scaler = self._pipeline.named_steps["scale"]
        classifier = self._pipeline.named_steps["classify"]
        baseline = self._record["training_means"]
        values = np.array([[data[name] for name in FEATURES]], dtype=float)
        reference = np.array([[baseline[name] for name in FEATURES]], dtype=float)
        standardised, standardised_reference = scaler.transform(values), scaler.transform(reference)
        prediction = self.predict(data)
        index = SPECIES.index(prediction["species"])
        weights = classifier.coef_[index]
        contributions = weights * (standardised[0] - standardised_reference[0])
        score = float(classifier.decision_function(standardised)[0][index])
        return Explanation(
            method="linear_coefficients",
            target=f"score[{prediction['species']}]",
            prediction=prediction,
            explained_value=score,
            contributions=[
                Contribution(name, data[name], baseline[name], float(value))
                for name, value in zip(FEATURES, contributions, strict=True)
            ],
        )

    def model_card(self) -> dict[str, Any]:
        record = self._record
        return {
            "training_data": (
                f"Fisher's iris data set as shipped with scikit-learn: {record['training_rows']} "
                f"flowers for training, {record['test_rows']} held out (stratified, seed "
                f"{record['seed']})."
            ),
            "estimator": "StandardScaler + LogisticRegression (scikit-learn "
            f"{record['sklearn_version']})",
            "metrics": record["metrics"],
            "feature_importances": record["feature_importances"],
            "baseline": record["training_means"],
            "limitations": [
                "Trained on 105 flowers of three species; any other species is still classified "
                "as one of the three.",
                "Measurements outside the ranges seen in training (about 0.1-7.9 cm) extrapolate.",
            ],
        }

    def reference_data(self) -> list[dict[str, Any]]:
        return load_reference_data(REFERENCE)

    def example_input(self) -> dict[str, Any]:
        return {name: example for name, (_, example) in _DESCRIPTIONS.items()}
