"""The monitoring page in Chromium: what the page shows is what was sent through the real API.

The service here has its own empty monitoring store, so every count on the page is known: the
tests send predictions (iris flowers with petals longer than any seen in training, which must show
as drift) and feedback (a chosen share of it wrong, which fixes the accuracy), wait until the
capture writer has stored them (the JSON API says so), then read the page at desktop and phone
width, with and without JavaScript.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FilePayload,
    Page,
    ViewportSize,
    expect,
)

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    PageGuard,
    check_both_widths,
    monitored_service_env,
    screenshot,
)
from tests.browser.test_accessibility import serious_violations
from tests.support import RunningService, run_service

pytestmark = [pytest.mark.browser, pytest.mark.server]

SPECIES = ("setosa", "versicolor", "virginica")
FLOWERS = [
    # Petals of 8-9.6 cm: the training data's longest petal is 6.9 cm.
    {
        "sepal_length": 5.0 + i / 10,
        "sepal_width": 3.0,
        "petal_length": 8.0 + i / 8,
        "petal_width": 1.5,
    }
    for i in range(12)
]
WRONG = 3
"""How many of the ten labelled predictions get a different species as their true outcome."""
LABELLED = 10
ADMIN_TOKEN = "monitoring-page-admin-token"
WINTER_DAYS: list[dict[str, Any]] = [
    # Colder than any training day (the coldest was -6.7 °C).
    {
        "date": f"2025-01-{day:02d}",
        "season": "winter",
        "weather": "clear",
        "holiday": False,
        "working_day": True,
        "temperature": -20.0 - day / 2,
        "humidity": 70.0,
        "wind_speed": 10.0,
    }
    for day in range(1, 6)
]
RENTAL_ERRORS = [10.0, -20.0, 30.0, 0.0, 40.0]
"""What each winter day's true rentals differ from the forecast by: MAE 20, RMSE 24.49."""
CSV_ROWS = 3


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The examples served with an empty monitoring store of their own."""
    env = monitored_service_env(tmp_path_factory.mktemp("monitoring"), LOAD_ENTRY_POINTS=True)
    env["MODEL_SERVICE_ADMIN_TOKEN"] = ADMIN_TOKEN
    with run_service(["--workers", "1"], env=env) as running:
        yield running


@pytest.fixture(scope="module")
def quiet_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The bike model alone, which nothing here sends predictions to."""
    models = [{"module_name": "bike_demand_model.model", "class_name": "BikeDemandModel"}]
    env = monitored_service_env(tmp_path_factory.mktemp("quiet"), MODELS=models)
    with run_service(["--workers", "1"], env=env) as running:
        yield running


@pytest.fixture(scope="module")
def capture_off_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The iris model served with capture turned off."""
    models = [{"module_name": "iris_model.model", "class_name": "IrisModel"}]
    env = monitored_service_env(
        tmp_path_factory.mktemp("off"), MODELS=models, MONITORING_ENABLED=False
    )
    with run_service(["--workers", "1"], env=env) as running:
        yield running


@pytest.fixture(scope="module")
def traffic(service: RunningService) -> list[str]:
    """Send the flowers (one batch) and two invalid requests, then feedback on ten of the
    flowers; return the predicted species."""
    request_id, results = predict_and_wait(service, "iris_model", FLOWERS)
    predicted = [result["species"] for result in results]
    for bad in ({"sepal_length": "long"}, {"petal_length": -1}):
        answer = requests.post(service.url("/api/models/iris_model/predict"), json=bad, timeout=10)
        assert answer.status_code == 400
    actuals = [_another(species) for species in predicted[:WRONG]] + predicted[WRONG:LABELLED]
    send_feedback_and_wait(service, "iris_model", request_id, actuals)
    wait_for_summary(service, lambda summary: summary["errors"] == 2)
    return predicted


def predict_and_wait(
    service: RunningService, model: str, items: list[dict[str, Any]]
) -> tuple[str, list[Any]]:
    """Predict ``items`` in one request; return its id and results once they are stored."""
    request_id = f"monitoring-page-{uuid.uuid4().hex}"
    response = requests.post(
        service.url(f"/api/models/{model}/predict"),
        json=items,
        headers={"X-Request-ID": request_id},
        timeout=10,
    )
    response.raise_for_status()
    wait_for_summary(service, lambda summary: summary["predictions"] == len(items), model)
    return request_id, response.json()


def send_feedback_and_wait(
    service: RunningService, model: str, request_id: str, actuals: list[Any]
) -> None:
    """Send ``actuals[i]`` as the true outcome of item ``i`` of the request; wait until stored."""
    feedback = [
        {"request_id": request_id, "index": index, "actual": actual}
        for index, actual in enumerate(actuals)
    ]
    answer = requests.post(service.url(f"/api/models/{model}/feedback"), json=feedback, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": len(actuals)}
    wait_for_summary(service, lambda summary: summary["quality"]["labelled"] == len(actuals), model)


def _another(species: str) -> str:
    return next(other for other in SPECIES if other != species)


def wait_for_summary(
    service: RunningService,
    done: Callable[[dict[str, Any]], bool],
    model: str = "iris_model",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """A model's JSON summary once ``done`` holds (captures are written in the background, a
    moment after the prediction answered)."""
    deadline = time.monotonic() + timeout
    while True:
        summary = requests.get(
            service.url(f"/api/models/{model}/monitoring?window=1h"), timeout=10
        ).json()
        if done(summary):
            return summary
        if time.monotonic() > deadline:
            pytest.fail(f"captures not stored after {timeout} s: {summary}")
        time.sleep(0.2)


def figure(page: Page, name: str) -> Any:
    return page.locator(f"#figure-{name} dd")


def test_page_shows_the_counts_drift_and_accuracy_that_were_sent(
    service: RunningService, traffic: list[str], page: Page
) -> None:
    page.goto(service.url("/models/iris_model/monitoring"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring: Iris species classifier")
    expect(figure(page, "predictions")).to_have_text(str(len(FLOWERS)))
    expect(figure(page, "errors")).to_have_text("2")
    expect(figure(page, "error-rate")).to_have_text(f"{2 / (len(FLOWERS) + 2) * 100:.1f} %")
    expect(figure(page, "labelled")).to_have_text(str(LABELLED))

    drift = page.get_by_role("region", name="Drift per field")
    petal = drift.get_by_role("row", name="petal_length")
    expect(petal).to_contain_text("drift")
    expect(petal.locator(".status-drift")).to_be_visible()
    expect(page.locator("#few-predictions")).to_contain_text(f"Only {len(FLOWERS)} predictions")
    expect(petal).to_contain_text("100.0 %")  # every petal was longer than any in training

    histogram = page.get_by_role("list", name="petal_length: live against training")
    expect(histogram.locator("li").last).to_contain_text("100.0 %")

    accuracy = (LABELLED - WRONG) / LABELLED
    quality = page.locator("section", has=page.get_by_role("heading", name="Live quality"))
    expect(quality.locator(".quality-figures")).to_contain_text(f"{accuracy * 100:.1f} %")
    expect(quality.get_by_role("img", name="Accuracy over time")).to_be_visible()

    expect(page.get_by_role("img", name="Predictions and errors over time")).to_be_visible()
    expect(page.get_by_role("img", name="Latency over time")).to_be_visible()
    check_both_widths(page, "iris_model-monitoring")


def test_the_numbers_behind_the_traffic_chart_add_up_to_what_was_sent(
    service: RunningService, traffic: list[str], page: Page
) -> None:
    page.goto(service.url("/models/iris_model/monitoring?window=1h"))
    page.get_by_role("img", name="Predictions and errors over time").wait_for()
    page.locator("figure", has=page.locator("#traffic-chart")).get_by_text(
        "The numbers", exact=True
    ).click()
    rows = page.locator("#traffic-table tbody tr")
    counts = [
        int(text.replace(",", "")) for text in rows.locator("td:nth-child(2)").all_inner_texts()
    ]
    assert sum(counts) == len(FLOWERS)


def test_window_links_work_without_javascript_and_the_card_links_here(
    service: RunningService,
    traffic: list[str],
    open_context: Callable[..., tuple[BrowserContext, PageGuard]],
) -> None:
    context, _ = open_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(service.url("/models/iris_model"))
    page.get_by_role("link", name="Monitoring").click()
    expect(page).to_have_url(service.url("/models/iris_model/monitoring"))
    window = page.get_by_role("navigation", name="Time window")
    expect(window.locator("[aria-current=page]")).to_have_text("Last 24 hours")
    for label, value in (("Last hour", "1h"), ("Last 7 days", "7d"), ("All", "all")):
        window.get_by_role("link", name=label).click()
        expect(page).to_have_url(service.url(f"/models/iris_model/monitoring?window={value}"))
        expect(window.locator("[aria-current=page]")).to_have_text(label)
        expect(figure(page, "predictions")).to_have_text(str(len(FLOWERS)))
    page.goto(service.url("/models/iris_model/versions/1.0.0/monitoring"))
    expect(figure(page, "predictions")).to_have_text(str(len(FLOWERS)))
    page.goto(service.url("/models/iris_model/versions/1.0.0/monitoring?window=90m"))
    expect(window.locator("[aria-current=page]")).to_have_text("Last 90m")
    expect(figure(page, "predictions")).to_have_text(str(len(FLOWERS)))
    window.get_by_role("link", name="Last 7 days").click()
    expect(page).to_have_url(service.url("/models/iris_model/versions/1.0.0/monitoring?window=7d"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_page_with_data_has_no_serious_accessibility_violations(
    viewport: ViewportSize, service: RunningService, traffic: list[str], browser: Browser
) -> None:
    # axe is injected as an inline script, which the strict CSP blocks: bypass it here only.
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(service.url("/models/iris_model/monitoring"))
        for numbers in page.get_by_text("The numbers", exact=True).all():
            numbers.click()
        assert serious_violations(page) == []
    finally:
        context.close()


def test_the_web_form_and_the_csv_upload_are_captured_as_such(
    service: RunningService, page: Page
) -> None:
    page.goto(service.url("/models/digits_model/predict"))
    page.get_by_role("link", name="Fill with example").click()
    page.get_by_role("button", name="Predict", exact=True).click()
    page.locator("#prediction-value").wait_for()
    example = requests.get(service.url("/api/models/digits_model/metadata"), timeout=10).json()
    header = ",".join(example["example_input"])
    row = ",".join(
        " ".join(map(str, value)) if isinstance(value, list) else str(value)
        for value in example["example_input"].values()
    )
    upload: FilePayload = {
        "name": "digits.csv",
        "mimeType": "text/csv",
        "buffer": "\n".join([header, *[row] * CSV_ROWS]).encode(),
    }
    page.get_by_label("CSV file", exact=True).set_input_files(files=[upload])
    page.get_by_role("button", name="Predict file").click()
    expect(page.locator("#batch-status")).to_contain_text("Done")

    deadline = time.monotonic() + 30
    while True:
        rows = requests.get(
            service.url("/api/admin/models/digits_model/captures"),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=10,
        ).json()["captures"]
        if len(rows) >= 1 + CSV_ROWS or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    entry_points = sorted(row["entry_point"] for row in rows)
    assert entry_points == ["web_csv"] * CSV_ROWS + ["web_form"]
    page.goto(service.url("/models/digits_model/monitoring"))
    expect(figure(page, "predictions")).to_have_text(str(1 + CSV_ROWS))
    drift = page.get_by_role("region", name="Drift per field")
    expect(drift.get_by_role("row", name="prediction")).to_be_visible()
    expect(page.locator("#not-compared")).to_contain_text("pixels")
    check_both_widths(page, "digits_model-monitoring")


def test_regression_quality_is_the_mean_absolute_error_of_the_feedback(
    service: RunningService, page: Page
) -> None:
    request_id, results = predict_and_wait(service, "bike_demand_model", WINTER_DAYS)
    actuals = [
        result["rentals"] + error for result, error in zip(results, RENTAL_ERRORS, strict=True)
    ]
    send_feedback_and_wait(service, "bike_demand_model", request_id, actuals)

    page.goto(service.url("/models/bike_demand_model/monitoring?window=1h"))
    expect(figure(page, "predictions")).to_have_text(str(len(WINTER_DAYS)))
    temperature = page.get_by_role("region", name="Drift per field").get_by_role(
        "row", name="temperature"
    )
    expect(temperature).to_contain_text("drift")
    expect(temperature).to_contain_text("100.0 %")
    figures = page.locator(".quality-figures")
    expect(figures.locator(".metric", has_text="MAE").locator("dd")).to_have_text("20")
    expect(figures.locator(".metric", has_text="RMSE").locator("dd")).to_have_text("24.49")
    expect(page.get_by_role("img", name="MAE over time")).to_be_visible()
    check_both_widths(page, "bike_demand_model-monitoring")


def test_a_model_with_no_traffic_says_what_to_do(quiet_service: RunningService, page: Page) -> None:
    service = quiet_service
    page.goto(service.url("/models/bike_demand_model/monitoring"))
    expect(page.get_by_role("heading", name="Nothing captured in this window")).to_be_visible()
    expect(page.get_by_text("/api/models/bike_demand_model/predict")).to_be_visible()
    expect(page.locator("#no-feedback")).to_contain_text("/api/models/bike_demand_model/feedback")
    expect(figure(page, "predictions")).to_have_text("0")
    check_both_widths(page, "bike_demand_model-monitoring-empty")


def test_with_capture_off_the_page_says_so_instead_of_waiting_for_data(
    capture_off_service: RunningService, page: Page
) -> None:
    page.goto(capture_off_service.url("/models/iris_model/monitoring"))
    expect(page.get_by_role("heading", name="Capture is off for this model")).to_be_visible()
    expect(page.locator("#capture-off")).to_contain_text("MONITORING_ENABLED")
    expect(page.get_by_role("heading", name="Nothing captured in this window")).to_have_count(0)


def test_a_model_without_reference_data_or_target_says_how_to_add_them(
    toy_service: RunningService, page: Page
) -> None:
    page.goto(toy_service.url("/models/hostile_model/monitoring"))
    expect(page.locator("#no-reference")).to_contain_text("reference_data()")
    expect(page.locator("#no-feedback")).to_contain_text("declares no target field")
    assert page.evaluate("window.__xss") is None
    screenshot(page, "hostile_model-monitoring-no-reference-desktop")


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/models/no_such_model/monitoring", 404, "Model not found"),
        ("/models/iris_model/versions/9.9.9/monitoring", 404, "Model not found"),
        ("/models/iris_model/monitoring?window=fortnight", 400, "Unknown time window"),
    ],
)
def test_unknown_model_or_window_gets_an_html_error_page(
    path: str, status: int, heading: str, service: RunningService, page: Page
) -> None:
    response = page.goto(service.url(path))
    assert response is not None and response.status == status
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("link", name="See every model")).to_be_visible()
