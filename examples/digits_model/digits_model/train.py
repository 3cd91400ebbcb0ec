"""Train the digits classifier reproducibly and save it beside the model code.

Run ``python -m digits_model.train``: the 1,797 8x8 images ship with scikit-learn, the split and
the estimator use a fixed seed, so the same scikit-learn version gives the same model and metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from digits_model.features import DIGITS, IMAGE_SIDE
from model_service.artifacts import save_artifact

SEED = 42
ARTIFACT = Path(__file__).parent / "artifacts" / "model.joblib"


def pixel_importance(pipeline: Pipeline) -> list[list[float]]:
    """Mean absolute weight of each pixel over the ten classes, as an 8x8 grid summing to 1."""
    weights = np.abs(pipeline.named_steps["classify"].coef_).mean(axis=0)
    return (weights / weights.sum()).reshape(IMAGE_SIDE, IMAGE_SIDE).round(4).tolist()


def clear_example(pipeline: Pipeline, images: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """The first held-out image the model recognises with at least 90 % confidence."""
    probabilities = pipeline.predict_proba(images)
    confident = (probabilities.argmax(axis=1) == labels) & (probabilities.max(axis=1) >= 0.9)
    index = int(np.flatnonzero(confident)[0])
    return {"pixels": images[index].tolist(), "label": int(labels[index])}


def train(artifact: Path = ARTIFACT) -> dict[str, Any]:
    """Fit on 75 % of the images, measure on the held-out 25 %, save; return the record."""
    data = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED, stratify=data.target
    )
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=0.1, max_iter=2000, random_state=SEED)),
        ]
    )
    pipeline.fit(x_train, y_train)
    predicted = pipeline.predict(x_test)
    return save_artifact(
        pipeline,
        artifact,
        seed=SEED,
        training_rows=len(x_train),
        test_rows=len(x_test),
        metrics={
            "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
            "confusion_matrix": {
                "labels": list(DIGITS),
                "matrix": confusion_matrix(y_test, predicted).tolist(),
            },
        },
        pixel_importance=pixel_importance(pipeline),
        baseline={"pixels": x_train.mean(axis=0).round(2).tolist()},
        example=clear_example(pipeline, x_test, y_test),
    )


if __name__ == "__main__":
    record = train()
    accuracy = record["metrics"]["accuracy"]
    print(f"Saved {ARTIFACT} (sha256 {record['sha256'][:12]}...), accuracy {accuracy}")
