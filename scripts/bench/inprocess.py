"""The in-process limit: how fast the iris model predicts with no HTTP at all, and what each
step of our request path (parse, validate, predict, check, encode) costs per item."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from model_service.model_manager import ModelManager
from model_service.prediction import check_outputs, validate_items

EXAMPLE = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def per_second(action: Callable[[], Any], seconds: float) -> float:
    """Calls of ``action`` per second, measured for about ``seconds``."""
    action()
    calls, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(10):
            action()
        calls += 10
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - started)


def measure(seconds: float = 1.0) -> dict[str, float]:
    """Calls/s and rows/s of the model alone, and microseconds per item of each request step."""
    from iris_model.model import IrisModel

    served = ModelManager().add_model_class(IrisModel)
    model, one, hundred = served.model, [EXAMPLE], [EXAMPLE] * 100
    body = orjson.dumps(hundred)
    results = model.predict_batch(hundred)
    single = per_second(lambda: model.predict(EXAMPLE), seconds)
    batch = per_second(lambda: model.predict_batch(hundred), seconds)
    steps = {
        "parse_us": lambda: orjson.loads(body),
        "validate_us": lambda: validate_items(served, hundred, True),
        "predict_us": lambda: model.predict_batch(hundred),
        "check_outputs_us": lambda: check_outputs(served, results),
        "encode_us": lambda: orjson.dumps(results),
    }
    costs = {name: 1e6 / per_second(step, seconds / 4) / 100 for name, step in steps.items()}
    return {
        "single_calls_per_s": single,
        "batch100_rows_per_s": batch * 100,
        "single_validate_us": 1e6 / per_second(lambda: validate_items(served, one, False), 0.25),
        **{f"per_row_{name}": value for name, value in costs.items()},
    }


if __name__ == "__main__":
    for name, value in measure().items():
        print(f"{name:32} {value:12.1f}")
