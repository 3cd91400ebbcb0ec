"""The reference sample monitoring compares live inputs with: the training days.

Run ``python -m bike_demand_model.reference`` to write ``data/reference.json``; the days are the
ones :mod:`bike_demand_model.train` fits on (same generator, same seed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bike_demand_model.data import generate_days
from bike_demand_model.features import COLUMNS
from bike_demand_model.train import SEED, TEST_DAYS
from model_service.artifacts import save_reference_data

REFERENCE = Path(__file__).parent / "data" / "reference.json"


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def reference_items() -> list[dict[str, Any]]:
    """Every training day (730) as an input item."""
    rows, _ = generate_days(SEED)
    return [
        {name: _plain(value) for name, value in zip(COLUMNS, row, strict=True)}
        for row in rows[:-TEST_DAYS]
    ]


if __name__ == "__main__":
    save_reference_data(reference_items(), REFERENCE)
    print(f"Wrote {REFERENCE}")
