"""What an MLflow model answers, as one JSON object per item, and the schema of that object.

A scikit-learn classifier with ``predict_proba`` answers like the example models: the most
probable label under the output column's name (``prediction`` when the signature names none) and
``probabilities``, one per label. Any other model answers with its output signature's columns, or
``prediction`` for an unnamed output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from schema import And, Literal, Or, Schema

from model_service.fields import Range

DEFAULT_TARGET = "prediction"
PROBABILITIES = "probabilities"

_JSON_TYPE_OF_COLUMN = {
    "double": float,
    "float": float,
    "long": int,
    "integer": int,
    "boolean": bool,
    "string": str,
}


@dataclass(frozen=True)
class OutputLayout:
    """The output fields and, for a classifier, its labels (in ``classes_`` order)."""

    names: tuple[str, ...]
    types: tuple[Any, ...]
    labels: tuple[Any, ...] = ()

    @property
    def is_classifier(self) -> bool:
        return bool(self.labels)


def output_layout(outputs: Any, labels: Sequence[Any] = ()) -> OutputLayout:
    """The layout from the output signature (``None`` when there is none) and classifier labels."""
    specs = list(outputs.inputs) if outputs is not None else []
    named = [spec for spec in specs if getattr(spec, "name", None) is not None]
    if labels:
        target = str(named[0].name) if len(named) == 1 else DEFAULT_TARGET
        return OutputLayout((target,), (object,), tuple(_python(label) for label in labels))
    if not named or outputs.is_tensor_spec():
        return OutputLayout(
            (DEFAULT_TARGET,), (_value_type(specs[0]) if len(specs) == 1 else object,)
        )
    return OutputLayout(
        tuple(str(spec.name) for spec in named), tuple(_value_type(spec) for spec in named)
    )


def _value_type(spec: Any) -> Any:
    kind = getattr(spec.type, "name", None)
    if kind in _JSON_TYPE_OF_COLUMN:
        return _JSON_TYPE_OF_COLUMN[kind]
    if isinstance(spec.type, np.dtype) and not getattr(spec, "shape", (-1,))[1:]:
        return {"b": bool, "i": int, "u": int, "f": float}.get(spec.type.kind, object)
    return object


def output_schema(layout: OutputLayout, name: str) -> Schema:
    """One item of the model's output."""
    if layout.is_classifier:
        return Schema(
            {
                Literal(layout.names[0], description="The most probable label."): Or(
                    *layout.labels
                ),
                Literal(PROBABILITIES, description="Probability of each label."): {
                    str(label): And(float, Range(0.0, 1.0)) for label in layout.labels
                },
            },
            name=name,
        )
    return Schema(dict(zip(layout.names, layout.types, strict=True)), name=name)


def classifier_results(layout: OutputLayout, probabilities: Any) -> list[dict[str, Any]]:
    """One result per row of ``predict_proba``: the most probable label and every probability."""
    keys = [str(label) for label in layout.labels]
    return [
        {
            layout.names[0]: layout.labels[int(np.argmax(row))],
            PROBABILITIES: dict(zip(keys, row.tolist(), strict=True)),
        }
        for row in np.asarray(probabilities, dtype=float)
    ]


def prediction_results(layout: OutputLayout, predictions: Any, count: int) -> list[dict[str, Any]]:
    """One result per item from what ``predict`` returned (DataFrame, Series, array or list)."""
    if isinstance(predictions, pd.DataFrame):
        if len(layout.names) == 1 and layout.names[0] not in predictions.columns:
            predictions = predictions.iloc[:, 0]
        else:
            return [
                {name: _python(row[name]) for name in layout.names}
                for _, row in predictions.iterrows()
            ]
    if isinstance(predictions, dict) and len(layout.names) == 1:
        predictions = next(iter(predictions.values()))
    values = list(np.asarray(predictions)) if not isinstance(predictions, list) else predictions
    if len(values) != count:
        raise ValueError(f"the model returned {len(values)} predictions for {count} items")
    return [{layout.names[0]: _python(value)} for value in values]


def _python(value: Any) -> Any:
    """A NumPy scalar or array as the plain Python value JSON encodes."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
