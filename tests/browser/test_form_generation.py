"""The form, result and card shaping behind the pages, without a browser (fast)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from model_service.errors import ErrorDetail
from model_service.validation import compile_schema
from model_service.views.charts import confusion_matrix, contribution_bars, share_bars
from model_service.views.form_fields import describe_fields, display_values
from model_service.views.pages import errors_by_field
from model_service.views.presentation import card_view, output_layout, result_view
from tests.browser.toy_models import HOSTILE_TEXT, HostileModel
from tests.fixtures import EchoModel, EchoModelV2, entry

ECHO_FIELDS = {
    f.name: f for f in describe_fields(compile_schema(EchoModel.input_schema).json_schema)
}


@pytest.mark.parametrize(
    ("name", "widget", "required", "attributes"),
    [
        ("x", "number", True, {"min": 0, "max": 100, "step": "any"}),
        ("count", "integer", True, {"step": 1}),
        ("flag", "checkbox", True, {}),
        ("colour", "select", True, {}),
        ("note", "text", False, {"maxlength": 20}),
        ("day", "date", False, {}),
        ("values", "list", False, {"step": "any"}),
    ],
)
def test_each_schema_type_gets_its_widget(
    name: str, widget: str, required: bool, attributes: dict[str, Any]
) -> None:
    form_field = ECHO_FIELDS[name]
    assert (form_field.widget, form_field.required, form_field.attributes) == (
        widget,
        required,
        attributes,
    )


def test_fields_carry_labels_help_defaults_and_options() -> None:
    assert ECHO_FIELDS["x"].label == "X"
    assert ECHO_FIELDS["x"].description == "A number from 0 to 100."
    assert ECHO_FIELDS["x"].constraints == "0 to 100"
    assert ECHO_FIELDS["note"].default == "none"
    assert ECHO_FIELDS["colour"].options == [("red", "red"), ("green", "green"), ("blue", "blue")]
    assert ECHO_FIELDS["values"].constraints == "1 to 3 items"


def test_fixed_length_number_arrays_become_a_square_grid() -> None:
    schema = {
        "type": "object",
        "properties": {
            "pixels": {
                "type": "array",
                "items": {"type": "number", "minimum": 0, "maximum": 16},
                "minItems": 64,
                "maxItems": 64,
            }
        },
        "required": ["pixels"],
    }
    (grid,) = describe_fields(schema)
    assert (grid.widget, grid.grid_columns, grid.max_items) == ("number_grid", 8, 64)
    assert grid.attributes == {"step": "any", "min": 0, "max": 16}
    shown = display_values([grid], {"pixels": [1.0, 2.5]})["pixels"]
    assert shown[:3] == ["1", "2.5", ""] and len(shown) == 64


def test_display_keeps_typed_text_and_fills_defaults() -> None:
    fields = list(ECHO_FIELDS.values())
    shown = display_values(fields, {"x": ["abc"], "flag": ["false", "true"], "values": [1.0, 2.0]})
    assert shown["x"] == "abc"
    assert shown["flag"] is True
    assert shown["note"] == "none"
    assert shown["values"] == "1, 2"


def test_errors_are_grouped_under_their_field_with_list_positions() -> None:
    details = [
        ErrorDetail(("x",), "out of range"),
        ErrorDetail(("values", 2), "expected a number"),
        ErrorDetail(("mystery",), "unexpected field"),
        ErrorDetail((), "whole input wrong"),
    ]
    by_field, general = errors_by_field(details, {"x", "values"})
    assert by_field == {"x": ["out of range"], "values": ["item 3: expected a number"]}
    assert general == ["mystery: unexpected field", "whole input wrong"]


def test_classification_result_shows_label_and_probability_bars() -> None:
    layout = output_layout(
        {
            "type": "object",
            "properties": {
                "species": {"enum": ["a", "b"], "type": "string"},
                "probabilities": {
                    "type": "object",
                    "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                },
            },
        }
    )
    view = result_view(layout, {"species": "b", "probabilities": {"a": 0.25, "b": 0.75}})
    assert view.headline == "b"
    assert [(bar.label, bar.width, bar.tone) for bar in view.bars] == [
        ("b", 75.0, "accent"),
        ("a", 25.0, "neutral"),
    ]


def test_regression_result_shows_the_number_with_its_unit() -> None:
    layout = output_layout(
        {"type": "object", "properties": {"rentals": {"type": "number", "x-unit": "bikes/day"}}}
    )
    view = result_view(layout, {"rentals": 1234.7})
    assert (view.headline, view.unit, view.bars) == ("1,235", "bikes/day", [])


def test_contributions_diverge_from_the_centre_largest_first() -> None:
    bars = contribution_bars(
        [{"field": "a", "contribution": -1.0}, {"field": "b", "contribution": 2.0}]
    )
    assert [(bar.label, bar.x, bar.width, bar.tone) for bar in bars] == [
        ("b", 50.0, 50.0, "positive"),
        ("a", 25.0, 25.0, "negative"),
    ]


def test_card_sections_and_confusion_matrix() -> None:
    card = card_view(
        {
            "metrics": {
                "accuracy": 0.9,
                "confusion_matrix": {"labels": ["x", "y"], "matrix": [[3, 1], [0, 4]]},
            },
            "feature_importances": {"a": 0.2, "b": 0.8},
            "limitations": "Only toy data.",
            "pixel_importance": [[0.0, 1.0], [0.5, 0.25]],
        }
    )
    assert card.metrics == [("Accuracy", "0.9")]
    assert card.confusion is not None and card.confusion.rows[1] == [("0", 0), ("4", 5)]
    assert [bar.label for bar in card.importances] == ["b", "a"]
    assert card.limitations == ["Only toy data."]
    assert card.other[0][:2] == ("Pixel importance", "heatmap")
    assert confusion_matrix([[1, 2]]) is None
    assert share_bars([("a", float("nan"))]) == []


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "MODELS": [entry(EchoModel), entry(EchoModelV2), entry(HostileModel)],
        "LOAD_ENTRY_POINTS": False,
        "BATCHING_ENABLED": False,
    }


def test_plain_post_predicts_and_keeps_the_typed_values(client: FlaskClient) -> None:
    response = client.post(
        "/models/echo/predict",
        data={"x": "2.5", "count": "3", "flag": ["false", "true"], "colour": "green"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="prediction-value"' in page
    assert 'value="2.5"' in page and 'value="green" selected' in page


def test_plain_post_with_a_bad_value_renders_inline_errors(client: FlaskClient) -> None:
    response = client.post("/models/echo/predict", data={"x": "500", "count": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "500.0 is out of range" in page
    assert 'id="error-colour"' in page and "required field is missing" in page
    assert 'aria-invalid="true"' in page
    assert 'id="prediction-value"' not in page


def test_model_text_is_escaped_everywhere(client: FlaskClient) -> None:
    for path in ("/", "/models/hostile_model", "/models/hostile_model/predict"):
        page = client.get(path).get_data(as_text=True)
        assert HOSTILE_TEXT not in page
        assert "&lt;script&gt;window.__xss" in page


def test_unknown_model_page_is_html_but_api_stays_json(client: FlaskClient) -> None:
    page = client.get("/models/nope")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Model not found" in page.get_data(as_text=True)
    api = client.get("/api/models/nope/metadata")
    assert api.status_code == 404 and api.mimetype == "application/json"


def test_csv_template_has_the_header_and_the_example_row(client: FlaskClient) -> None:
    response = client.get("/models/echo/template.csv")
    lines = response.get_data(as_text=True).splitlines()
    assert response.mimetype == "text/csv"
    assert lines[0] == "x,count,flag,colour,note,day,values"
    assert lines[1] == "1.5,2,true,red,,,"


def test_model_pages_link_every_loaded_version(client: FlaskClient) -> None:
    page = client.get("/models/echo").get_data(as_text=True)
    assert 'href="/models/echo/versions/1.0.0"' in page
    assert 'href="/models/echo/versions/2.0.0"' in page and "v2.0.0" in page
    pinned = client.get("/models/echo/versions/1.0.0/predict").get_data(as_text=True)
    assert 'action="/models/echo/versions/1.0.0/predict"' in pinned
    assert 'data-api-url="/api/models/echo/versions/1.0.0/predict"' in pinned
