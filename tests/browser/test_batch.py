"""Predicting a CSV file on the page: chunks, progress, per-row errors, downloadable result."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest
import requests
from playwright.sync_api import FilePayload, Page, expect

from model_service.model_manager import ModelManager
from model_service.views.form_fields import describe_fields
from tests.browser.conftest import PHONE, screenshot
from tests.browser.forms import cell_text, example_model_names, headline_field
from tests.support import RunningService

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

ROWS = 150  # more than one chunk of 100
BAD_ROW = 120
BAD_VALUE = "not-a-value"


def csv_cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(cell_text(item) for item in value)
    return cell_text(value)


def bad_field(input_schema: dict[str, Any]) -> str:
    """A field that ``not-a-value`` cannot be: a number, list, choice, date or boolean."""
    return next(
        form_field.name
        for form_field in describe_fields(input_schema)
        if form_field.widget not in ("text",)
    )


def build_csv(example: dict[str, Any], broken: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(example)
    for index in range(ROWS):
        cells = {name: csv_cell(value) for name, value in example.items()}
        if index == BAD_ROW:
            cells[broken] = BAD_VALUE
        writer.writerow(cells.values())
    return buffer.getvalue()


@pytest.mark.parametrize("name", example_model_names())
def test_csv_with_a_bad_row_downloads_every_good_row_predicted(
    name: str,
    example_service: RunningService,
    local_models: ModelManager,
    page: Page,
) -> None:
    meta = requests.get(example_service.url(f"/api/models/{name}/metadata"), timeout=10).json()
    broken = bad_field(meta["input_schema"])
    page.goto(example_service.url(f"/models/{name}/predict"))
    upload: FilePayload = {
        "name": "input.csv",
        "mimeType": "text/csv",
        "buffer": build_csv(meta["example_input"], broken).encode(),
    }
    page.get_by_label("CSV file", exact=True).set_input_files(files=[upload])
    page.get_by_role("button", name="Predict file").click()
    expect(page.locator("#batch-status")).to_contain_text("Done", timeout=60_000)
    expect(page.locator("#batch-progress")).to_have_attribute("value", "100")
    errors = page.locator("#batch-errors li")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text(f"Row {BAD_ROW + 1}:")
    expect(errors.first).to_contain_text(broken)
    expect(page.locator("#batch-preview tbody tr")).to_have_count(10)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download results (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))

    served = local_models.get_model(name)
    expected = served.model.predict(served.input_schema.validate(meta["example_input"])[0])
    field = headline_field(served.output_schema.json_schema)
    assert len(rows) == ROWS
    for index, row in enumerate(rows):
        if index == BAD_ROW:
            assert row[field] == "" and broken in row["error"]
            continue
        assert row["error"] == ""
        if isinstance(expected[field], float):
            assert math.isclose(float(row[field]), expected[field], rel_tol=1e-9)
        else:
            assert row[field] == str(expected[field])
    page.locator("#batch").scroll_into_view_if_needed()
    screenshot(page, f"{name}-batch-desktop")
    if name == "iris_model":
        page.set_viewport_size(PHONE)
        screenshot(page, f"{name}-batch-phone")


def test_without_javascript_the_page_says_csv_needs_it(
    example_service: RunningService, open_context: Any
) -> None:
    context, _ = open_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(example_service.url("/models/iris_model/predict"))
    expect(page.get_by_text("needs JavaScript")).to_be_visible()
    expect(page.get_by_role("button", name="Predict file")).to_be_hidden()
