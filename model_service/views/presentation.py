"""Turn a model's output schema, results, explanations and card into what the pages show.

Everything here is derived from what the model declares, so no model needs a template of its own:
the output schema says which field is the headline (the predicted label or number, with its unit)
and which object holds class probabilities; the card's well-known keys get their own sections and
anything else is still shown, as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from model_service.views.charts import (
    Bar,
    MatrixView,
    confusion_matrix,
    contribution_bars,
    format_number,
    importance_items,
    numeric_grid,
    share_bars,
)
from model_service.views.form_fields import describe_constraints, humanize

SCALAR_TYPES = ("string", "number", "integer", "boolean")
CARD_SECTIONS = ("training_data", "estimator", "metrics", "feature_importances", "limitations")


@dataclass(frozen=True)
class OutputLayout:
    """Which output fields the result panel features; also handed to the page's script."""

    headline_field: str | None
    headline_title: str
    unit: str
    probabilities_field: str | None
    numeric: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def output_layout(output_schema: Mapping[str, Any]) -> OutputLayout:
    """Find the headline (first scalar output) and the probabilities (an object of numbers)."""
    properties: Mapping[str, Any] = output_schema.get("properties", {})
    headline = next(
        (name for name, prop in properties.items() if _scalar_type(prop) is not None), None
    )
    probabilities = next(
        (name for name, prop in properties.items() if _is_number_object(prop)), None
    )
    prop = properties.get(headline, {}) if headline else {}
    return OutputLayout(
        headline_field=headline,
        headline_title=str(prop.get("title") or humanize(headline or "prediction")),
        unit=str(prop.get("x-unit") or ""),
        probabilities_field=probabilities,
        numeric=_scalar_type(prop) in ("number", "integer"),
    )


def _scalar_type(prop: Mapping[str, Any]) -> str | None:
    kind = prop.get("type")
    if kind in SCALAR_TYPES:
        return str(kind)
    return "string" if "enum" in prop else None


def _is_number_object(prop: Mapping[str, Any]) -> bool:
    if prop.get("type") != "object":
        return False
    inner = list(prop.get("properties", {}).values())
    extra = prop.get("additionalProperties")
    if isinstance(extra, Mapping):
        inner.append(extra)
    return bool(inner) and all(part.get("type") in ("number", "integer") for part in inner)


@dataclass(frozen=True)
class ResultView:
    """A prediction as the result panel shows it."""

    headline: str
    headline_value: Any
    headline_title: str
    unit: str
    bars: list[Bar]
    details: list[tuple[str, str]]


def result_view(layout: OutputLayout, result: Any) -> ResultView:
    """The headline, probability bars and the remaining output fields of one result."""
    if not isinstance(result, Mapping):
        return ResultView(format_number(result), result, "Prediction", "", [], [])
    headline = result.get(layout.headline_field) if layout.headline_field else None
    bars: list[Bar] = []
    if layout.probabilities_field and isinstance(result.get(layout.probabilities_field), Mapping):
        shares = result[layout.probabilities_field].items()
        bars = share_bars(shares, highlight=str(headline), percent=True)
    featured = {layout.headline_field, layout.probabilities_field}
    details = [
        (humanize(str(name)), _as_text(value))
        for name, value in result.items()
        if name not in featured
    ]
    return ResultView(
        headline=_as_text(headline) if headline is not None else "",
        headline_value=headline,
        headline_title=layout.headline_title,
        unit=layout.unit,
        bars=bars,
        details=details,
    )


ACRONYMS = frozenset({"mae", "mse", "rmse", "mape", "r2", "auc", "roc", "f1", "id"})


def metric_name(name: str) -> str:
    """``mae`` -> ``MAE``, ``mean_rentals`` -> ``Mean rentals``."""
    words = humanize(name).split(" ")
    return " ".join(word.upper() if word.lower() in ACRONYMS else word for word in words)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {_as_text(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_as_text(item) for item in value)
    return format_number(value) if isinstance(value, (int, float)) else str(value)


@dataclass(frozen=True)
class ExplanationView:
    """An explanation as a diverging bar chart plus the sentence that says how to read it."""

    bars: list[Bar]
    sentence: str
    method: str


EXPLANATION_SENTENCE = (
    "Each bar shows how much that input moved {target}{value} away from what the model "
    "predicts for a typical input: blue bars pushed it up, orange bars pushed it down; the "
    "longest bars mattered most."
)
"""How to read the contribution chart; the page's script fills in the same placeholders."""


def explanation_view(explanation: Mapping[str, Any]) -> ExplanationView:
    """The contribution bars of one explanation and the sentence that says how to read them."""
    explained = explanation.get("explained_value")
    sentence = EXPLANATION_SENTENCE.format(
        target=explanation.get("target") or "the prediction",
        value=f" ({format_number(explained)})" if explained is not None else "",
    )
    return ExplanationView(
        bars=contribution_bars(explanation.get("contributions") or []),
        sentence=sentence,
        method=str(explanation.get("method") or ""),
    )


@dataclass(frozen=True)
class CardView:
    """A model card split into the sections the model page lays out."""

    training_data: Any
    estimator: Any
    metrics: list[tuple[str, str]]
    confusion: MatrixView | None
    importances: list[Bar]
    limitations: list[str]
    other: list[tuple[str, str, Any]]


def card_view(card: Mapping[str, Any] | None) -> CardView:
    """Lay out ``model_card()``: known keys get sections, unknown ones are listed as they are."""
    card = card or {}
    metrics: Mapping[str, Any] = card.get("metrics") or {}
    if not isinstance(metrics, Mapping):
        metrics = {"metrics": metrics}
    matrix_source = metrics.get("confusion_matrix", card.get("confusion_matrix"))
    limitations = card.get("limitations") or []
    return CardView(
        training_data=card.get("training_data"),
        estimator=card.get("estimator"),
        metrics=[
            (metric_name(str(name)), _as_text(value))
            for name, value in metrics.items()
            if name != "confusion_matrix"
        ],
        confusion=confusion_matrix(matrix_source) if matrix_source is not None else None,
        importances=share_bars(importance_items(card.get("feature_importances"))),
        limitations=[str(item) for item in limitations]
        if isinstance(limitations, list)
        else [str(limitations)],
        other=[
            (humanize(str(name)), *_free_section(value))
            for name, value in card.items()
            if name not in (*CARD_SECTIONS, "confusion_matrix")
        ],
    )


def _free_section(value: Any) -> tuple[str, Any]:
    """How to show a card entry the page has no section for: ``(kind, value)``.

    A grid of numbers (an 8x8 pixel importance) becomes a shaded heat map; a mapping a
    definition list; a list a bullet list; anything else text.
    """
    grid = numeric_grid(value)
    if grid is not None:
        return "heatmap", grid
    if isinstance(value, Mapping):
        return "mapping", {str(key): _as_text(item) for key, item in value.items()}
    if isinstance(value, list) and not all(isinstance(item, (int, float)) for item in value):
        return "list", [_as_text(item) for item in value]
    return "text", _as_text(value)


def schema_rows(json_schema: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per field of an object schema for the model page's input/output tables."""
    required = set(json_schema.get("required", []))
    rows = []
    for name, prop in json_schema.get("properties", {}).items():
        kind = prop.get("type") or ("one of" if "enum" in prop else "any")
        if "enum" in prop:
            kind = "one of: " + ", ".join(str(option) for option in prop["enum"])
        elif kind == "array":
            kind = f"list of {prop.get('items', {}).get('type', 'values')}"
        elif prop.get("format"):
            kind = f"{kind} ({prop['format']})"
        rows.append(
            {
                "name": name,
                "type": kind,
                "unit": str(prop.get("x-unit") or ""),
                "constraints": describe_constraints(prop),
                "required": "required" if name in required else "optional",
                "default": "" if "default" not in prop else _as_text(prop["default"]),
                "description": str(prop.get("description") or ""),
            }
        )
    return rows
