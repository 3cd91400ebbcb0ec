"""The reference sample monitoring compares live inputs with: the training split's rows.

Run ``python -m iris_model.reference`` to write ``data/reference.json``; the split is the one
:mod:`iris_model.train` fits on (same seed), so the file is the same on every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from iris_model.features import FEATURES
from iris_model.train import SEED
from model_service.artifacts import save_reference_data

REFERENCE = Path(__file__).parent / "data" / "reference.json"


def reference_items() -> list[dict[str, Any]]:
    """Every training row (105 flowers) as an input item."""
    data = load_iris()
    x_train, _, _, _ = train_test_split(
        data.data, data.target, test_size=0.3, random_state=SEED, stratify=data.target
    )
    return [
        {name: round(float(value), 2) for name, value in zip(FEATURES, row, strict=True)}
        for row in x_train
    ]


if __name__ == "__main__":
    save_reference_data(reference_items(), REFERENCE)
    print(f"Wrote {REFERENCE}")
