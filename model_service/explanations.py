"""Why did the model predict this? Per-field contributions, for any model described by its schema.

The generic method (``baseline_substitution``) needs nothing from the model but its predictions: for
each input field it predicts again with that field set to a baseline value (the model's declared
baseline, else the training mean or mode from its model card), all in one ``predict_batch`` call,
and reports how much the explained value changed. The explained value is the probability of the
predicted class for a classifier (an output with a mapping of class probabilities and a label that
names one of them) or the first numeric output field for a regression.

For a linear model this is exact: the contribution of field *i* is ``coef_i * (x_i - baseline_i)``.
For other models it is a one-at-a-time sensitivity, which is what the web UI's chart says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model_service.ml_model import MLModel

GENERIC_METHOD = "baseline_substitution"


class ExplanationError(Exception):
    """Raised when a model's explanation cannot be computed (no baseline, no numeric output)."""


@dataclass(frozen=True)
class Contribution:
    """How much one input field moved the explained value away from its baseline."""

    field: str
    value: Any
    baseline: Any
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": self.value,
            "baseline": self.baseline,
            "contribution": self.contribution,
        }


@dataclass(frozen=True)
class Explanation:
    """The answer to "why": what is explained, its value, and one contribution per input field."""

    method: str
    target: str
    prediction: dict[str, Any]
    explained_value: float
    contributions: list[Contribution] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.contributions, key=lambda item: abs(item.contribution), reverse=True)
        return {
            "method": self.method,
            "target": self.target,
            "prediction": self.prediction,
            "explained_value": self.explained_value,
            "contributions": [item.to_dict() for item in ordered],
        }


TargetReader = Callable[[Mapping[str, Any]], float]


def find_target(prediction: Mapping[str, Any]) -> tuple[str, TargetReader]:
    """Choose what to explain in ``prediction``: a class probability, else a numeric field.

    :return: the target's name (``probabilities[setosa]`` or ``rentals``) and a function that
        reads the same target from another prediction of the same model.
    """
    for mapping_name, mapping in prediction.items():
        if not _is_number_mapping(mapping):
            continue
        for label_name, label in prediction.items():
            if label_name != mapping_name and not isinstance(label, dict) and str(label) in mapping:
                key = str(label)
                return f"{mapping_name}[{key}]", lambda other, m=mapping_name, k=key: float(
                    other[m][k]
                )
    for name, value in prediction.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return name, lambda other, n=name: float(other[n])
    raise ExplanationError(
        "The model's output has neither class probabilities nor a numeric field to explain; "
        "override explain() in the model class."
    )


def _is_number_mapping(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values())
    )


def baseline_substitution(
    model: MLModel, data: Mapping[str, Any], baseline: Mapping[str, Any]
) -> Explanation:
    """Explain ``data`` by setting each field to its baseline, in one ``predict_batch`` call."""
    names = list(data)
    missing = [name for name in names if name not in baseline]
    if missing:
        raise ExplanationError(
            f"No baseline for field(s) {', '.join(missing)}: declare baseline() in the model "
            "class or put a 'baseline' mapping in its model card."
        )
    variants: list[dict[str, Any]] = [dict(data)]
    variants += [{**data, name: baseline[name]} for name in names]
    predictions = model.predict_batch(variants)
    original = predictions[0]
    target, read = find_target(original)
    explained = read(original)
    contributions = [
        Contribution(name, data[name], baseline[name], explained - read(substituted))
        for name, substituted in zip(names, predictions[1:], strict=True)
    ]
    return Explanation(GENERIC_METHOD, target, dict(original), explained, contributions)


def explain_all(model: MLModel, items: Sequence[Mapping[str, Any]]) -> list[Explanation]:
    """Explain every item with the model's own :meth:`~MLModel.explain`."""
    return [model.explain(dict(item)) for item in items]
