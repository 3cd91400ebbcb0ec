"""axe-core finds no critical accessibility violation on any page (index, card, form, result,
monitoring)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.forms import example_model_names
from tests.support import RunningService

pytestmark = [pytest.mark.browser, pytest.mark.server]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return result["violations"]


def serious_violations(page: Page) -> list[str]:
    """axe's critical and serious findings on the page, one line each."""
    return [
        f"{violation['impact']} {violation['id']}: {violation['help']} "
        f"{[node['html'][:120] for node in violation['nodes']][:3]}"
        for violation in axe_violations(page)
        if violation["impact"] in ("critical", "serious")
    ]


def paths() -> list[str]:
    pages = ["/", "/models/no_such_model"]
    for name in example_model_names():
        pages += [f"/models/{name}", f"/models/{name}/predict", f"/models/{name}/monitoring"]
    return pages


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_pages_have_no_critical_or_serious_accessibility_violations(
    viewport: ViewportSize, example_service: RunningService, browser: Any
) -> None:
    # axe is injected as an inline script, which the strict CSP (rightly) blocks: bypass it here.
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    page = context.new_page()
    found: dict[str, list[str]] = {}
    try:
        for path in paths():
            page.goto(example_service.url(path))
            if path.endswith("/predict"):
                page.get_by_role("link", name="Fill with example").click()
                page.get_by_role("button", name="Predict", exact=True).click()
                page.locator("#prediction-value").wait_for()
            violations = serious_violations(page)
            if violations:
                found[path] = violations
    finally:
        context.close()
    assert not found, "\n".join(
        f"{path}: {line}" for path, lines in found.items() for line in lines
    )
