"""``model-service serve --mlflow-model PATH`` under real gunicorn, with batching on."""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.mlflow import saved_models
from tests.server.conftest import service_env, wait_for
from tests.support import RunningService, run_service

pyfunc = pytest.importorskip("mlflow.pyfunc", reason="the mlflow extra is not installed")
import pandas as pd  # noqa: E402

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def mlflow_service(saved: dict[str, Path]) -> Iterator[RunningService]:
    args = ["--workers", "2", "--mlflow-model", str(saved["classifier"])]
    args += ["--mlflow-model", str(saved["regressor"])]
    with run_service(args, env=service_env(BATCHING_ENABLED="true")) as service:
        wait_for(
            lambda: requests.get(service.url("/api/health/ready"), timeout=5).status_code == 200,
            "readiness",
        )
        yield service


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: v.isoformat() if isinstance(v, pd.Timestamp) else v for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def test_both_models_are_listed(mlflow_service: RunningService) -> None:
    models = requests.get(mlflow_service.url("/api/models"), timeout=10).json()["models"]

    assert {model["qualified_name"] for model in models} == {
        "iris_classifier",
        "rentals_regressor",
    }


def test_concurrent_single_predictions_equal_mlflow(
    mlflow_service: RunningService, saved: dict[str, Path]
) -> None:
    frame = saved_models.rentals_frame(rows=40)[0]
    expected = pyfunc.load_model(str(saved["regressor"])).predict(frame)
    url = mlflow_service.url("/api/models/rentals_regressor/predict")

    def predict(item: dict[str, Any]) -> float:
        response = requests.post(url, json=item, timeout=30)
        assert response.status_code == 200, response.text
        return float(response.json()["prediction"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        answered = list(pool.map(predict, rows(frame)))

    assert all(math.isclose(a, e, rel_tol=1e-9) for a, e in zip(answered, expected, strict=True))


def test_bad_datetime_is_a_400_naming_the_field(mlflow_service: RunningService) -> None:
    item = {"moment": "2026-13-45T00:00:00", "weather": "rain", "temperature": 12.0}

    response = requests.post(
        mlflow_service.url("/api/models/rentals_regressor/predict"), json=item, timeout=10
    )

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert [detail["path"] for detail in details] == [["moment"]]
