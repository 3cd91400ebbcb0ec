"""Ground-truth feedback: read and check ``{"request_id", "index", "actual"}`` items.

A call is accepted whole or refused whole: every problem (malformed item, invalid ``actual``,
unknown prediction) is listed with the item's position as the path, like predictions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from model_service.errors import ErrorDetail, InvalidInput
from model_service.validation import CompiledSchema

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
KEYS = {"request_id", "index", "actual"}


@dataclass(frozen=True)
class Label:
    """The actual value of one captured prediction."""

    request_id: str
    index: int
    actual: Any


def read_labels(
    body: Any, target_check: CompiledSchema, max_items: int
) -> tuple[list[Label], list[ErrorDetail], bool]:
    """The labels of a feedback body (one object or a list), the problems found, and whether it
    was a list (problem paths then start with the item's position)."""
    batch = isinstance(body, list)
    items = body if batch else [body]
    if batch and not items:
        raise InvalidInput("Send at least one feedback item.")
    if len(items) > max_items:
        raise InvalidInput(f"Send at most {max_items} feedback items per call.")
    labels: list[Label] = []
    problems: list[ErrorDetail] = []
    for position, item in enumerate(items):
        where: tuple[str | int, ...] = (position,) if batch else ()
        label, found = _read_one(item, target_check, where)
        problems.extend(found)
        if label is not None:
            labels.append(label)
    return labels, problems, batch


def _read_one(
    item: Any, target_check: CompiledSchema, where: tuple[str | int, ...]
) -> tuple[Label | None, list[ErrorDetail]]:
    if not isinstance(item, dict):
        return None, [ErrorDetail(where, 'expected an object {"request_id", "index", "actual"}')]
    problems = [
        ErrorDetail((*where, key), "unknown key; expected request_id, index and actual")
        for key in item
        if key not in KEYS
    ]
    request_id, index = item.get("request_id"), item.get("index", 0)
    if not isinstance(request_id, str) or not REQUEST_ID.match(request_id):
        problems.append(
            ErrorDetail((*where, "request_id"), "expected the request id of a prediction")
        )
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        problems.append(ErrorDetail((*where, "index"), "expected a non-negative integer"))
    if "actual" not in item:
        problems.append(ErrorDetail((*where, "actual"), "missing: the true value"))
        actual = None
    else:
        actual, invalid = target_check.validate(item["actual"])
        problems += [ErrorDetail((*where, "actual", *p.path), p.message) for p in invalid]
    if problems:
        return None, problems
    return Label(str(request_id), index, actual), []


def unknown_predictions(
    labels: list[Label], batch: bool, known: Callable[[list[tuple[str, int]]], set[tuple[str, int]]]
) -> list[ErrorDetail]:
    """A problem per label whose prediction was never captured."""
    keys = [(label.request_id, label.index) for label in labels]
    found = known(keys)
    return [
        ErrorDetail(
            (position,) if batch else (),
            f"no captured prediction has request id {key[0]!r} and index {key[1]}",
        )
        for position, key in enumerate(keys)
        if key not in found
    ]
