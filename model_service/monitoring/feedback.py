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
    where: tuple[str | int, ...] = ()
    """The item's position in the body (empty for a single object), for error paths."""


def read_labels(
    body: Any, target_check: CompiledSchema, max_items: int
) -> tuple[list[Label], list[ErrorDetail]]:
    """The labels of a feedback body (one object or a list) and the problems found (paths start
    with the item's position in a list). Items with a valid key but an invalid actual are
    returned too, so that unknown predictions can be listed among the problems."""
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
        elif isinstance(item, dict) and _is_key(item.get("request_id"), item.get("index", 0)):
            labels.append(Label(item["request_id"], item.get("index", 0), None, where))
    return labels, problems


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
    return Label(str(request_id), index, actual, where), []


def _is_key(request_id: Any, index: Any) -> bool:
    valid_index = isinstance(index, int) and not isinstance(index, bool) and index >= 0
    return isinstance(request_id, str) and bool(REQUEST_ID.match(request_id)) and valid_index


def unknown_predictions(
    labels: list[Label], known: Callable[[list[tuple[str, int]]], set[tuple[str, int]]]
) -> list[ErrorDetail]:
    """A problem per label whose prediction was never captured."""
    found = known([(label.request_id, label.index) for label in labels])
    return [
        ErrorDetail(
            label.where,
            f"no captured prediction has request id {label.request_id!r} and index {label.index}",
        )
        for label in labels
        if (label.request_id, label.index) not in found
    ]
