"""Describe a model's input JSON schema as form fields the predict page's macros can render.

The templates never look at raw JSON schema: each property becomes one :class:`FormField` that
says which widget to draw (``number``, ``integer``, ``select``, ``checkbox``, ``date``,
``number_grid``, ``list``, ``text``), its HTML attributes (bounds, step, lengths, pattern), whether
it is required, its default, help text and unit. Keeping this in Python keeps the macros simple and
lets the same description serve the form, the field table of the model page and the tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_GRID_ITEMS = 256
"""A fixed-length array of numbers up to this size is drawn as a grid of small inputs."""


@dataclass(frozen=True)
class FormField:
    """One input of the generated form, as plain data for the templates."""

    name: str
    label: str
    widget: str
    required: bool
    type_label: str
    description: str = ""
    unit: str = ""
    default: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    options: list[tuple[str, str]] = field(default_factory=list)
    min_items: int | None = None
    max_items: int | None = None
    grid_columns: int = 0
    constraints: str = ""

    @property
    def input_id(self) -> str:
        return f"field-{self.name}"

    @property
    def help_id(self) -> str:
        return f"help-{self.name}"

    @property
    def error_id(self) -> str:
        return f"error-{self.name}"


def humanize(name: str) -> str:
    """``sepal_length`` -> ``Sepal length``: a readable label when the schema gives no title."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def describe_fields(json_schema: Mapping[str, Any]) -> list[FormField]:
    """One :class:`FormField` per property of an object JSON schema, in declaration order."""
    properties: Mapping[str, Any] = json_schema.get("properties", {})
    required = set(json_schema.get("required", []))
    return [describe_field(name, prop, name in required) for name, prop in properties.items()]


def describe_field(name: str, prop: Mapping[str, Any], required: bool) -> FormField:
    """The form field for one property (see :func:`describe_fields`)."""
    prop = _flatten(prop)
    common: dict[str, Any] = {
        "name": name,
        "label": str(prop.get("title") or humanize(name)),
        "required": required,
        "description": str(prop.get("description") or ""),
        "unit": str(prop.get("x-unit") or ""),
        "default": prop.get("default"),
        "constraints": describe_constraints(prop),
    }
    kind = prop.get("type")
    if "enum" in prop:
        options = [(_option_value(value), str(value)) for value in prop["enum"]]
        return FormField(widget="select", type_label="one of", options=options, **common)
    if kind == "boolean":
        return FormField(widget="checkbox", type_label="yes / no", **common)
    if kind in ("number", "integer"):
        return FormField(
            widget=kind, type_label=kind, attributes=_number_attributes(prop, kind), **common
        )
    if kind == "array":
        return _array_field(prop, common)
    if kind == "string" and prop.get("format") == "date":
        return FormField(widget="date", type_label="date", **common)
    attributes = {
        "minlength": prop.get("minLength"),
        "maxlength": prop.get("maxLength"),
        "pattern": prop.get("pattern"),
    }
    return FormField(
        widget="text",
        type_label=str(kind or "text"),
        attributes={key: value for key, value in attributes.items() if value is not None},
        **common,
    )


def _flatten(prop: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``allOf`` fragments so a field declared with several validators reads as one."""
    merged = {key: value for key, value in prop.items() if key != "allOf"}
    for part in prop.get("allOf", []):
        for key, value in part.items():
            merged.setdefault(key, value)
    return merged


def _option_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _number_attributes(prop: Mapping[str, Any], kind: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "step": prop.get("multipleOf") or (1 if kind == "integer" else "any")
    }
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    if low is not None:
        attributes["min"] = _plain_number(low)
    if high is not None:
        attributes["max"] = _plain_number(high)
    return attributes


def _plain_number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _array_field(prop: Mapping[str, Any], common: dict[str, Any]) -> FormField:
    items = _flatten(prop.get("items", {}))
    min_items, max_items = prop.get("minItems"), prop.get("maxItems")
    item_kind = str(items.get("type") or "")
    numeric = item_kind in ("number", "integer")
    attributes = _number_attributes(items, item_kind) if numeric else {}
    if numeric and isinstance(max_items, int) and min_items == max_items <= MAX_GRID_ITEMS:
        return FormField(
            widget="number_grid",
            type_label=f"{max_items} {item_kind}s",
            attributes=attributes,
            min_items=min_items,
            max_items=max_items,
            grid_columns=_grid_columns(max_items),
            **common,
        )
    return FormField(
        widget="list",
        type_label=f"list of {item_kind or 'values'}",
        attributes=attributes,
        min_items=min_items,
        max_items=max_items,
        **common,
    )


def _grid_columns(count: int) -> int:
    """A square grid when the count is a square (8 x 8 pixels), else rows of up to 8."""
    root = math.isqrt(count)
    return root if root * root == count and root <= 16 else min(count, 8)


def describe_constraints(prop: Mapping[str, Any]) -> str:
    """The limits of a field in words, e.g. ``0 to 10`` or ``64 items, each 0 to 16``."""
    parts = []
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    if low is not None and high is not None:
        parts.append(f"{_plain_number(low)} to {_plain_number(high)}")
    elif low is not None:
        parts.append(f"at least {_plain_number(low)}")
    elif high is not None:
        parts.append(f"at most {_plain_number(high)}")
    if prop.get("type") == "array":
        parts.insert(0, _count_words(prop.get("minItems"), prop.get("maxItems"), "item"))
        inner = describe_constraints(_flatten(prop.get("items", {})))
        if inner:
            parts.append(f"each {inner}")
    elif "minLength" in prop or "maxLength" in prop:
        parts.append(_count_words(prop.get("minLength"), prop.get("maxLength"), "character"))
    if prop.get("pattern"):
        parts.append(f"matching {prop['pattern']}")
    return ", ".join(part for part in parts if part)


def _count_words(low: int | None, high: int | None, noun: str) -> str:
    if low is not None and low == high:
        return f"exactly {low} {noun}s"
    if low is not None and high is not None:
        return f"{low} to {high} {noun}s"
    if low is not None:
        return f"at least {low} {noun}s"
    if high is not None:
        return f"at most {high} {noun}s"
    return ""


def display_values(fields: Sequence[FormField], values: Mapping[str, Any] | None) -> dict[str, Any]:
    """What each input shows: submitted text kept as typed, else the value, else the default.

    Grids get one string per cell; a checkbox gets ``True``/``False``; every other widget a string.
    """
    values = values or {}
    shown: dict[str, Any] = {}
    for form_field in fields:
        value = values.get(form_field.name, form_field.default)
        shown[form_field.name] = _display(form_field, value)
    return shown


def _display(form_field: FormField, value: Any) -> Any:
    if form_field.widget == "checkbox":
        if isinstance(value, list):
            value = value[-1] if value else None
        return value is True or (isinstance(value, str) and value.lower() in ("true", "on", "1"))
    if form_field.widget == "number_grid":
        cells = list(value) if isinstance(value, (list, tuple)) else []
        cells += [""] * ((form_field.max_items or 0) - len(cells))
        return [_text(cell) for cell in cells]
    if form_field.widget == "list" and isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, list):
        value = value[-1] if value else None
    return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
