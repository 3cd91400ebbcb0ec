"""Turn text fields (HTML forms, ``x-www-form-urlencoded`` bodies, CSV cells) into JSON values.

Text carries no types, so each field is converted by the type its JSON schema declares; a value
that cannot be converted is reported with its path, like any other validation problem.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from model_service.errors import ErrorDetail

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
_LIST_SEPARATOR = re.compile(r"[\s,;]+")


class CoercionError(ValueError):
    """A text value that cannot become the declared type."""


def _to_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CoercionError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise CoercionError(f"{text!r} is not a finite number")
    return value


def _to_integer(text: str) -> int:
    value = _to_number(text)
    if not value.is_integer():
        raise CoercionError(f"{text!r} is not an integer")
    return int(value)


def _to_boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CoercionError(f"{text!r} is not a boolean (true/false)")


def _split_list(text: str) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            raise CoercionError("is not a JSON array") from None
        if not isinstance(value, list):
            raise CoercionError("is not a JSON array")
        return value
    return [part for part in _LIST_SEPARATOR.split(stripped) if part]


def coerce_value(raw: str | Sequence[str], field_schema: Mapping[str, Any]) -> Any:
    """Convert one field's text (or repeated form values) by its JSON schema."""
    kind = field_schema.get("type")
    if kind == "array":
        parts: list[Any] = list(raw) if not isinstance(raw, str) else _split_list(raw)
        if len(parts) == 1 and isinstance(parts[0], str) and not isinstance(raw, str):
            parts = _split_list(parts[0])
        item_schema = field_schema.get("items", {})
        return [
            part if not isinstance(part, str) else coerce_value(part, item_schema) for part in parts
        ]
    text = raw if isinstance(raw, str) else (raw[-1] if raw else "")
    if kind == "number":
        return _to_number(text)
    if kind == "integer":
        return _to_integer(text)
    if kind == "boolean":
        return _to_boolean(text)
    if "enum" in field_schema and kind is None:
        for option in field_schema["enum"]:
            if str(option) == text or (
                isinstance(option, bool) and str(option).lower() == text.lower()
            ):
                return option
    return text


def coerce_fields(
    fields: Mapping[str, str | Sequence[str] | None], json_schema: Mapping[str, Any]
) -> tuple[dict[str, Any], list[ErrorDetail]]:
    """Convert text fields to a JSON item by the object's JSON schema.

    Empty values are dropped, so an optional field left blank takes its default and a required one
    is reported missing. Fields the schema does not name stay text (validation then reports them).
    """
    properties: Mapping[str, Any] = json_schema.get("properties", {})
    item: dict[str, Any] = {}
    problems: list[ErrorDetail] = []
    for name, raw in fields.items():
        if raw is None or raw == "" or (not isinstance(raw, str) and all(p == "" for p in raw)):
            continue
        field_schema = properties.get(name)
        if field_schema is None:
            item[name] = raw if isinstance(raw, str) else raw[-1]
            continue
        try:
            item[name] = coerce_value(raw, field_schema)
        except CoercionError as error:
            problems.append(ErrorDetail((name,), str(error)))
    return item, problems
