"""The index, model card and error pages, in Chromium, at desktop and phone widths."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DESKTOP,
    check_both_widths,
    screenshot,
    served_model_names,
)
from tests.browser.forms import example_model_names
from tests.browser.toy_models import HOSTILE_TEXT
from tests.support import RunningService

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_index_shows_a_card_per_model_and_finds_them_by_search(
    example_service: RunningService, page: Page
) -> None:
    models = requests.get(example_service.url("/api/models"), timeout=10).json()["models"]
    page.goto(example_service.url("/"))
    cards = page.locator(".model-card-item")
    expect(cards).to_have_count(len(models))
    for model in models:
        card = cards.filter(has=page.get_by_role("heading", name=model["display_name"]))
        expect(card).to_contain_text(model["description"])
        expect(card).to_contain_text(f"v{model['version']}")
        expect(card.get_by_role("link", name="Try it")).to_be_visible()
    check_both_widths(page, "index")


def test_search_filters_the_cards_as_you_type_and_without_script(
    example_service: RunningService, page: Page
) -> None:
    models = requests.get(example_service.url("/api/models"), timeout=10).json()["models"]
    first_word = models[0]["display_name"].split()[0]
    page.goto(example_service.url("/?q="))  # the box shows by itself from four models on
    cards = page.locator(".model-card-item")
    search = page.get_by_label("Search models")
    search.fill(first_word)
    expect(cards.filter(visible=True)).to_have_count(1)
    search.fill("no model is called like this")
    expect(cards.filter(visible=True)).to_have_count(0)
    expect(page.get_by_text("No model matches your search.")).to_be_visible()

    page.goto(example_service.url(f"/?q={first_word}"))
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(models[0]["display_name"])


@pytest.mark.parametrize("name", example_model_names())
def test_model_card_page_shows_fields_card_and_links(
    name: str, example_service: RunningService, page: Page
) -> None:
    assert name in served_model_names(example_service)
    meta = requests.get(example_service.url(f"/api/models/{name}/metadata"), timeout=10).json()
    page.goto(example_service.url(f"/models/{name}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(meta["display_name"])
    inputs = page.locator("section", has=page.get_by_role("heading", name="What it takes"))
    for field in meta["input_schema"]["properties"]:
        expect(inputs.get_by_role("rowheader", name=field)).to_be_visible()
    card = meta["model_card"] or {}
    if card.get("limitations"):
        expect(page.get_by_role("heading", name="Known limitations")).to_be_visible()
    if card.get("feature_importances"):
        expect(page.get_by_role("list", name="Feature importances").locator("li")).to_have_count(
            len(card["feature_importances"])
        )
    if "confusion_matrix" in (card.get("metrics") or {}):
        expect(page.locator("table.confusion-matrix")).to_be_visible()
    expect(page.get_by_role("link", name="JSON metadata")).to_have_attribute(
        "href", f"/api/models/{name}/metadata"
    )
    expect(page.get_by_role("link", name="API docs").last).to_have_attribute(
        "href", f"/api/docs#/{name}"
    )
    check_both_widths(page, f"{name}-model")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Try it").click()
    expect(page).to_have_url(example_service.url(f"/models/{name}/predict"))
    check_both_widths(page, f"{name}-predict")


def test_version_pages_serve_the_pinned_version(
    example_service: RunningService, page: Page
) -> None:
    page.goto(example_service.url("/models/iris_model/versions/1.0.0"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Iris species classifier")
    page.get_by_role("link", name="Try it").click()
    expect(page).to_have_url(example_service.url("/models/iris_model/versions/1.0.0/predict"))


@pytest.mark.parametrize(
    "path", ["/models/no_such_model", "/models/iris_model/versions/9.9.9/predict"]
)
def test_unknown_model_gets_a_friendly_html_page(
    path: str, example_service: RunningService, page: Page
) -> None:
    response = page.goto(example_service.url(path))
    assert response is not None and response.status == 404
    assert "text/html" in response.headers["content-type"]
    expect(page.get_by_role("heading", level=1)).to_have_text("Model not found")
    expect(page.get_by_role("link", name="See every model")).to_be_visible()
    screenshot(page, "not-found-phone" if "predict" in path else "not-found-desktop")


def test_failed_model_is_listed_with_its_error_and_hostile_text_stays_text(
    toy_service: RunningService, page: Page
) -> None:
    page.goto(toy_service.url("/"))
    failed = page.locator(".model-card.failed")
    expect(failed.get_by_text("Failed to load")).to_be_visible()
    expect(failed).to_contain_text("artifacts/missing.joblib")
    expect(failed).to_contain_text(HOSTILE_TEXT)
    hostile = page.locator(".model-card-item", has_text="Hostile <b>model</b>")
    expect(hostile).to_contain_text(HOSTILE_TEXT)
    screenshot(page, "index-with-failure-desktop")

    for path in ("/models/hostile_model", "/models/hostile_model/predict"):
        page.goto(toy_service.url(path))
        expect(page.get_by_text(HOSTILE_TEXT).first).to_be_visible()
        assert page.evaluate("window.__xss") is None
        assert page.locator("main script, main img[src='x']").count() == 0
