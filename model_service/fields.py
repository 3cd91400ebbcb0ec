"""Validators that model authors put in their ``schema.Schema`` and that also export JSON schema.

The ``schema`` package exports types, enums, optional keys with defaults and regular expressions to
JSON schema, but a bound written as a callable (``And(float, lambda x: 0 <= x <= 100)``) exports as
a
bare ``number``. Each validator here validates exactly like a callable would *and* carries the JSON
schema fragment that describes it, so the API, the web form and the OpenAPI document all see it::

    from schema import Literal, Optional, Or, Schema
    from model_service.fields import Date, Length, Range, Unit

    input_schema = Schema({
        Literal("temperature", description="Air temperature in degrees Celsius"):
            And(float, Range(-30, 50), Unit("°C")),
        "season": Or("spring", "summer", "autumn", "winter"),
        "date": Date(),
        "pixels": And([float], Length(64, 64)),
    })

They work with ``Schema.validate`` too, so a schema behaves the same inside and outside the service.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
from typing import Any

from schema import SchemaError


class FieldValidator:
    """Base of the validators in this module: ``validate`` plus the JSON schema it stands for.

    Subclass it to add your own: override :meth:`validate` (return the value, raise ``SchemaError``
    with a sentence a user understands) and :meth:`json_schema` (the fragment to merge into the
    field's JSON schema).
    """

    def validate(self, value: Any) -> Any:
        """Return ``value`` (possibly converted) or raise ``SchemaError``. Override this."""
        return value

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema keywords this validator enforces. Override this."""
        return {}

    def __repr__(self) -> str:
        keywords = ", ".join(f"{key}={value!r}" for key, value in self.json_schema().items())
        return f"{type(self).__name__}({keywords})"


class Range(FieldValidator):
    """A number between ``minimum`` and ``maximum`` (inclusive unless ``exclusive=True``)."""

    def __init__(
        self,
        minimum: float | None = None,
        maximum: float | None = None,
        *,
        exclusive: bool = False,
    ) -> None:
        if minimum is None and maximum is None:
            raise ValueError("Range needs a minimum, a maximum or both.")
        self.minimum = minimum
        self.maximum = maximum
        self.exclusive = exclusive

    def validate(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SchemaError(f"{value!r} is not a number")
        if math.isnan(value):
            raise SchemaError("NaN is not a number in range")
        too_low = self.minimum is not None and (
            value <= self.minimum if self.exclusive else value < self.minimum
        )
        too_high = self.maximum is not None and (
            value >= self.maximum if self.exclusive else value > self.maximum
        )
        if too_low or too_high:
            raise SchemaError(f"{value!r} is out of range: must be {self._describe()}")
        return value

    def _describe(self) -> str:
        low = "<" if self.exclusive else "<="
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum} {low} value {low} {self.maximum}"
        if self.minimum is not None:
            return f"{'>' if self.exclusive else '>='} {self.minimum}"
        return f"{low} {self.maximum}"

    def json_schema(self) -> dict[str, Any]:
        fragment: dict[str, Any] = {}
        if self.minimum is not None:
            fragment["exclusiveMinimum" if self.exclusive else "minimum"] = self.minimum
        if self.maximum is not None:
            fragment["exclusiveMaximum" if self.exclusive else "maximum"] = self.maximum
        return fragment


class Length(FieldValidator):
    """A string or a list whose length lies between ``min_length`` and ``max_length``."""

    def __init__(self, min_length: int | None = None, max_length: int | None = None) -> None:
        if min_length is None and max_length is None:
            raise ValueError("Length needs a min_length, a max_length or both.")
        self.min_length = min_length
        self.max_length = max_length

    def validate(self, value: Any) -> Any:
        if not isinstance(value, (str, list, tuple)):
            raise SchemaError(f"{type(value).__name__} has no length")
        size = len(value)
        if self.min_length is not None and size < self.min_length:
            raise SchemaError(f"length {size} is below the minimum of {self.min_length}")
        if self.max_length is not None and size > self.max_length:
            raise SchemaError(f"length {size} is above the maximum of {self.max_length}")
        return value

    def json_schema(self) -> dict[str, Any]:
        fragment: dict[str, Any] = {}
        if isinstance(self.min_length, int):
            fragment["minLength"] = self.min_length
        if isinstance(self.max_length, int):
            fragment["maxLength"] = self.max_length
        return fragment


class Date(FieldValidator):
    """A calendar date written as ISO 8601 ``YYYY-MM-DD`` (JSON schema ``format: date``).

    The value stays a string, so what the model receives is what a JSON client sent.
    """

    def validate(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise SchemaError(f"{value!r} is not a date string (YYYY-MM-DD)")
        try:
            parsed = datetime.date.fromisoformat(value)
        except ValueError:
            raise SchemaError(f"{value!r} is not a valid date (YYYY-MM-DD)") from None
        if len(value) != 10 or parsed.isoformat() != value:
            raise SchemaError(f"{value!r} is not a date in the form YYYY-MM-DD")
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


class Unit(FieldValidator):
    """Documents the unit of a number (shown in forms and results); accepts every value."""

    def __init__(self, unit: str) -> None:
        self.unit = unit

    def json_schema(self) -> dict[str, Any]:
        return {"x-unit": self.unit}


class Example(FieldValidator):
    """Documents an example value for a field; accepts every value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def json_schema(self) -> dict[str, Any]:
        return {"examples": [self.value]}


class DateTime(FieldValidator):
    """A moment written as ISO 8601 ``YYYY-MM-DDTHH:MM[:SS[.ffffff]][+HH:MM]`` (JSON schema
    ``format: date-time``); a time zone is optional. The value stays a string."""

    def validate(self, value: Any) -> Any:
        if not isinstance(value, str) or len(value) < 16 or value[10] not in "Tt ":
            raise SchemaError(f"{value!r} is not a date-time string (YYYY-MM-DDTHH:MM:SS)")
        try:
            datetime.datetime.fromisoformat(value)
        except ValueError:
            raise SchemaError(f"{value!r} is not a valid date-time (YYYY-MM-DDTHH:MM:SS)") from None
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


class Base64(FieldValidator):
    """Binary data written as standard base64 text (JSON schema ``contentEncoding: base64``).

    The value stays a string; :func:`base64.b64decode` gives the bytes back.
    """

    def validate(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise SchemaError(f"{value!r} is not base64 text")
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SchemaError("is not valid base64 text") from None
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "contentEncoding": "base64"}
