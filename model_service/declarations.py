"""Reading a ``schema`` declaration tree the same way everywhere.

The row validator, the batch cleaner and the JSON-schema export all walk a model's
``schema.Schema``; what a dict key means (required, optional, default, "any other key"), which
parts of an ``And`` check something and what a list declaration allows are decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import schema as schema_lib

from model_service.fields import FieldValidator

MISSING = object()
"""The default of an optional key that has none (``None`` is a legitimate default)."""


@dataclass(frozen=True)
class DeclaredField:
    """One named key of a dict declaration (``key`` as declared: a ``Literal`` carries the
    field's description and title)."""

    name: str
    schema: Any
    required: bool
    default: Any
    key: Any


@dataclass(frozen=True)
class DeclaredDict:
    """The named keys of a dict declaration, in order, and the schema of any other key."""

    fields: list[DeclaredField]
    other_keys: Any = MISSING


def _key_name(key: Any) -> Any:
    """The field name a dict key stands for (``Optional`` and ``Literal`` unwrapped)."""
    if isinstance(key, schema_lib.Optional):
        return _key_name(key.schema)
    if isinstance(key, schema_lib.Literal):
        return key.schema
    return key


def dict_fields(declared: dict[Any, Any]) -> DeclaredDict:
    """The fields of a dict declaration; a key that is not a field name is a ``TypeError``."""
    fields: list[DeclaredField] = []
    other_keys: Any = MISSING
    for key, value_schema in declared.items():
        if isinstance(key, schema_lib.Hook):
            continue
        name = _key_name(key)
        if name in (str, object):
            other_keys = value_schema
            continue
        if not isinstance(name, str):
            raise TypeError(f"Input schema keys must be field names (strings), not {name!r}.")
        optional = isinstance(key, schema_lib.Optional)
        default = getattr(key, "default", MISSING) if optional else MISSING
        fields.append(DeclaredField(name, value_schema, not optional, default, key))
    return DeclaredDict(fields, other_keys)


def list_item(declared: list[Any] | tuple[Any, ...]) -> Any:
    """What each element of a list declared as ``[a]`` or ``[a, b]`` must match."""
    return declared[0] if len(declared) == 1 else schema_lib.Or(*declared)


def accepts_all(declared: Any) -> bool:
    """A documenting validator (``Unit``, ``Example``) that checks nothing costs nothing."""
    return (
        isinstance(declared, FieldValidator) and type(declared).validate is FieldValidator.validate
    )


def checked_parts(declared: schema_lib.And) -> list[Any]:
    """The parts of an ``And`` that check something, in order."""
    return [part for part in declared.args if not accepts_all(part)]


def is_constant(declared: Any) -> bool:
    if isinstance(declared, schema_lib.Literal):
        return True
    return declared is None or type(declared) in (str, int, float, bool)


def constant_value(declared: Any) -> Any:
    return declared.schema if isinstance(declared, schema_lib.Literal) else declared
