"""Compile a model's ``schema.Schema`` once into a fast validator and a JSON schema.

``Schema.validate`` stops at the first problem; a client wants every problem at once, each with the
path of the field at fault. :func:`compile_schema` walks the schema tree once at load time and
builds
plain Python closures that check every field, collect every problem and convert JSON numbers the
way a JSON client expects (an integer is a valid ``float``; NaN and infinities are not numbers).
Parts it does not know are handed to ``schema`` itself, so no declaration is ever ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import schema as schema_lib

from model_service.batch_validation import BatchCleaner, compile_batch_cleaner
from model_service.declarations import (
    MISSING,
    checked_parts,
    constant_value,
    dict_fields,
    is_constant,
    list_item,
)
from model_service.errors import ErrorDetail
from model_service.fields import FieldValidator

Path = tuple[str | int, ...]
Check = Callable[[Any], Any]


class _Invalid(Exception):
    """Internal: the problems found under one node, with paths relative to it."""

    def __init__(self, details: list[ErrorDetail]) -> None:
        super().__init__(details)
        self.details = details

    @classmethod
    def one(cls, message: str) -> _Invalid:
        return cls([ErrorDetail((), message)])


def _prefixed(prefix: str | int, details: list[ErrorDetail]) -> list[ErrorDetail]:
    return [ErrorDetail((prefix, *detail.path), detail.message) for detail in details]


@dataclass(frozen=True)
class CompiledSchema:
    """A schema ready for the hot path: ``validate`` and its published ``json_schema``.

    ``clean_batch(values)`` returns every value cleaned exactly as ``validate`` would when it can
    vouch that all are valid, in a fraction of the time; ``None`` when it cannot (a problem, or a
    form it leaves to ``validate``): then ``validate`` each value for the problems.
    """

    check: Check
    json_schema: dict[str, Any]
    clean_batch: BatchCleaner

    def validate(self, value: Any) -> tuple[Any, list[ErrorDetail]]:
        """Return ``(cleaned value, [])`` or ``(None, every problem found)``."""
        try:
            return self.check(value), []
        except _Invalid as invalid:
            return None, invalid.details


def compile_schema(declared: Any) -> CompiledSchema:
    """Build the validator and the JSON schema of a ``schema.Schema`` (or a bare declaration)."""
    return CompiledSchema(
        check=_compile(declared),
        json_schema=to_json_schema(declared),
        clean_batch=compile_batch_cleaner(declared, _compile),
    )


# --- validation -------------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return names.get(type(value), type(value).__name__)


def _check_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid.one(f"expected a number, got {_type_name(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the largest float (about 1.8e308)
        raise _Invalid.one("expected a number a float can hold, got a larger integer") from None
    if not math.isfinite(number):
        raise _Invalid.one("expected a finite number, got NaN or infinity")
    return number


def _check_int(value: Any) -> int:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid.one(f"expected an integer, got {_type_name(value)}")
    return value


def _check_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid.one(f"expected a boolean, got {_type_name(value)}")
    return value


def _check_type(expected: type) -> Check:
    special = {float: _check_float, int: _check_int, bool: _check_bool}
    if expected in special:
        return special[expected]
    readable = _JSON_TYPES.get(expected, expected.__name__)

    def check(value: Any) -> Any:
        if not isinstance(value, expected):
            raise _Invalid.one(f"expected {readable}, got {_type_name(value)}")
        return value

    return check


def _check_with_schema_lib(declared: Any) -> Check:
    """Fallback for declarations this module does not model: let ``schema`` decide."""
    wrapped = schema_lib.Schema(declared)

    def check(value: Any) -> Any:
        try:
            return wrapped.validate(value)
        except schema_lib.SchemaError as error:
            raise _Invalid.one(_schema_error_message(error)) from None
        except Exception as error:  # a validator that raised something else is still a refusal
            raise _Invalid.one(f"rejected by {declared!r}: {error}") from None

    return check


def _schema_error_message(error: schema_lib.SchemaError) -> str:
    messages = [message for message in error.errors if message] or [
        message for message in error.autos if message
    ]
    return messages[-1] if messages else "invalid value"


def _compile(declared: Any) -> Check:
    if isinstance(declared, schema_lib.Schema) and type(declared) is schema_lib.Schema:
        if isinstance(declared.schema, dict):
            return _compile_dict(declared.schema, declared.ignore_extra_keys)
        return _compile(declared.schema)
    if isinstance(declared, dict):
        return _compile_dict(declared, ignore_extra_keys=False)
    if type(declared) in (list, tuple):
        return _compile_list(declared)
    if isinstance(declared, type):
        return _check_type(declared)
    if isinstance(declared, schema_lib.Or):  # before And: Or subclasses And
        return _compile_or(declared)
    if isinstance(declared, schema_lib.And):
        return _compile_and([_compile(part) for part in checked_parts(declared)])
    if isinstance(declared, FieldValidator):
        return _check_field_validator(declared)
    return _check_with_schema_lib(declared)


def _check_field_validator(validator: FieldValidator) -> Check:
    validate = validator.validate

    def check(value: Any) -> Any:
        try:
            return validate(value)
        except schema_lib.SchemaError as error:
            raise _Invalid.one(_schema_error_message(error)) from None

    return check


def _compile_and(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> Any:
        for part in checks:
            value = part(value)
        return value

    return check


def _compile_or(declared: schema_lib.Or) -> Check:
    options = declared.args
    if all(is_constant(option) for option in options):
        allowed = [constant_value(option) for option in options]

        def check_enum(value: Any) -> Any:
            for option in allowed:
                if value == option and type(value) is type(option):
                    return value
            raise _Invalid.one(f"{value!r} is not one of {', '.join(map(repr, allowed))}")

        return check_enum
    checks = [_compile(option) for option in options]

    def check(value: Any) -> Any:
        problems: list[str] = []
        for part in checks:
            try:
                return part(value)
            except _Invalid as invalid:
                problems.extend(detail.message for detail in invalid.details)
        raise _Invalid.one("matches none of the allowed forms: " + "; ".join(problems))

    return check


def _compile_list(declared: list[Any] | tuple[Any, ...]) -> Check:
    item_check = _compile(list_item(declared))
    container = type(declared)

    def check(value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise _Invalid.one(f"expected an array, got {_type_name(value)}")
        cleaned: list[Any] = []
        details: list[ErrorDetail] = []
        for index, item in enumerate(value):
            try:
                cleaned.append(item_check(item))
            except _Invalid as invalid:
                details.extend(_prefixed(index, invalid.details))
        if details:
            raise _Invalid(details)
        return container(cleaned)

    return check


@dataclass(frozen=True)
class _Field:
    name: str
    check: Check
    required: bool
    default: Any


def _compile_dict(declared: dict[Any, Any], ignore_extra_keys: bool) -> Check:
    parsed = dict_fields(declared)
    fields = [
        _Field(field.name, _compile(field.schema), field.required, field.default)
        for field in parsed.fields
    ]
    extra_values = None if parsed.other_keys is MISSING else _compile(parsed.other_keys)
    known = {field.name for field in fields}

    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _Invalid.one(f"expected an object, got {_type_name(value)}")
        cleaned: dict[str, Any] = {}
        details: list[ErrorDetail] = []
        for field in fields:
            if field.name not in value:
                if field.required:
                    details.append(ErrorDetail((field.name,), "required field is missing"))
                elif field.default is not MISSING:
                    default = field.default
                    cleaned[field.name] = default() if callable(default) else default
                continue
            try:
                cleaned[field.name] = field.check(value[field.name])
            except _Invalid as invalid:
                details.extend(_prefixed(field.name, invalid.details))
        for name in value.keys() - known:
            if extra_values is not None:
                try:
                    cleaned[name] = extra_values(value[name])
                except _Invalid as invalid:
                    details.extend(_prefixed(name, invalid.details))
            elif not ignore_extra_keys:
                details.append(ErrorDetail((name,), "unexpected field (not in the input schema)"))
        if details:
            raise _Invalid(details)
        return cleaned

    return check


# --- JSON schema export -----------------------------------------------------------------------

_JSON_TYPES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}


def to_json_schema(declared: Any) -> dict[str, Any]:
    """The JSON schema (draft 2020-12 compatible subset) a client sees for ``declared``."""
    exported = _export(declared)
    if isinstance(declared, schema_lib.Schema):
        if declared.name:
            exported["title"] = declared.name
        if declared.description:
            exported["description"] = declared.description
    return exported


def _export(declared: Any) -> dict[str, Any]:
    if isinstance(declared, schema_lib.Schema) and type(declared) is schema_lib.Schema:
        if isinstance(declared.schema, dict):
            return _export_dict(declared.schema, declared.ignore_extra_keys)
        return _export(declared.schema)
    if isinstance(declared, dict):
        return _export_dict(declared, ignore_extra_keys=False)
    if type(declared) in (list, tuple):
        return {"type": "array", "items": _export(list_item(declared))}
    if isinstance(declared, type):
        return {"type": _JSON_TYPES[declared]} if declared in _JSON_TYPES else {}
    if isinstance(declared, schema_lib.Or):  # before And: Or subclasses And
        return _export_or(declared)
    if isinstance(declared, schema_lib.And):
        return _merge([_export(part) for part in declared.args])
    if isinstance(declared, schema_lib.Regex):
        return {"type": "string", "pattern": declared.pattern_str}
    if is_constant(declared):
        return {"const": constant_value(declared)}
    if hasattr(declared, "json_schema") and callable(declared.json_schema):
        return dict(declared.json_schema())
    return {}  # a plain callable: validated, but has no JSON schema equivalent


def _export_or(declared: schema_lib.Or) -> dict[str, Any]:
    if all(is_constant(option) for option in declared.args):
        values = [constant_value(option) for option in declared.args]
        exported: dict[str, Any] = {"enum": values}
        types = {_JSON_TYPES.get(type(value)) for value in values}
        if len(types) == 1 and None not in types:
            exported["type"] = types.pop()
        return exported
    options = [_export(option) for option in declared.args]
    return {"anyOf": options}


def _merge(fragments: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for fragment in fragments:
        for key, value in fragment.items():
            if key in merged and merged[key] != value:
                return {"allOf": [fragment for fragment in fragments if fragment]}
            merged[key] = value
    if merged.get("type") == "array":
        for string_key, array_key in (("minLength", "minItems"), ("maxLength", "maxItems")):
            if string_key in merged:
                merged[array_key] = merged.pop(string_key)
    return merged


def _export_dict(declared: dict[Any, Any], ignore_extra_keys: bool) -> dict[str, Any]:
    parsed = dict_fields(declared)
    properties: dict[str, Any] = {}
    for field in parsed.fields:
        exported_field = _export(field.schema)
        literal = field.key.schema if isinstance(field.key, schema_lib.Optional) else field.key
        if isinstance(literal, schema_lib.Literal):
            if literal.description:
                exported_field["description"] = literal.description
            if literal.title:
                exported_field["title"] = literal.title
        if field.default is not MISSING and not callable(field.default):
            exported_field["default"] = field.default
        properties[field.name] = exported_field
    exported: dict[str, Any] = {"type": "object", "properties": properties}
    required = [field.name for field in parsed.fields if field.required]
    if required:
        exported["required"] = required
    additional: Any = ignore_extra_keys
    if parsed.other_keys is not MISSING:
        additional = _export(parsed.other_keys) or True
    exported["additionalProperties"] = additional
    return exported
