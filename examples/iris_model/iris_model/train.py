"""Train the iris pipeline reproducibly and save it beside the model code.

Run ``python -m iris_model.train``: the data ships with scikit-learn, the split and the estimator
use a fixed seed, so the same scikit-learn version produces the same model and the same metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from iris_model.features import FEATURES, SPECIES
from model_service.artifacts import save_artifact

SEED = 42
ARTIFACT = Path(__file__).parent / "artifacts" / "model.joblib"


def train(artifact: Path = ARTIFACT, regularisation: float = 1.0) -> dict[str, Any]:
    """Fit on 70 % of the iris data, measure on the held-out 30 %, save; return the record.

    :param regularisation: the logistic regression's ``C`` (smaller: stronger regularisation).
    """
    data = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=SEED, stratify=data.target
    )
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=regularisation, max_iter=1000, random_state=SEED)),
        ]
    )
    pipeline.fit(x_train, y_train)
    predicted = pipeline.predict(x_test)
    coefficients = pipeline.named_steps["classify"].coef_
    importance = np.abs(coefficients).mean(axis=0)
    return save_artifact(
        pipeline,
        artifact,
        seed=SEED,
        regularisation=regularisation,
        training_rows=len(x_train),
        test_rows=len(x_test),
        metrics={
            "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
            "confusion_matrix": {
                "labels": list(SPECIES),
                "matrix": confusion_matrix(y_test, predicted).tolist(),
            },
        },
        feature_importances={
            name: round(float(value / importance.sum()), 4)
            for name, value in zip(FEATURES, importance, strict=True)
        },
        training_means={
            name: round(float(value), 4)
            for name, value in zip(FEATURES, x_train.mean(axis=0), strict=True)
        },
    )


if __name__ == "__main__":
    record = train()
    accuracy = record["metrics"]["accuracy"]
    print(f"Saved {ARTIFACT} (sha256 {record['sha256'][:12]}...), accuracy {accuracy}")
