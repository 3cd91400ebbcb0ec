"""Fixtures for the browser tests: real services, real Chromium, and page guards.

Every page opened through :func:`page` runs under the strict Content-Security-Policy the service
is meant to send (added to each HTML response here, so the tests hold with or without the
security module), and the test fails if a request left 127.0.0.1 or the browser reported a CSP
violation.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Dialog,
    Page,
    Route,
    ViewportSize,
)

from model_service.model_manager import ModelManager
from tests.support import REPO_ROOT, RunningService, run_service

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'"
)
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 740}
TOY_MODELS = [
    {"module_name": "tests.browser.toy_models", "class_name": "HostileModel"},
    {"module_name": "tests.browser.toy_models", "class_name": "BrokenModel"},
]
VIOLATION_LISTENER = """
document.addEventListener('securitypolicyviolation', (event) => {
  (window.__cspViolations = window.__cspViolations || []).push(
    event.violatedDirective + ' ' + event.blockedURI);
});
"""


def service_env(**settings: Any) -> dict[str, str]:
    """Environment of a test service: testing settings plus ``MODEL_SERVICE_*`` overrides."""
    env = {"APP_SETTINGS": "config.TestingConfig", "MODEL_SERVICE_BATCHING_ENABLED": "false"}
    env.update({f"MODEL_SERVICE_{name}": json.dumps(value) for name, value in settings.items()})
    return env


def monitored_service_env(state_dir: Path, **settings: Any) -> dict[str, str]:
    """:func:`service_env` with a monitoring store of its own in ``state_dir``, written often."""
    return {
        **service_env(MONITORING_FLUSH_INTERVAL_S=0.1, **settings),
        # Text settings are read as they are, not as JSON.
        "MODEL_SERVICE_MONITORING_STATE_DIR": str(state_dir),
    }


@pytest.fixture(scope="session")
def example_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The real service with every installed example model (config plus entry points)."""
    env = monitored_service_env(tmp_path_factory.mktemp("examples"), LOAD_ENTRY_POINTS=True)
    with run_service(["--workers", "1"], env=env) as service:
        yield service


@pytest.fixture(scope="session")
def toy_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The real service with the hostile toy model and a model that fails to load."""
    env = monitored_service_env(
        tmp_path_factory.mktemp("toys"), MODELS=TOY_MODELS, LOAD_ENTRY_POINTS=False
    )
    with run_service(["--workers", "1"], env=env) as service:
        yield service


@pytest.fixture(scope="session")
def local_models() -> ModelManager:
    """The same example models loaded in this process, to compare the pages' answers with."""
    manager = ModelManager()
    manager.load(
        [{"module_name": "iris_model.model", "class_name": "IrisModel"}],
        discover_entry_points=True,
    )
    return manager


class PageGuard:
    """Records what a browser context did that a test must never see happen."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.console: list[str] = []
        self.dialogs: list[str] = []

    def dismiss(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def foreign_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("blob", "data")
            and urlsplit(url).hostname != "127.0.0.1"
        ]

    def csp_violations(self) -> list[str]:
        return [line for line in self.console if "Content Security Policy" in line]


def _add_csp(route: Route) -> None:
    if route.request.resource_type != "document":
        route.continue_()
        return
    response = route.fetch()
    headers = {**response.headers, "content-security-policy": CSP}
    route.fulfill(response=response, headers=headers)


@pytest.fixture
def open_context(browser: Browser) -> Iterator[Callable[..., tuple[BrowserContext, PageGuard]]]:
    """Factory of guarded browser contexts; each is checked and closed after the test."""
    opened: list[tuple[BrowserContext, PageGuard]] = []

    def open_one(**options: Any) -> tuple[BrowserContext, PageGuard]:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(accept_downloads=True, **options)
        guard = PageGuard()
        context.on("request", lambda request: guard.requests.append(request.url))
        context.on("console", lambda message: guard.console.append(message.text))
        context.on("dialog", guard.dismiss)
        context.route("**/*", _add_csp)
        context.add_init_script(VIOLATION_LISTENER)
        opened.append((context, guard))
        return context, guard

    yield open_one
    for context, guard in opened:
        violations = [
            *guard.csp_violations(),
            *(
                line
                for page in context.pages
                if not page.is_closed()
                for line in (_page_violations(page) or [])
            ),
        ]
        context.close()
        assert not guard.foreign_requests(), f"requests left 127.0.0.1: {guard.foreign_requests()}"
        assert not violations, f"Content-Security-Policy violations: {violations}"
        assert not guard.dialogs, f"a page opened dialogs: {guard.dialogs}"


def _page_violations(page: Page) -> list[str] | None:
    try:
        violations: list[str] = page.evaluate("window.__cspViolations || []")
        return violations
    except Exception:  # a context without JavaScript cannot evaluate; the console still reports
        return None


@pytest.fixture
def page(open_context: Callable[..., tuple[BrowserContext, PageGuard]]) -> Page:
    """A desktop-sized page with JavaScript, guarded like every page here."""
    context, _ = open_context()
    return context.new_page()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under ``test-artifacts/screenshots/``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    with contextlib.suppress(Exception):  # a page without JavaScript is already at the top
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_fits_the_width(page: Page) -> None:
    """Nothing sticks out sideways: the page never needs horizontal scrolling."""
    viewport = page.viewport_size
    assert viewport is not None
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= viewport["width"], f"{page.url} is {overflow}px wide at {viewport}"


def check_both_widths(page: Page, name: str) -> None:
    """At desktop, then phone width: nothing sticks out sideways; save ``<name>-<width>.png``."""
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        assert_fits_the_width(page)
        screenshot(page, f"{name}-{size}")


def served_model_names(service: RunningService) -> list[str]:
    response = requests.get(service.url("/api/models"), timeout=10)
    response.raise_for_status()
    return [model["qualified_name"] for model in response.json()["models"]]
