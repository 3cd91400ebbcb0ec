"""The monitoring page's Versions section in Chromium: after iris 1.0.0 answered and 1.1.0's
shadow copies of the same items were captured, the table and the bar charts show the agreement
and latencies the store holds, fit a phone's width and pass axe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import DESKTOP, PHONE, check_both_widths
from tests.browser.test_accessibility import serious_violations
from tests.monitoring.versions_traffic import (
    FLOWERS,
    SHADOW_LATENCY_MS,
    Traffic,
    serving_two_versions,
)
from tests.support import RunningService

pytestmark = [pytest.mark.browser, pytest.mark.server]

PAGE = "/models/iris_model/monitoring?window=1h"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningService, Traffic]]:
    with serving_two_versions(tmp_path_factory.mktemp("versions-page")) as served:
        yield served


def test_the_versions_section_shows_agreement_and_latency_per_version(
    served: tuple[RunningService, Traffic], page: Page
) -> None:
    service, traffic = served
    agreement = f"{traffic.agreement * 100:.1f} %"
    page.goto(service.url(PAGE))

    section = page.locator("#versions")
    expect(section.get_by_role("heading", name="Versions")).to_be_visible()
    expect(section.locator("#versions-primary")).to_have_text("1.0.0")
    table = section.get_by_role("region", name="Versions compared")
    primary = table.locator("tr[data-version='1.0.0']")
    shadow = table.locator("tr[data-version='1.1.0']")
    expect(primary.get_by_role("rowheader")).to_have_text("1.0.0 (primary)")
    expect(primary).to_contain_text(f"primary {len(FLOWERS)}")
    expect(shadow).to_contain_text(f"shadow {len(FLOWERS)}")
    expect(shadow.locator(".version-comparison")).to_have_text(agreement)
    expect(shadow).to_contain_text(f"{SHADOW_LATENCY_MS:.1f} ms")

    chart = section.get_by_role("img", name="Agreement with 1.0.0 on shadowed items")
    expect(chart).to_be_visible()
    expect(chart.locator("desc")).to_have_text(
        f"1.1.0: agreement {agreement} over {len(FLOWERS)} shadow pairs."
    )
    bar = chart.locator("rect.column")
    expect(bar).to_have_attribute("width", f"{round(traffic.agreement * 76.0, 2)}%")
    latency = section.get_by_role("img", name="Latency per version (ms)")
    expect(latency).to_be_visible()
    expect(latency.locator("desc")).to_contain_text(
        f"1.1.0: p50 {SHADOW_LATENCY_MS:.1f} ms, p99 {SHADOW_LATENCY_MS:.1f} ms"
    )
    check_both_widths(page, "iris_model-versions")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_versions_section_has_no_serious_accessibility_violations(
    viewport: ViewportSize, served: tuple[RunningService, Traffic], browser: Browser
) -> None:
    service, _ = served
    # axe is injected as an inline script, which the strict CSP blocks: bypass it here only.
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(service.url(PAGE))
        expect(page.locator("#versions")).to_be_visible()
        assert serious_violations(page) == []
    finally:
        context.close()
