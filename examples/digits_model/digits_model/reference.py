"""The reference sample monitoring compares live inputs with: 600 training images.

Run ``python -m digits_model.reference`` to write ``data/reference.json``; the images are the
first 600 of the split :mod:`digits_model.train` fits on (same seed). Pixels are an array, which
monitoring does not bin; the predicted digit is profiled for drift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from digits_model.train import SEED
from model_service.artifacts import save_reference_data

REFERENCE = Path(__file__).parent / "data" / "reference.json"
SAMPLE = 600


def reference_items() -> list[dict[str, Any]]:
    """The first :data:`SAMPLE` training images as input items."""
    data = load_digits()
    x_train, _, _, _ = train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED, stratify=data.target
    )
    return [{"pixels": [int(value) for value in row]} for row in x_train[:SAMPLE]]


if __name__ == "__main__":
    save_reference_data(reference_items(), REFERENCE)
    print(f"Wrote {REFERENCE}")
