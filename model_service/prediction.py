"""Validate, predict and check: the one path every protocol (REST, V2, web form) goes through."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from model_service.errors import (
    ErrorDetail,
    ExplanationUnavailable,
    InvalidInput,
    PredictionError,
    PredictionTimeout,
)
from model_service.model_manager import ServedModel

logger = logging.getLogger(__name__)

PredictBatch = Callable[[ServedModel, list[dict[str, Any]]], list[Any]]


def validate_items(served: ServedModel, items: Sequence[Any], batch: bool) -> list[dict[str, Any]]:
    """Return the items cleaned by the input schema, or raise :class:`InvalidInput` with every
    problem of every item (paths start with the item's index when ``batch``)."""
    fast = served.input_schema.clean_batch(items)
    if fast is not None:
        return fast
    check = served.input_schema.validate
    cleaned: list[dict[str, Any]] = []
    details: list[ErrorDetail] = []
    for index, item in enumerate(items):
        value, problems = check(item)
        if problems:
            details.extend(
                ErrorDetail((index, *problem.path), problem.message) if batch else problem
                for problem in problems
            )
        else:
            cleaned.append(value)
    if details:
        what = "items do" if batch else "input does"
        raise InvalidInput(
            f"The {what} not match the input schema of {served.qualified_name} "
            f"{served.version}: {len(details)} problem(s).",
            details,
        )
    return cleaned


def call_model(served: ServedModel, items: list[dict[str, Any]]) -> list[Any]:
    """Run the model's ``predict_batch``; any exception becomes :class:`PredictionError`."""
    try:
        results = served.model.predict_batch(items)
    except PredictionTimeout:
        raise  # the batcher's deadline interrupted a hung model: a 504, not the model's fault
    except Exception:
        logger.exception(
            "Model %s %s raised while predicting", served.qualified_name, served.version
        )
        raise PredictionError(
            f"Model {served.qualified_name} {served.version} failed while predicting; the "
            "error is logged under this request's id."
        ) from None
    if not isinstance(results, list) or len(results) != len(items):
        logger.error(
            "Model %s %s returned %r results for %d items",
            served.qualified_name,
            served.version,
            type(results).__name__,
            len(items),
        )
        raise PredictionError(
            f"Model {served.qualified_name} {served.version} returned a malformed batch result."
        )
    return results


def check_outputs(served: ServedModel, results: list[Any]) -> list[Any]:
    """Return the results cleaned by the output schema; a mismatch is the model's fault (500)."""
    fast = served.output_schema.clean_batch(results)
    if fast is not None:
        return fast
    check = served.output_schema.validate
    cleaned = []
    for result in results:
        value, problems = check(result)
        if problems:
            logger.error(
                "Model %s %s returned a result off its output schema: %s",
                served.qualified_name,
                served.version,
                "; ".join(f"{list(p.path)}: {p.message}" for p in problems),
            )
            raise PredictionError(
                f"Model {served.qualified_name} {served.version} returned a result that does not "
                "match its output schema; the details are logged under this request's id."
            )
        cleaned.append(value)
    return cleaned


def predict(
    served: ServedModel,
    items: Sequence[Any],
    batch: bool,
    run: PredictBatch = call_model,
) -> list[Any]:
    """Validate ``items``, predict them with ``run`` (batcher or direct call), check results."""
    cleaned = validate_items(served, items, batch)
    if not cleaned:  # an empty batch: nothing to ask the model
        return []
    return check_outputs(served, run(served, cleaned))


def explain(served: ServedModel, items: Sequence[Any], batch: bool) -> list[dict[str, Any]]:
    """Validate ``items`` like :func:`predict`, then explain each with the model's ``explain``."""
    if not served.model.explainable:
        raise ExplanationUnavailable(served.qualified_name, served.version)
    explanations = []
    for item in validate_items(served, items, batch):
        try:
            explanation = served.model.explain(item).to_dict()
        except Exception:
            logger.exception(
                "Model %s %s raised while explaining", served.qualified_name, served.version
            )
            raise PredictionError(
                f"Model {served.qualified_name} {served.version} failed to explain this input; "
                "the error is logged under this request's id."
            ) from None
        explanation["prediction"] = check_outputs(served, [explanation["prediction"]])[0]
        values = [explanation["explained_value"]]
        values += [item["contribution"] for item in explanation["contributions"]]
        if not all(math.isfinite(value) for value in values):
            raise PredictionError(
                f"Model {served.qualified_name} {served.version} produced a non-finite explanation."
            )
        explanations.append(explanation)
    return explanations
