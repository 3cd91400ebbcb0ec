"""The JSON body limits (nesting depth, string length) give the same verdict whichever way the
body is walked: the level-by-level walk against a plain recursive definition."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_service.api.request_body import InputLimits, parse_json
from model_service.errors import InvalidInput

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=40,
)


def violates(value: Any, limits: InputLimits, depth: int = 0) -> bool:
    """The limits as defined: a container at depth >= max_depth (the body is depth 0), or a key
    or string longer than max_string_length."""
    if isinstance(value, str):
        return len(value) > limits.max_string_length
    if isinstance(value, dict):
        if depth >= limits.max_depth:
            return True
        if any(len(key) > limits.max_string_length for key in value):
            return True
        return any(violates(child, limits, depth + 1) for child in value.values())
    if isinstance(value, list):
        if depth >= limits.max_depth:
            return True
        return any(violates(child, limits, depth + 1) for child in value)
    return False


def refused(body: bytes, limits: InputLimits) -> bool:
    try:
        parse_json(body, limits)
    except InvalidInput:
        return True
    return False


@settings(max_examples=400, deadline=None)
@given(
    document=JSON_VALUES,
    max_depth=st.integers(1, 5),
    max_string_length=st.integers(0, 12),
)
def test_limits_agree_with_their_definition(
    document: Any, max_depth: int, max_string_length: int
) -> None:
    limits = InputLimits(max_depth=max_depth, max_string_length=max_string_length)
    body = orjson.dumps(document)
    assert refused(body, limits) == violates(document, limits)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'[{"a": [[1]]}]', "nests arrays and objects more than 3 levels"),
        (b'[{"a": "' + b"x" * 11 + b'"}]', "has 11 characters"),
        (b'[{"' + b"k" * 11 + b'": 1}]', "has 11 characters"),
        (b'"' + b"y" * 11 + b'"', "has 11 characters"),
    ],
)
def test_each_limit_names_itself(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_json(body, InputLimits(max_depth=3, max_string_length=10))


def test_a_batch_of_flat_items_within_the_limits_passes() -> None:
    item = {"sepal_length": 5.1, "species": "setosa", "flags": [1, 2]}
    body = orjson.dumps([item] * 500)
    assert parse_json(body, InputLimits(max_depth=3, max_string_length=20)) == [item] * 500
