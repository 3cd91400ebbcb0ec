"""Against the real service: concurrent requests for one model share ``predict_batch`` calls,
as the ``model_service_batch_size`` histogram on ``/metrics`` shows."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from schema import Schema

from model_service.ml_model import MLModel
from tests.support import run_service

CLIENTS = 24
REQUESTS_PER_CLIENT = 5


class SlowDoubler(MLModel):
    """Spends 20 ms in each ``predict_batch`` outside the GIL, like a native estimator, so
    requests arriving meanwhile have to queue (the server imports it from this module)."""

    qualified_name = "slow_doubler"
    display_name = "Slow doubler"
    description = "Doubles x, slowly."
    version = "1.0.0"
    input_schema = Schema({"x": float})
    output_schema = Schema({"y": float})

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.predict_batch([data])[0]

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        time.sleep(0.02)
        return [{"y": item["x"] * 2} for item in items]


def batch_size_samples(base_url: str) -> dict[str, float]:
    """The batch-size histogram's samples for slow_doubler, by sample name (and ``le``)."""
    text = requests.get(base_url + "/metrics", timeout=10).text
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "model_service_batch_size":
            continue
        for sample in family.samples:
            if sample.labels.get("model") == "slow_doubler":
                key = sample.name + (f"[{sample.labels['le']}]" if "le" in sample.labels else "")
                samples[key] = samples.get(key, 0.0) + sample.value
    return samples


@pytest.mark.server
@pytest.mark.parametrize("worker_class", ["gthread", "gevent"])
def test_concurrent_requests_are_predicted_in_shared_batches(worker_class: str) -> None:
    env = {
        "MODEL_SERVICE_MODELS": json.dumps(
            [{"module_name": __name__, "class_name": SlowDoubler.__name__}]
        ),
        "MODEL_SERVICE_LOAD_ENTRY_POINTS": "false",
        "MODEL_SERVICE_BATCHING_ENABLED": "true",
    }
    args = ["--workers", "1", "--worker-class", worker_class, "--threads", str(CLIENTS)]
    with run_service(args, env) as service:
        url = service.url("/api/models/slow_doubler/predict")
        before = batch_size_samples(service.base_url)

        def client(number: int) -> list[Any]:
            with requests.Session() as session:
                return [
                    session.post(url, json={"x": number}, timeout=30).json()
                    for _ in range(REQUESTS_PER_CLIENT)
                ]

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(client, range(CLIENTS)))
        after = batch_size_samples(service.base_url)

    assert answers == [[{"y": 2.0 * n}] * REQUESTS_PER_CLIENT for n in range(CLIENTS)]
    items = after["model_service_batch_size_sum"] - before.get("model_service_batch_size_sum", 0)
    batches = after["model_service_batch_size_count"] - before.get(
        "model_service_batch_size_count", 0
    )
    assert items == CLIENTS * REQUESTS_PER_CLIENT
    assert batches < items, "every request was predicted alone: nothing was batched"
    single = after["model_service_batch_size_bucket[1.0]"] - before.get(
        "model_service_batch_size_bucket[1.0]", 0
    )
    assert single < batches
