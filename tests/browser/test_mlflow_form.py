"""A person predicts from the form of an MLflow model that nobody wrote a package for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import PageGuard, screenshot, service_env
from tests.browser.forms import fill_form, shown_prediction
from tests.mlflow import saved_models
from tests.support import RunningService, run_service

pyfunc = pytest.importorskip("mlflow.pyfunc", reason="the mlflow extra is not installed")
import pandas as pd  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.server]

OpenContext = Callable[..., tuple[BrowserContext, PageGuard]]


@pytest.fixture(scope="module")
def saved_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("mlflow-browser")
    return {
        "iris_classifier": saved_models.save_iris_classifier(root),
        "rentals_regressor": saved_models.save_rentals_regressor(root),
    }


@pytest.fixture(scope="module")
def mlflow_service(saved_dirs: dict[str, Path]) -> Iterator[RunningService]:
    args = ["--workers", "1"]
    for path in saved_dirs.values():
        args += ["--mlflow-model", str(path)]
    with run_service(args, env=service_env(MODELS=[], LOAD_ENTRY_POINTS=False)) as service:
        yield service


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("name", ["iris_classifier", "rentals_regressor"])
def test_mlflow_model_predicts_from_its_generated_form(
    name: str,
    javascript: bool,
    saved_dirs: dict[str, Path],
    mlflow_service: RunningService,
    open_context: OpenContext,
) -> None:
    meta = requests.get(mlflow_service.url(f"/api/models/{name}/metadata"), timeout=10).json()
    example = meta["example_input"]
    frame = pd.DataFrame([example])
    if "moment" in frame:
        frame["moment"] = pd.to_datetime(frame["moment"])
    expected = pyfunc.load_model(str(saved_dirs[name])).predict(frame)[0]
    context, _ = open_context(java_script_enabled=javascript)
    page = context.new_page()

    page.goto(mlflow_service.url(f"/models/{name}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(meta["display_name"])
    expect(page.get_by_text("saved by MLflow")).to_be_visible()
    if javascript:
        screenshot(page, f"mlflow-{name}-card")
    page.get_by_role("link", name="Try it").click()
    fill_form(page, meta["input_schema"], example)
    page.get_by_role("button", name="Predict", exact=True).click()

    shown = shown_prediction(page)
    if isinstance(expected, float):
        assert shown == pytest.approx(expected, rel=1e-9)
    else:
        assert shown == expected
    if javascript:
        screenshot(page, f"mlflow-{name}-prediction")
