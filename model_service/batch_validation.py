"""Compile a model's schema into one Python function that cleans a whole batch of valid values.

The row validator (:mod:`model_service.validation`) is a tree of closures that collects every
problem with its path: per field a chain of calls, each ready to build an error. For a batch of
valid rows that chain costs more than the model's own prediction. Here the same declaration becomes
the source of one function whose loop checks every field inline (exact type tests, bound
comparisons, set membership, ``min``/``max``/``sum`` over a list of numbers) and builds the cleaned
row exactly as the row validator would (same keys in the same order, an integer given for a float
converted, defaults filled).

The function only ever *accepts*. At the first value it cannot vouch for (a problem, but also an
unusual valid form such as ``3.0`` for an integer) it returns ``None`` and the caller validates row
by row, so every error message and path still comes from the row validator. A part it does not
inline (``Date``, a custom validator, an ``Or`` of shapes, a plain callable) is checked by that
part's own row closure. Such a validator therefore runs a second time for a batch that falls back.

The generated source holds only what the model's declaration says: field names as literals,
everything else (bounds, enums, defaults, row closures) as names bound in its namespace. Request
data never becomes source.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import schema as schema_lib

from model_service.declarations import (
    MISSING,
    checked_parts,
    constant_value,
    dict_fields,
    is_constant,
    list_item,
)
from model_service.fields import Date, Length, Range

BatchCleaner: TypeAlias = Callable[[Sequence[Any]], list[Any] | None]
RowCompiler: TypeAlias = Callable[[Any], Callable[[Any], Any]]

_REFUSE = "return None"
_ENUM_TYPES = (str, int, bool, type(None))  # hashable, and equal only to themselves by type
_Known: TypeAlias = type | None
"""What the generated code already knows of a variable's type (``None``: nothing)."""


def compile_batch_cleaner(declared: Any, compile_row: RowCompiler) -> BatchCleaner:
    """A function ``values -> cleaned values`` (all valid) or ``None`` (validate row by row).

    ``compile_row`` compiles a part of the declaration into its row closure; parts that are not
    inlined are checked with it.
    """
    source = _Source(compile_row)
    source.add(0, "def clean_batch(values):")
    source.add(1, "cleaned = []")
    source.add(1, "keep = cleaned.append")
    source.add(1, "try:")
    source.add(2, "for value in values:")
    source.emit(declared, "value", 3)
    source.add(3, "keep(value)")
    # Whatever the inlined checks did not expect (a row closure's refusal, an integer too large
    # for a float) is the row validator's to report.
    source.add(1, "except Exception:")
    source.add(2, _REFUSE)
    source.add(1, "return cleaned")
    try:
        return source.function("clean_batch")
    except (SyntaxError, RecursionError):  # nested past Python's limits: validate row by row
        return _row_by_row


def _row_by_row(values: Sequence[Any]) -> None:
    return None


class _Source:
    """The lines of the generated function and the namespace they refer to."""

    def __init__(self, compile_row: RowCompiler) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {}
        self._compile_row = compile_row
        self._count = 0

    def function(self, name: str) -> BatchCleaner:
        code = compile("\n".join(self.lines) + "\n", f"<batch cleaner {name}>", "exec")
        # Our own generated source, never request data (names enter through str.__repr__).
        exec(code, self.namespace)  # nosec B102
        cleaner: BatchCleaner = self.namespace[name]
        return cleaner

    def add(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def variable(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def constant(self, value: Any) -> str:
        name = self.variable("_k")
        self.namespace[name] = value
        return name

    def refuse_unless(self, depth: int, condition: str) -> None:
        self.add(depth, f"if not ({condition}): {_REFUSE}")

    def emit(self, declared: Any, value: str, depth: int, known: _Known = None) -> _Known:
        """Add the lines that check ``value`` against ``declared`` and replace it with the cleaned
        value; return the type ``value`` is then known to have."""
        if isinstance(declared, schema_lib.Schema) and type(declared) is schema_lib.Schema:
            if isinstance(declared.schema, dict):
                return self._dict(declared.schema, declared.ignore_extra_keys, value, depth)
            return self.emit(declared.schema, value, depth, known)
        if isinstance(declared, dict):
            return self._dict(declared, False, value, depth)
        if type(declared) in (list, tuple):
            return self._list(declared, value, depth)
        if isinstance(declared, type):
            return self._type(declared, value, depth)
        if isinstance(declared, schema_lib.Or):  # before And: Or subclasses And
            return self._enum(declared, value, depth)
        if isinstance(declared, schema_lib.And):
            return self._and(checked_parts(declared), value, depth, known)
        if type(declared) is Range:
            return self._range(declared, value, depth, known)
        if type(declared) is Length:
            return self._length(declared, value, depth, known)
        if type(declared) is Date:
            return self._date(value, depth)
        return self._row_closure(declared, value, depth)

    def _row_closure(self, declared: Any, value: str, depth: int) -> _Known:
        self.add(depth, f"{value} = {self.constant(self._compile_row(declared))}({value})")
        return None

    def _type(self, expected: type, value: str, depth: int, finite: bool = True) -> _Known:
        if expected is float:
            self.add(depth, f"if type({value}) is not float:")
            self.add(depth + 1, f"if type({value}) is not int: {_REFUSE}")
            self.add(depth + 1, f"{value} = float({value})")
            if finite:  # x - x is NaN for NaN and the infinities, 0.0 for a finite float
                self.add(depth, f"elif {value} - {value} != 0.0: {_REFUSE}")
            return float
        # int, bool, str, dict...: the exact type only; a subclass, or 3.0 for an int, falls back
        self.refuse_unless(depth, f"type({value}) is {self.constant(expected)}")
        return expected

    def _enum(self, declared: schema_lib.Or, value: str, depth: int) -> _Known:
        options = declared.args
        if not all(is_constant(option) for option in options):
            return self._row_closure(declared, value, depth)
        allowed = [constant_value(option) for option in options]
        if not all(type(option) in _ENUM_TYPES for option in allowed):
            return self._row_closure(declared, value, depth)
        if all(type(option) is str for option in allowed):
            allowed_set = self.constant(frozenset(allowed))
            self.refuse_unless(depth, f"type({value}) is str and {value} in {allowed_set}")
            return str
        pairs = self.constant(frozenset((type(option), option) for option in allowed))
        self.refuse_unless(depth, f"(type({value}), {value}) in {pairs}")
        return None

    def _and(self, parts: list[Any], value: str, depth: int, known: _Known) -> _Known:
        for index, part in enumerate(parts):
            if part is float and index + 1 < len(parts) and _bounds(parts[index + 1]):
                known = self._type(float, value, depth, finite=False)  # the bounds refuse NaN, inf
            else:
                known = self.emit(part, value, depth, known)
        return known

    def _range(self, declared: Range, value: str, depth: int, known: _Known) -> _Known:
        if known not in (float, int):
            self.refuse_unless(depth, f"type({value}) is float or type({value}) is int")
        self.refuse_unless(depth, _within(self, declared, value))
        return known

    def _length(self, declared: Length, value: str, depth: int, known: _Known) -> _Known:
        if known not in (str, list, tuple):
            self.refuse_unless(
                depth, " or ".join(f"type({value}) is {kind}" for kind in ("str", "list", "tuple"))
            )
        size = self.variable("size")
        self.add(depth, f"{size} = len({value})")
        limits = []
        if declared.min_length is not None:
            limits.append(f"{self.constant(declared.min_length)} <= {size}")
        if declared.max_length is not None:
            limits.append(f"{size} <= {self.constant(declared.max_length)}")
        self.refuse_unless(depth, " and ".join(limits))
        return known

    def _date(self, value: str, depth: int) -> _Known:
        """``Date``'s rule: a string of 10 characters that ``fromisoformat`` reads (a ValueError
        refuses) and that is the date's own ISO form (which refuses week dates like 2024-W24-5)."""
        parse = self.constant(datetime.date.fromisoformat)
        self.refuse_unless(depth, f"type({value}) is str and len({value}) == 10")
        self.refuse_unless(depth, f"{parse}({value}).isoformat() == {value}")
        return str

    def _list(self, declared: list[Any] | tuple[Any, ...], value: str, depth: int) -> _Known:
        self.refuse_unless(depth, f"type({value}) is list or type({value}) is tuple")
        item = list_item(declared)
        numbers = _number_parts(item)
        if numbers is not None:
            self._number_list(numbers[1] if len(numbers) == 2 else None, value, depth)
        else:
            cleaned, element = self.variable("items"), self.variable("element")
            self.add(depth, f"{cleaned} = []")
            self.add(depth, f"for {element} in {value}:")
            self.emit(item, element, depth + 1)
            self.add(depth + 1, f"{cleaned}.append({element})")
            self.add(depth, f"{value} = {cleaned}")
        if type(declared) is tuple:
            self.add(depth, f"{value} = tuple({value})")
            return tuple
        return list

    def _number_list(self, bounds: Range | None, value: str, depth: int) -> None:
        """A list of floats checked with C loops: the set of element types; the sum, NaN if any
        element is NaN; then, with no NaN to confuse them, ``min`` and ``max`` against the
        infinities and the bounds. (The sum itself may overflow to an infinity: that is no NaN.)"""
        types, total = self.variable("types"), self.variable("total")
        lowest, highest = self.variable("lowest"), self.variable("highest")
        self.add(depth, f"{types} = set(map(type, {value}))")
        self.add(depth, f"if {types} == {self.constant({float})}:")
        self.add(depth + 1, f"{value} = list({value})")
        self.add(depth, f"elif {types} <= {self.constant({float, int})}:")
        self.add(depth + 1, f"{value} = list(map(float, {value}))")
        self.add(depth, f"else: {_REFUSE}")
        self.add(depth, f"if {value}:")
        self.add(depth + 1, f"{total} = sum({value})")
        self.add(depth + 1, f"if {total} != {total}: {_REFUSE}")
        self.add(depth + 1, f"{lowest}, {highest} = min({value}), max({value})")
        infinity = self.constant(math.inf)
        self.refuse_unless(depth + 1, f"-{infinity} < {lowest} and {highest} < {infinity}")
        if bounds is not None:
            self.refuse_unless(depth + 1, _within(self, bounds, lowest, highest))

    def _dict(
        self, declared: dict[Any, Any], ignore_extra_keys: bool, value: str, depth: int
    ) -> _Known:
        parsed = dict_fields(declared)
        required = sum(field.required for field in parsed.fields)
        optional = len(parsed.fields) - required
        self.refuse_unless(depth, f"type({value}) is dict")
        if not ignore_extra_keys and not optional:
            # any other key (refused or checked by the row validator) falls back to it
            self.refuse_unless(depth, f"len({value}) == {required}")
        cleaned = self.variable("cleaned")
        present = self.variable("present")
        if optional and not ignore_extra_keys:
            self.add(depth, f"{present} = {required}")
        literal = all(field.required or field.default is not MISSING for field in parsed.fields)
        if not literal:
            self.add(depth, f"{cleaned} = {{}}")
        entries = []
        for field in parsed.fields:
            name, key = self.variable("field"), _literal(field.name)
            if field.required:
                self.add(depth, f"{name} = {value}[{key}]")
                self.emit(field.schema, name, depth)
            else:
                self.add(depth, f"if {key} in {value}:")
                self.add(depth + 1, f"{name} = {value}[{key}]")
                self.emit(field.schema, name, depth + 1)
                if not ignore_extra_keys:
                    self.add(depth + 1, f"{present} += 1")
                if field.default is not MISSING:
                    self.add(depth, "else:")
                    self.add(depth + 1, f"{name} = {self._default(field.default)}")
            if literal:
                entries.append(f"{key}: {name}")
            else:  # an optional field without default is only in the cleaned dict when given
                always = field.required or field.default is not MISSING
                self.add(depth if always else depth + 1, f"{cleaned}[{key}] = {name}")
        if optional and not ignore_extra_keys:
            self.refuse_unless(depth, f"len({value}) == {present}")
        if literal:
            self.add(depth, f"{cleaned} = {{{', '.join(entries)}}}")
        self.add(depth, f"{value} = {cleaned}")
        return dict

    def _default(self, default: Any) -> str:
        """The expression of an optional field's default: called if callable, like the row
        validator does, so each row gets its own ``list()`` or ``dict()``."""
        name = self.constant(default)
        return f"{name}()" if callable(default) else name


def _literal(name: str) -> str:
    """``name`` as a Python string literal (``str.__repr__``: a subclass cannot change it)."""
    return str.__repr__(name)


def _bounds(declared: Any) -> bool:
    """A ``Range`` whose both bounds are finite numbers: it refuses NaN and infinities itself."""
    return (
        type(declared) is Range
        and declared.minimum is not None
        and declared.maximum is not None
        and math.isfinite(declared.minimum)
        and math.isfinite(declared.maximum)
    )


def _number_parts(item: Any) -> list[Any] | None:
    """``[float]`` or ``[float, Range]`` when ``item`` declares a bounded or unbounded float."""
    parts = checked_parts(item) if type(item) is schema_lib.And else [item]
    if parts == [float] or (len(parts) == 2 and parts[0] is float and type(parts[1]) is Range):
        return parts
    return None


def _within(source: _Source, bounds: Range, low: str, high: str | None = None) -> str:
    """The condition ``low`` (and ``high``, default the same) lies within ``bounds``."""
    strict = "<" if bounds.exclusive else "<="
    limits = []
    if bounds.minimum is not None:
        limits.append(f"{source.constant(bounds.minimum)} {strict} {low}")
    if bounds.maximum is not None:
        limits.append(f"{high or low} {strict} {source.constant(bounds.maximum)}")
    return " and ".join(limits)
