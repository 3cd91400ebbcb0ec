"""Swagger UI at /api/docs: vendored assets only, no inline code, and "Try it out" works."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from model_service.openapi.views import SWAGGER_UI_VERSION
from tests.support import REPO_ROOT, RunningService

VENDOR = REPO_ROOT / "model_service" / "static" / "vendor" / "swagger-ui"


class PageAudit(HTMLParser):
    """Collects what a strict Content-Security-Policy would refuse, and every asset URL."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_code: list[str] = []
        self.assets: list[str] = []
        self.spec_urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "style":
            self.inline_code.append("<style>")
        if tag == "script" and not attributes.get("src"):
            self.inline_code.append("<script> without src")
        self.inline_code += [f"{tag} {name}=" for name in attributes if name.startswith("on")]
        if "style" in attributes:
            self.inline_code.append(f"{tag} style=")
        for name in ("src", "href"):
            if tag in ("script", "link") and attributes.get(name):
                self.assets.append(str(attributes[name]))
        if attributes.get("data-spec-url"):
            self.spec_urls.append(str(attributes["data-spec-url"]))


@pytest.fixture
def audit(client: FlaskClient) -> PageAudit:
    page = client.get("/api/docs")
    assert page.status_code == 200
    parser = PageAudit()
    parser.feed(page.get_data(as_text=True))
    return parser


def test_docs_page_has_no_inline_script_or_style(audit: PageAudit) -> None:
    assert audit.inline_code == []


def test_docs_page_loads_only_vendored_assets_from_this_service(
    audit: PageAudit, client: FlaskClient
) -> None:
    assert len(audit.assets) >= 3
    for url in audit.assets:
        parts = urlsplit(url)
        assert not parts.netloc and parts.path.startswith("/static/"), url
        assert client.get(url).status_code == 200, url
    assert audit.spec_urls == ["/api/openapi.json"]


def test_vendored_swagger_ui_records_its_version_and_licence() -> None:
    assert (VENDOR / "VERSION").read_text().strip() == SWAGGER_UI_VERSION
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
    assert SWAGGER_UI_VERSION in (VENDOR / "README.md").read_text()


@pytest.mark.server
@pytest.mark.browser
def test_try_it_out_predicts_with_the_example_and_stays_on_this_machine(
    live_service: RunningService, browser: Any
) -> None:
    requested: list[str] = []
    problems: list[str] = []
    operation = "#operations-iris_model-predict_iris_model"
    page = browser.new_page()
    try:
        page.on("request", lambda request: requested.append(request.url))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(live_service.url("/api/docs"))
        page.locator(f"{operation} .opblock-summary").click()
        page.locator(f"{operation} button.try-out__btn").click()
        body = page.locator(f"{operation} textarea.body-param__text")
        assert '"sepal_length": 5.1' in body.input_value()
        page.locator(f"{operation} button.execute").click()
        result = page.locator(f"{operation} .live-responses-table .response").first
        result.wait_for()
        status = result.locator(".response-col_status").inner_text().strip()
        answer = result.locator(".response-col_description").inner_text()
    finally:
        page.close()

    assert status == "200"
    assert '"species": "setosa"' in answer
    assert problems == []
    assert live_service.url("/api/models/iris_model/predict") in requested
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in requested), requested
