"""Reference distributions: how a model's training inputs (and its predictions on them) spread.

Built once per loaded model from :meth:`MLModel.reference_data`. Each input field gets bins by its
JSON-schema type:

* numbers: the reference's deciles as edges (repeated edges merged), between a ``below`` bin
  (under the reference minimum) and an ``above`` bin (over its maximum);
* enums, booleans and strings: one bin per category seen in the reference or declared by the enum,
  plus ``other``;
* dates (``format: date`` / ``date-time``): one bin per month of the year; out of range means a
  month the reference has no day in (live dates always come after the training period, so the
  calendar range would flag every one).

Arrays and objects are not profiled. The prediction is profiled the same way: the target field of
the output (``MLModel.target_field``) as a number for regressions, by category otherwise.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["numeric", "category", "month"]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
QUANTILES = tuple(step / 10 for step in range(1, 10))
OTHER = "other"


@dataclass(frozen=True)
class FieldProfile:
    """The bins of one field and the reference's count in each."""

    name: str
    kind: Kind
    labels: tuple[str, ...]
    reference_counts: tuple[int, ...]
    edges: tuple[float, ...] = ()
    low: Any = None
    high: Any = None
    categories: tuple[str, ...] = ()

    def bin_of(self, value: Any) -> int | None:
        """The bin index of ``value``; None when it is missing or of the wrong type."""
        if value is None:
            return None
        if self.kind == "numeric":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            if value < self.low:
                return 0
            if value > self.high:
                return len(self.labels) - 1
            return 1 + bisect.bisect_right(self.edges, value) if self.edges else 1
        if self.kind == "month":
            day = _as_date(value)
            return None if day is None else day.month - 1
        key = category_key(value)
        try:
            return self.categories.index(key)
        except ValueError:
            return len(self.categories)

    def is_out_of_range(self, value: Any) -> bool:
        """Below the reference minimum, above its maximum, or a category it never had."""
        index = self.bin_of(value)
        if self.kind == "month":  # every live date is after the training period: months count
            return index is not None and self.reference_counts[index] == 0
        if index is None:
            return False
        if self.kind == "numeric":
            return index in (0, len(self.labels) - 1)
        return index == len(self.categories)

    def count(self, values: Iterable[Any]) -> tuple[list[int], int, int]:
        """(count per bin, values binned, values out of range) of ``values``."""
        counts = [0] * len(self.labels)
        binned = out_of_range = 0
        for value in values:
            index = self.bin_of(value)
            if index is None:
                continue
            counts[index] += 1
            binned += 1
            out_of_range += self.is_out_of_range(value)
        return counts, binned, out_of_range


def category_key(value: Any) -> str:
    """Categories compare as text: ``True`` -> ``true``, ``3`` -> ``3``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def field_kind(json_schema: Mapping[str, Any], integers: Kind = "numeric") -> Kind | None:
    """How a field is binned, from its JSON schema; None: not profiled (arrays, objects).

    :param integers: how to bin integers: ``numeric`` for inputs, ``category`` for a target (an
        integer target is a class label, such as a digit).
    """
    declared = json_schema.get("type")
    if "enum" in json_schema or declared == "boolean":
        return "category"
    if declared == "integer":
        return integers
    if declared == "number":
        return "numeric"
    if declared == "string":
        return "month" if json_schema.get("format") in ("date", "date-time") else "category"
    return None


def build_profile(
    name: str, kind: Kind, values: Sequence[Any], enum: Sequence[Any] = ()
) -> FieldProfile | None:
    """Bins for ``values`` (the reference's values of one field); None when it has none."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    if kind == "numeric":
        return _numeric_profile(name, [float(value) for value in present])
    if kind == "month":
        days = [day for day in map(_as_date, present) if day is not None]
        if not days:
            return None
        profile = FieldProfile(name, kind, MONTHS, tuple([0] * 12))
    else:
        categories = tuple(sorted({category_key(v) for v in [*enum, *present]}))
        labels = (*categories, OTHER)
        profile = FieldProfile(name, kind, labels, tuple([0] * len(labels)), categories=categories)
    counts, _, _ = profile.count(present)
    return _with_counts(profile, counts)


def _numeric_profile(name: str, values: list[float]) -> FieldProfile:
    array = np.asarray(values, dtype=float)
    low, high = float(array.min()), float(array.max())
    edges = tuple(
        sorted({float(edge) for edge in np.quantile(array, QUANTILES) if low < edge < high})
    )
    bounds = (low, *edges, high)
    inside = [f"{_number(a)} to {_number(b)}" for a, b in itertools.pairwise(bounds)]
    if low == high:  # every value equal: one bin between below and above
        inside = [_number(low)]
    labels = (f"below {_number(low)}", *inside, f"above {_number(high)}")
    profile = FieldProfile(
        name, "numeric", labels, tuple([0] * len(labels)), edges=edges, low=low, high=high
    )
    counts, _, _ = profile.count(values)
    return _with_counts(profile, counts)


def _with_counts(profile: FieldProfile, counts: list[int]) -> FieldProfile:
    return FieldProfile(
        profile.name,
        profile.kind,
        profile.labels,
        tuple(counts),
        profile.edges,
        profile.low,
        profile.high,
        profile.categories,
    )


def _number(value: float) -> str:
    return f"{value:.4g}"
