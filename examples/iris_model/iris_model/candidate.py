"""Version 1.1.0 of the iris classifier: the candidate of the roll-out walk-through
(docs/rollout.md).

Same features, schemas and pipeline as 1.0.0, with a stronger regularisation (``C=0.05``), so its
probabilities differ everywhere and its labels on a few flowers near the versicolor / virginica
border. It is not registered as an entry point: load it beside 1.0.0 through the admin API with
``{"module_name": "iris_model.candidate", "class_name": "IrisCandidateModel"}``.
Run ``python -m iris_model.candidate`` to train its artifact again.
"""

from __future__ import annotations

from pathlib import Path

from iris_model.model import IrisModel
from iris_model.train import train
from model_service.artifacts import load_artifact

ARTIFACT = Path(__file__).parent / "artifacts" / "candidate.joblib"
REGULARISATION = 0.05


class IrisCandidateModel(IrisModel):
    """Logistic regression on standardised measurements, regularised more strongly."""

    version = "1.1.0"

    def __init__(self) -> None:
        self._pipeline, self._record = load_artifact(ARTIFACT)


if __name__ == "__main__":
    record = train(ARTIFACT, REGULARISATION)
    print(f"Saved {ARTIFACT} (sha256 {record['sha256'][:12]}...)")
