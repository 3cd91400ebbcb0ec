"""What checking a request costs per row: input validation and the output check of each example
model, for a single item and a 100-row batch, in microseconds per row (best of several runs).

    python scripts/bench/validation_cost.py          # a table
    python scripts/bench/validation_cost.py --json   # the same figures as JSON

Each figure is measured twice in the same run: "batch" is the service as it is (the compiled batch
function, row validator on any doubt), "rows" the row validator alone (the batch function turned
off), so the two are compared under the same load on a shared machine. The rows differ from each
other (seeded noise around the model's example input, some numbers sent as JSON integers).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
import timeit
from collections.abc import Callable
from typing import Any

from model_service.model_manager import ModelManager, ServedModel
from model_service.prediction import check_outputs, validate_items

BATCH_SIZES = (1, 100)


def _vary(value: Any, rng: random.Random) -> Any:
    """A nearby value of the same kind; a quarter of whole-number floats are sent as integers."""
    if isinstance(value, bool) or not isinstance(value, float):
        return [_vary(item, rng) for item in value] if isinstance(value, list) else value
    if value.is_integer() and rng.random() < 0.25:
        return int(value)
    return round(value * rng.uniform(0.9, 1.0), 2)


def rows(served: ServedModel, count: int, seed: int = 14) -> list[dict[str, Any]]:
    """``count`` valid inputs close to the model's example input."""
    rng = random.Random(seed)
    example = served.example_input or {}
    return [{name: _vary(value, rng) for name, value in example.items()} for _ in range(count)]


def microseconds_per_row(action: Callable[[], Any], row_count: int, repeat: int = 5) -> float:
    """The best of ``repeat`` timings of ``action``, per row, in CPU time of this process (wall
    time on a machine shared with other jobs counts the time they hold the core)."""
    timer = timeit.Timer(action, timer=time.process_time)
    calls, _ = timer.autorange()
    return min(timer.repeat(repeat, calls)) / calls / row_count * 1e6


def row_by_row(served: ServedModel) -> ServedModel:
    """``served`` with its batch functions turned off: every value through the row validator."""

    def refuse(values: object) -> None:
        return None

    return dataclasses.replace(
        served,
        input_schema=dataclasses.replace(served.input_schema, clean_batch=refuse),
        output_schema=dataclasses.replace(served.output_schema, clean_batch=refuse),
    )


def costs_of(served: ServedModel, size: int) -> dict[str, float]:
    """Microseconds per row of ``validate_items`` and ``check_outputs`` for ``size`` rows."""
    items, batch = rows(served, size), size > 1
    results = served.model.predict_batch(validate_items(served, items, batch))
    return {
        f"validate_{size}": microseconds_per_row(
            lambda: validate_items(served, items, batch), size
        ),
        f"check_{size}": microseconds_per_row(lambda: check_outputs(served, results), size),
    }


def measure() -> dict[str, dict[str, float]]:
    """``{"<model> batch": {"validate_1": us, "check_1": us, ...}, "<model> rows": {...}}``."""
    from bike_demand_model.model import BikeDemandModel
    from digits_model.model import DigitsModel
    from iris_model.model import IrisModel

    manager = ModelManager()
    figures: dict[str, dict[str, float]] = {}
    for model_class in (IrisModel, BikeDemandModel, DigitsModel):
        served = manager.add_model_class(model_class)
        for way, model in (("batch", served), ("rows", row_by_row(served))):
            costs: dict[str, float] = {}
            for size in BATCH_SIZES:
                costs.update(costs_of(model, size))
            figures[f"{served.qualified_name} {way}"] = costs
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    figures = measure()
    if parser.parse_args().json:
        print(json.dumps(figures, indent=2))
        return
    columns = [f"{step}_{size}" for size in BATCH_SIZES for step in ("validate", "check")]
    print(f"{'us per row':24}" + "".join(f"{column:>13}" for column in columns))
    for model, costs in figures.items():
        print(f"{model:24}" + "".join(f"{costs[column]:13.2f}" for column in columns))


if __name__ == "__main__":
    main()
