"""Drive the generated predict form the way a person does: find each input by its label."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from playwright.sync_api import Page

from model_service.model_manager import ENTRY_POINT_GROUP
from model_service.views.form_fields import FormField, describe_fields


def example_model_names() -> list[str]:
    """Every example model this environment has installed (their entry points), iris first."""
    names = {point.name for point in entry_points(group=ENTRY_POINT_GROUP)}
    names.add("iris_model")
    return sorted(names, key=lambda name: (name != "iris_model", name))


def cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def fill_field(page: Page, form_field: FormField, value: Any) -> None:
    """Type ``value`` into the input(s) labelled like ``form_field``."""
    label = form_field.label
    if form_field.widget == "number_grid":
        count = form_field.max_items
        for index, item in enumerate(value):
            cell = page.get_by_label(f"{label}, item {index + 1} of {count}", exact=True)
            cell.fill(cell_text(item))
    elif form_field.widget == "checkbox":
        page.get_by_label(label, exact=True).set_checked(bool(value))
    elif form_field.widget == "select":
        page.get_by_label(label, exact=True).select_option(cell_text(value))
    elif form_field.widget == "list":
        page.get_by_label(label, exact=True).fill(", ".join(cell_text(item) for item in value))
    else:
        page.get_by_label(label, exact=True).fill(cell_text(value))


def fill_form(page: Page, input_schema: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Fill every field named in ``values``, each found by its label."""
    for form_field in describe_fields(input_schema):
        if form_field.name in values:
            fill_field(page, form_field, values[form_field.name])


def shown_prediction(page: Page) -> Any:
    """The headline value the result panel shows (its exact JSON value, kept in data-value)."""
    output = page.locator("#prediction-value")
    output.wait_for()
    return json.loads(output.get_attribute("data-value") or "null")


def headline_field(output_schema: Mapping[str, Any]) -> str:
    from model_service.views.presentation import output_layout

    field = output_layout(output_schema).headline_field
    assert field is not None, "the output schema has no scalar field to show"
    return field
