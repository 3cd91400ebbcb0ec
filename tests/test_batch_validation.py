"""Batches cleaned by the compiled batch function give exactly what row-by-row validation gives:
the same cleaned values (with their types), the same problems with the same paths in the same
order, on random batches of every example model's schemas and on the bad-input corpus."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import math
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, cast

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema import And, Literal, Optional, Or, Schema, Use

from bike_demand_model.model import BikeDemandModel
from digits_model.model import DigitsModel
from iris_model.model import IrisModel
from model_service.declarations import checked_parts, constant_value, dict_fields, list_item
from model_service.errors import ErrorDetail, InvalidInput, PredictionError
from model_service.fields import Date, Example, Length, Range, Unit
from model_service.model_manager import ModelManager, ServedModel
from model_service.prediction import check_outputs, validate_items
from model_service.validation import CompiledSchema, compile_schema
from tests.fixtures import EchoModel
from tests.reliability.bad_inputs import all_cases

EVERYTHING = Schema(
    {
        Literal("x", description="bounded"): And(float, Range(0, 100), Unit("cm"), Example(1.0)),
        "count": int,
        "ratio": float,
        "flag": bool,
        "colour": Or("red", "green"),
        "mixed": Or(1, "one", None, True),
        Optional("note", default="none"): And(str, Length(max_length=5)),
        Optional("tags", default=list): [str],
        Optional("day"): Date(),
        Optional("values"): And([And(float, Range(0, 16))], Length(2, 3)),
        Optional("pair"): (int,),
        Optional("nested"): {"a": int, Optional("b"): And(float, Range(-1, 1, exclusive=True))},
        Optional("scores"): [float],
        Optional("digit", default=0): And(int, Range(0, 9)),
        Optional("even"): And(int, lambda number: number % 2 == 0),
        Optional("upper"): Use(str.upper),
        Optional("either"): Or(int, str),
    }
)
LENIENT = Schema({"x": float, Optional("y", default=None): int}, ignore_extra_keys=True)
OPEN = Schema({"x": And(float, Range(0, 1)), str: int})
BARE = Schema(
    {
        "level": Or(0, 1, 2, True),
        "raw": Range(0, 10),
        "size": Length(1, 3),
        "open_interval": And(float, Range(0, 1, exclusive=True)),
        "count": And(int, Range(0, 9, exclusive=True)),
    }
)

SCHEMAS = {
    "iris_input": IrisModel.input_schema,
    "iris_output": IrisModel.output_schema,
    "bike_input": BikeDemandModel.input_schema,
    "bike_output": BikeDemandModel.output_schema,
    "digits_input": DigitsModel.input_schema,
    "digits_output": DigitsModel.output_schema,
    "echo_input": EchoModel.input_schema,
    "echo_output": EchoModel.output_schema,
    "everything": EVERYTHING,
    "lenient": LENIENT,
    "open": OPEN,
    "bare": BARE,
}
COMPILED = {name: compile_schema(declared) for name, declared in SCHEMAS.items()}
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- values a schema accepts, and ways to break them -----------------------------------------


def valid_values(declared: Any) -> st.SearchStrategy[Any]:
    """Values ``declared`` accepts, in the forms a JSON client sends (integers for floats too)."""
    if isinstance(declared, Schema):
        return valid_values(declared.schema)
    if isinstance(declared, dict):
        parsed = dict_fields(declared)
        required = {f.name: valid_values(f.schema) for f in parsed.fields if f.required}
        optional = {f.name: valid_values(f.schema) for f in parsed.fields if not f.required}
        return st.fixed_dictionaries(required, optional=optional)
    if type(declared) in (list, tuple):
        return st.lists(valid_values(list_item(declared)), max_size=4)
    if isinstance(declared, Or):
        return st.one_of([valid_values(constant_value(option)) for option in declared.args])
    if isinstance(declared, And):
        return _valid_and(checked_parts(declared))
    if isinstance(declared, Use):
        return st.text(max_size=4)
    if isinstance(declared, Range):
        return _valid_and([float, declared])
    if isinstance(declared, Length):
        return _valid_and([str, declared]) | _valid_and([[int], declared])
    if isinstance(declared, Date):
        return st.dates().map(datetime.date.isoformat)
    return _valid_type(declared)


def _valid_type(declared: Any) -> st.SearchStrategy[Any]:
    if declared is float:
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)
    if declared is int:
        return st.integers()
    if declared is bool:
        return st.booleans()
    if declared is str:
        return st.text(max_size=4)
    if declared is dict:
        return st.dictionaries(st.text(max_size=3), st.integers(), max_size=3)
    return st.just(declared)  # a constant of an enum


def _valid_and(parts: list[Any]) -> st.SearchStrategy[Any]:
    base, *checks = parts
    ranges = [part for part in checks if isinstance(part, Range)]
    lengths = [part for part in checks if isinstance(part, Length)]
    if ranges and base in (float, int):
        bounds = ranges[0]
        low, high = bounds.minimum, bounds.maximum
        lowest = (
            None if low is None else math.floor(low) + 1 if bounds.exclusive else math.ceil(low)
        )
        highest = (
            None if high is None else math.ceil(high) - 1 if bounds.exclusive else math.floor(high)
        )
        integers = st.integers(lowest, highest)
        if base is int:
            return integers
        floats = st.floats(
            low,
            high,
            exclude_min=bounds.exclusive and low is not None,
            exclude_max=bounds.exclusive and high is not None,
            allow_nan=False,
            allow_infinity=False,
        )
        if lowest is not None and highest is not None and lowest > highest:
            return floats  # no integer in an open interval like (0, 1)
        return floats | integers
    if lengths:
        size = {"min_size": lengths[0].min_length or 0, "max_size": lengths[0].max_length}
        if type(base) is list:
            return st.lists(valid_values(base[0]), **size)
        return st.text(**size)
    strategy = valid_values(base)
    for part in checks:  # a plain callable: keep what it accepts
        strategy = strategy.filter(part)
    return strategy


BAD_VALUES = st.sampled_from(
    [
        *(None, True, False, "", "a", "red", "2024-02-30", 0, 1, 9, -1, 101, 10**20),
        *(0.0, 1.0, 3.0, 3.5, 17.0),
        *(1e308, -1e308, math.nan, math.inf, -math.inf, [], [1.0], {}, {"a": 1}),
    ]
)

EXTRA_KEYS = st.sampled_from(["extra", "x", "y", "a", "b", "note", "setosa"])


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*path, index))
    return found


@st.composite
def broken(draw: st.DrawFn, item: Any) -> Any:
    """``item`` with one thing wrong somewhere: a bad value (wrong type, NaN, out of range...), a
    key missing or extra, a list longer or shorter, or not an object at all."""
    item = copy.deepcopy(item)
    path = draw(st.sampled_from(_paths(item)))
    if not path:
        if isinstance(item, dict) and draw(st.booleans()):
            item[draw(EXTRA_KEYS)] = draw(BAD_VALUES)
            return item
        return draw(BAD_VALUES)
    *parent_path, last = path
    parent = item
    for step in parent_path:
        parent = parent[step]
    target = parent[last]
    change = draw(st.sampled_from(["replace", "remove", "grow"]))
    if change == "replace":
        parent[last] = draw(BAD_VALUES)
    elif change == "remove":
        del parent[last]
    elif isinstance(target, dict):
        target[draw(EXTRA_KEYS)] = draw(BAD_VALUES)
    elif isinstance(target, list):
        target.append(target[-1] if target else draw(BAD_VALUES))
    else:
        parent[last] = draw(BAD_VALUES)
    return item


def batches(declared: Any) -> st.SearchStrategy[list[Any]]:
    """Batches of valid and broken items, mixed."""
    valid = valid_values(declared)
    return st.lists(valid | valid.flatmap(broken), min_size=1, max_size=12)


# --- row by row, the reference ---------------------------------------------------------------


def row_wise(compiled: CompiledSchema, items: Sequence[Any]) -> tuple[list[Any], list[ErrorDetail]]:
    """Every item through the row validator: cleaned values, and problems with the index first."""
    cleaned, details = [], []
    for index, item in enumerate(items):
        value, problems = compiled.validate(item)
        cleaned.append(value)
        details += [ErrorDetail((index, *problem.path), problem.message) for problem in problems]
    return cleaned, details


def typed(value: Any) -> Any:
    """``value`` with every type and every key order spelled out, for an exact comparison."""
    if isinstance(value, dict):
        return (dict, [(key, typed(inner)) for key, inner in value.items()])
    if isinstance(value, list | tuple):
        return (type(value), [typed(inner) for inner in value])
    return (type(value), value)


def served_with(declared: Any) -> ServedModel:
    """A stand-in for a loaded model whose input and output schema are both ``declared``."""
    compiled = compile_schema(declared)
    return cast(
        ServedModel,
        SimpleNamespace(
            input_schema=compiled, output_schema=compiled, qualified_name="m", version="1"
        ),
    )


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMAS)
def test_valid_batches_are_cleaned_at_once_exactly_as_row_by_row(name: str) -> None:
    compiled = COMPILED[name]

    @FAST
    @given(st.lists(valid_values(SCHEMAS[name]), min_size=1, max_size=12))
    def check(items: list[Any]) -> None:
        expected, details = row_wise(compiled, items)
        assert details == []
        cleaned = compiled.clean_batch(items)
        assert cleaned is not None, "the batch function refused a valid batch"
        assert typed(cleaned) == typed(expected)

    check()


@pytest.mark.parametrize("name", SCHEMAS)
def test_mixed_batches_are_refused_or_cleaned_exactly_as_row_by_row(name: str) -> None:
    compiled = COMPILED[name]

    @FAST
    @given(batches(SCHEMAS[name]))
    def check(items: list[Any]) -> None:
        expected, details = row_wise(compiled, items)
        cleaned = compiled.clean_batch(items)
        if details:
            assert cleaned is None, "the batch function accepted an item with a problem"
        elif cleaned is not None:
            assert typed(cleaned) == typed(expected)

    check()


@pytest.mark.parametrize("name", SCHEMAS)
def test_validate_items_gives_the_row_by_row_errors_and_values(name: str) -> None:
    served = served_with(SCHEMAS[name])

    @FAST
    @given(batches(SCHEMAS[name]), st.booleans())
    def check(items: list[Any], batch: bool) -> None:
        items = items if batch else items[:1]
        expected, details = row_wise(served.input_schema, items)
        if not batch:
            details = [ErrorDetail(detail.path[1:], detail.message) for detail in details]
        if details:
            with pytest.raises(InvalidInput) as raised:
                validate_items(served, items, batch)
            assert raised.value.details == details
        else:
            assert typed(validate_items(served, items, batch)) == typed(expected)

    check()


@pytest.mark.parametrize("name", [name for name in SCHEMAS if name.endswith("_output")])
def test_check_outputs_refuses_and_cleans_like_row_by_row(name: str) -> None:
    served = served_with(SCHEMAS[name])

    @FAST
    @given(batches(SCHEMAS[name]))
    def check(results: list[Any]) -> None:
        expected, details = row_wise(served.output_schema, results)
        if details:
            with pytest.raises(PredictionError):
                check_outputs(served, results)
        else:
            assert typed(check_outputs(served, results)) == typed(expected)

    check()


BARE_VALID = {"level": 1, "raw": 5, "size": "ab", "open_interval": 0.5, "count": 3}
EVERYTHING_VALID = {"x": 1, "count": 1, "ratio": 0.5, "flag": True, "colour": "red", "mixed": None}


@pytest.mark.parametrize(
    ("name", "item"),
    [
        ("bare", {**BARE_VALID, "size": {"a": 1}}),  # a dict has a length, but is not a string
        ("bare", {**BARE_VALID, "raw": True}),  # True compares like 1
        ("bare", {**BARE_VALID, "level": 1.0}),  # equal to 1, but not an integer
        ("bare", {**BARE_VALID, "level": False}),  # equal to 0, but a boolean
        ("bare", {**BARE_VALID, "open_interval": 1}),
        ("bare", {**BARE_VALID, "open_interval": 0.0}),
        ("bare", {**BARE_VALID, "count": 9}),
        ("everything", {**EVERYTHING_VALID, "ratio": math.inf}),
        ("everything", {**EVERYTHING_VALID, "ratio": 10**400}),  # no float is that large
        ("everything", {**EVERYTHING_VALID, "scores": [1.0, 10**400]}),
        ("everything", {**EVERYTHING_VALID, "x": math.nan}),
        ("everything", {**EVERYTHING_VALID, "values": [1.0, math.nan]}),
        ("everything", {**EVERYTHING_VALID, "values": [1.0, True]}),
        ("everything", {**EVERYTHING_VALID, "values": [1.0, 2.0, 3.0, 4.0]}),
        ("everything", {**EVERYTHING_VALID, "scores": [1e308, 1e308, math.inf]}),
        ("everything", {**EVERYTHING_VALID, "nested": {"a": 1, "b": 1.0}}),
        ("everything", {**EVERYTHING_VALID, "mixed": 1.0}),
        ("everything", {**EVERYTHING_VALID, "even": 3}),
        ("everything", {**EVERYTHING_VALID, "tags": ["a", 1]}),
        ("everything", {**EVERYTHING_VALID, "day": "2024-W24-5"}),  # an ISO week date
        ("everything", {**EVERYTHING_VALID, "day": "2024-02-30"}),
        ("everything", {**EVERYTHING_VALID, "day": "2024-06-14T00"}),
    ],
)
def test_values_that_look_valid_to_a_careless_check_get_the_row_errors(
    name: str, item: dict[str, Any]
) -> None:
    served = served_with(SCHEMAS[name])
    _, details = row_wise(served.input_schema, [item, item])
    assert details, "the example is meant to be invalid"
    assert served.input_schema.clean_batch([item]) is None
    with pytest.raises(InvalidInput) as raised:
        validate_items(served, [item, item], batch=True)
    assert raised.value.details == details


@pytest.mark.parametrize(
    ("item", "cleaned"),
    [
        ({"x": 2, "count": 3.0}, {"x": 2.0, "count": 3}),  # 3.0 is the row validator's call
        ({"x": 0.5, "count": 1, "extra": 2}, {"x": 0.5, "count": 1, "extra": 2}),
    ],
)
def test_forms_the_batch_function_leaves_to_the_row_validator_are_still_cleaned(
    item: dict[str, Any], cleaned: dict[str, Any]
) -> None:
    served = served_with({"x": float, "count": int, Optional(str): int})
    assert served.input_schema.clean_batch([item]) is None
    assert typed(validate_items(served, [item], batch=True)) == typed([cleaned])


@pytest.mark.parametrize("depth", [1, 5, 30])
def test_deeply_nested_lists_are_still_validated(depth: int) -> None:
    declared: Any = And(float, Range(0, 1))
    valid, invalid = [0.5, 1], [0.5, 2.0]
    for _ in range(depth - 1):
        declared, valid, invalid = [declared], [valid], [valid, invalid]
    served = served_with({"deep": [declared]})
    cleaned = validate_items(served, [{"deep": valid}], batch=True)
    assert typed(cleaned) == typed(row_wise(served.input_schema, [{"deep": valid}])[0])
    _, details = row_wise(served.input_schema, [{"deep": invalid}])
    with pytest.raises(InvalidInput) as raised:
        validate_items(served, [{"deep": invalid}], batch=True)
    assert raised.value.details == details


def test_a_model_that_returns_floats_as_integers_gets_floats() -> None:
    served = served_with(BikeDemandModel.output_schema)
    assert typed(check_outputs(served, [{"rentals": 3}])) == typed([{"rentals": 3.0}])


# --- the bad-input corpus through the whole request path, both ways ---------------------------


def _row_by_row_only(values: Sequence[Any]) -> None:
    return None


@pytest.fixture
def echo(manager: ModelManager) -> ServedModel:
    return manager.get_model("echo")


def _answers(client: FlaskClient) -> list[tuple[int, Any]]:
    answers = []
    for case in all_cases():
        response = client.open(
            case.path, method=case.method, data=case.make_body(), headers=case.headers
        )
        body = response.get_json()
        if isinstance(body, dict) and "error" in body:
            body["error"].pop("request_id")
        answers.append((response.status_code, body))
    return answers


def test_bad_input_corpus_gets_the_same_answers_with_and_without_the_batch_function(
    client: FlaskClient, echo: ServedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[bool] = []
    batch_function: Callable[[Sequence[Any]], Any] = echo.input_schema.clean_batch

    def recording(values: Sequence[Any]) -> Any:
        cleaned = batch_function(values)
        refused.append(cleaned is None)
        return cleaned

    schema = echo.input_schema
    monkeypatch.setattr(echo, "input_schema", dataclasses.replace(schema, clean_batch=recording))
    with_batch_function = _answers(client)
    monkeypatch.setattr(
        echo, "input_schema", dataclasses.replace(schema, clean_batch=_row_by_row_only)
    )
    assert _answers(client) == with_batch_function
    assert sum(refused) >= 10, "too few corpus cases reached the validator to compare anything"
