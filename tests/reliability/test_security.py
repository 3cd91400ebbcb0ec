"""Security headers, error bodies that leak nothing, and the optional per-client rate limit."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from model_service import create_app
from model_service.security import CONTENT_SECURITY_POLICY
from tests.reliability.conftest import assert_error_shape

HTML_PAGES = ["/", "/models/echo", "/models/echo/predict", "/api/docs"]
EVERY_KIND = [*HTML_PAGES, "/api/models", "/api/models/nope/predict", "/no-such-page"]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_forbid_inline_script_and_framing(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    if response.status_code == 404 and path == "/api/docs":
        pytest.skip("the Swagger UI is not registered in this build")
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", EVERY_KIND)
def test_every_response_says_nosniff_and_sets_no_cookie(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers


def test_json_responses_carry_no_page_policy(client: FlaskClient) -> None:
    assert "Content-Security-Policy" not in client.get("/api/models").headers


def test_a_policy_override_applies_to_its_path_prefix_only(settings: dict[str, Any]) -> None:
    relaxed = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )
    client = create_app({**settings, "CSP_OVERRIDES": {"/models/": relaxed}}).test_client()
    assert client.get("/models/echo").headers["Content-Security-Policy"] == relaxed
    assert client.get("/").headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/models/flaky/predict", {"x": -1.0}),
        ("/api/models/error_model/predict", {"x": 1.0}),
    ],
)
def test_a_model_failure_leaks_no_trace_path_or_message(
    settings: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    from tests.fixtures import ErrorModel, entry

    client = create_app(
        {**settings, "MODELS": [*settings["MODELS"], entry(ErrorModel)]}
    ).test_client()
    response = client.post(path, json=body)
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    for secret in ("secret", "/srv/", "Traceback", "RuntimeError", "ValueError"):
        assert secret not in text


def test_rate_limit_is_off_by_default(client: FlaskClient) -> None:
    statuses = {client.get("/api/models").status_code for _ in range(50)}
    assert statuses == {200}


def test_rate_limit_answers_429_in_the_error_shape(settings: dict[str, Any]) -> None:
    client = create_app({**settings, "RATE_LIMIT": "5/minute"}).test_client()
    statuses = [client.get("/api/models").status_code for _ in range(5)]
    assert statuses == [200] * 5
    limited = client.get("/api/models")
    assert limited.status_code == 429
    assert_error_shape(429, limited.get_json(), limited.headers)
    assert "Retry-After" in limited.headers
    # probes are never limited, so an orchestrator does not restart a busy replica
    assert client.get("/api/health/live").status_code == 200


def test_rate_limit_counts_each_client_address_apart(settings: dict[str, Any]) -> None:
    client = create_app({**settings, "RATE_LIMIT": "2/minute"}).test_client()
    for _ in range(2):
        client.get("/api/models", environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert client.get("/api/models", environ_base={"REMOTE_ADDR": "127.0.0.2"}).status_code == 429
    assert client.get("/api/models", environ_base={"REMOTE_ADDR": "127.0.0.3"}).status_code == 200


@pytest.mark.server
@pytest.mark.browser
def test_pages_work_in_chromium_under_the_policy(browser: Any) -> None:
    """The real browser enforces the policy: the pages render and report no violation."""
    from tests.reliability.conftest import server_env
    from tests.support import run_service

    messages: list[str] = []
    with run_service(["--workers", "1"], env=server_env()) as service:
        page = browser.new_page()
        try:
            page.on("console", lambda message: messages.append(message.text))
            for path in ("/api/docs", "/models/echo/predict", "/"):
                response = page.goto(service.url(path))
                assert response is not None and response.status == 200
                if path == "/api/docs":
                    page.wait_for_selector(".opblock", timeout=15_000)
                page.wait_for_load_state("networkidle")
        finally:
            page.close()
    violations = [text for text in messages if "Content Security Policy" in text]
    assert not violations, violations
