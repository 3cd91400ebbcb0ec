"""A person predicts with each example model from its generated form, with and without script."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from model_service.model_manager import ModelManager
from tests.browser.conftest import (
    PHONE,
    PageGuard,
    assert_fits_the_width,
    screenshot,
    served_model_names,
)
from tests.browser.forms import example_model_names, fill_form, headline_field, shown_prediction
from tests.support import RunningService

pytestmark = [pytest.mark.browser, pytest.mark.server]

OpenContext = Callable[..., tuple[BrowserContext, PageGuard]]


def metadata(service: RunningService, name: str) -> dict[str, Any]:
    response = requests.get(service.url(f"/api/models/{name}/metadata"), timeout=10)
    response.raise_for_status()
    return response.json()


def expected_headline(local_models: ModelManager, name: str, item: dict[str, Any]) -> Any:
    """What the model itself answers for ``item``, computed in this process."""
    served = local_models.get_model(name)
    cleaned, problems = served.input_schema.validate(item)
    assert not problems
    result = served.model.predict_batch([cleaned])[0]
    return result[headline_field(served.output_schema.json_schema)]


def assert_same(shown: Any, expected: Any) -> None:
    if isinstance(expected, float):
        assert math.isclose(shown, expected, rel_tol=1e-9), (shown, expected)
    else:
        assert shown == expected


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("name", example_model_names())
def test_example_model_predicts_from_its_generated_form(
    name: str,
    javascript: bool,
    example_service: RunningService,
    local_models: ModelManager,
    open_context: OpenContext,
) -> None:
    assert name in served_model_names(example_service)
    meta = metadata(example_service, name)
    context, _ = open_context(java_script_enabled=javascript)
    page = context.new_page()

    page.goto(example_service.url("/"))
    page.get_by_role("link", name=meta["display_name"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(meta["display_name"])
    page.get_by_role("link", name="Try it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Try {meta['display_name']}")

    fill_form(page, meta["input_schema"], meta["example_input"])
    page.get_by_role("button", name="Predict", exact=True).click()

    shown = shown_prediction(page)
    assert_same(shown, expected_headline(local_models, name, meta["example_input"]))
    if javascript:
        expect(page).to_have_url(example_service.url(f"/models/{name}/predict"))
    if local_models.get_model(name).model.explainable:
        contributions = page.locator("#contributions li")
        expect(contributions.first).to_be_visible()
        expect(page.locator("#explanation-sentence")).to_contain_text("Each bar shows")
    if javascript:
        screenshot(page, f"{name}-predict-result-desktop")
        page.set_viewport_size(PHONE)
        assert_fits_the_width(page)
        screenshot(page, f"{name}-predict-result-phone")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_fill_with_example_then_predict_keeps_the_values(
    javascript: bool, example_service: RunningService, open_context: OpenContext
) -> None:
    meta = metadata(example_service, "iris_model")
    context, _ = open_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(example_service.url("/models/iris_model/predict"))
    page.get_by_role("link", name="Fill with example").click()
    first_field, first_value = next(iter(meta["example_input"].items()))
    label = first_field.replace("_", " ").capitalize()
    expect(page.get_by_label(label, exact=True)).to_have_value(str(first_value))
    page.get_by_label(label, exact=True).fill("6.3")
    page.get_by_role("button", name="Predict", exact=True).click()
    shown_prediction(page)
    expect(page.get_by_label(label, exact=True)).to_have_value("6.3")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_out_of_range_value_shows_inline_error_and_never_reaches_predict(
    javascript: bool, toy_service: RunningService, open_context: OpenContext
) -> None:
    context, _ = open_context(java_script_enabled=javascript)
    page = context.new_page()
    api_statuses: list[int] = []
    page.on(
        "response",
        lambda response: api_statuses.append(response.status) if "/api/" in response.url else None,
    )
    page.goto(toy_service.url("/models/hostile_model/predict"))
    field = page.get_by_label("X", exact=True)

    field.fill("4")
    page.get_by_role("button", name="Predict", exact=True).click()
    calls_before = int(page.locator(".result-details dd").first.inner_text())

    field.fill("50")
    page.get_by_role("button", name="Predict", exact=True).click()
    error = page.locator("#error-x")
    expect(error).to_be_visible()
    expect(error).to_contain_text("out of range")
    expect(page.get_by_role("alert")).to_contain_text("cannot predict")
    expect(field).to_have_attribute("aria-invalid", "true")
    if javascript:
        assert api_statuses[-1] == 400
    screenshot(page, f"inline-error-{'js' if javascript else 'no-js'}")

    page.get_by_label("X", exact=True).fill("5")
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(page.locator("#prediction-value")).to_contain_text("10")
    expect(page.locator(".result-details dd").first).to_have_text(str(calls_before + 1))
    expect(page.locator("#error-x")).to_be_hidden()


def test_keyboard_alone_fills_and_submits_the_form(
    example_service: RunningService, page: Page
) -> None:
    page.goto(example_service.url("/models/iris_model/predict?example=1"))
    page.get_by_label("Sepal length", exact=True).focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("6.7")
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(page.get_by_label("Petal width", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#prediction-value")).to_be_visible()
