"""The versions of one model compared over a window: shadow answers pair by pair against the
primary's, each version's label shares (or mean prediction), latency, errors and live quality.

The primary is the version routing named (when the caller knows it) or the one that answered most
items as ``primary`` in the window. Every other version with ``shadow``, ``canary`` or ``direct``
rows is compared with it:

* a shadow item is paired with the primary's answer to the same item: the same request id and
  item index, captured at most :data:`PAIRING_WINDOW_S` apart (so a request id a client reused
  days later does not pair); items without such an answer are counted as ``unpaired``;
* classification (the model's target field is a category, see :mod:`.reference`): the share of
  pairs whose labels agree; regression: the mean absolute difference of the predictions;
* per version, over its rows in the window whatever routed them: the share of each predicted label
  (or the mean prediction), latency p50/p99 (also per decision), failed requests and, where
  feedback came back, quality as in :mod:`.quality`.

The work is bounded: at most ``max_rows`` of the newest rows of each version are read (and at
most ``max_rows`` shadow items paired); ``capped`` says when a version had more.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from model_service.model_manager import version_key
from model_service.monitoring.analysis import latency_percentiles, quality_report
from model_service.monitoring.profiles import category_key
from model_service.monitoring.reference import ModelReference
from model_service.monitoring.store import Store

PAIRING_WINDOW_S = 300.0
"""A shadow item pairs with the primary's answer to the same item captured within 5 minutes."""
COMPARED_DECISIONS = ("shadow", "canary", "direct")
"""A version with rows of any of these decisions is compared with the primary."""
ROW_COLUMNS = ("decision", "prediction", "latency_ms", "actual", "labelled")


def compare_versions(
    store: Store,
    model: str,
    reference_of: Callable[[str], ModelReference],
    start: float | None,
    max_rows: int,
    default_primary: str,
    primary: str | None = None,
) -> dict[str, Any]:
    """The ``versions`` section of ``GET /api/models/<name>/monitoring``.

    :param reference_of: the reference (target field, quality kind) of a version.
    :param default_primary: the primary when no version answered as primary in the window.
    :param primary: the routing policy's primary, when the caller knows it.
    """
    counts = store.decision_counts(model, start)
    errors = store.error_counts(model, start)
    primary = primary or _most_primary(counts) or default_primary
    reference = reference_of(primary)
    others = sorted(
        {version for version, decision in counts if decision in COMPARED_DECISIONS} - {primary},
        key=version_key,
    )
    compared = [
        _version_figures(
            store,
            model,
            version,
            primary,
            reference_of(version),
            counts,
            errors.get(version, 0),
            start,
            max_rows,
        )
        for version in [primary, *others]
    ]
    return {
        "primary": primary,
        "kind": reference.quality_kind,
        "max_rows": max_rows,
        "capped": any(entry["capped"] for entry in compared),
        "pairing_window_s": PAIRING_WINDOW_S,
        "compared": compared,
    }


def _most_primary(counts: dict[tuple[str, str], int]) -> str | None:
    answered = {v: n for (v, decision), n in counts.items() if decision == "primary" and n}
    return max(sorted(answered), key=lambda version: answered[version], default=None)


def _version_figures(
    store: Store,
    model: str,
    version: str,
    primary: str,
    reference: ModelReference,
    counts: dict[tuple[str, str], int],
    errors: int,
    start: float | None,
    max_rows: int,
) -> dict[str, Any]:
    decisions = {decision: n for (v, decision), n in sorted(counts.items()) if v == version}
    total = sum(decisions.values())
    rows = store.window_rows(model, version, start, max_rows, ROW_COLUMNS) if total else []
    labels = [reference.predicted_value(row.prediction) for row in rows]
    by_decision: dict[str, list[float]] = {}
    for row in rows:
        by_decision.setdefault(row.decision, []).append(row.latency_ms)
    figures: dict[str, Any] = {
        "version": version,
        "is_primary": version == primary,
        "decisions": decisions,
        "rows_read": len(rows),
        "capped": len(rows) < total,
        "latency_ms": latency_percentiles([row.latency_ms for row in rows]),
        "latency_by_decision": {
            decision: latency_percentiles(latencies)
            for decision, latencies in sorted(by_decision.items())
        },
        "errors": {"count": errors, "rate": errors / (errors + total) if errors else 0.0},
        "quality": quality_report(
            reference,
            [
                (label, row.actual)
                for label, row in zip(labels, rows, strict=True)
                if row.labelled is not None
            ],
        ),
        **prediction_summary(reference.quality_kind, labels),
        "pairs": None,
        "unpaired": None,
        "agreement": None,
        "mean_absolute_difference": None,
    }
    if version != primary:
        shadowed, pairs = store.shadow_pairs(
            model, version, primary, start, max_rows, PAIRING_WINDOW_S
        )
        figures["capped"] = figures["capped"] or shadowed < decisions.get("shadow", 0)
        figures.update(
            pairs=len(pairs),
            unpaired=shadowed - len(pairs),
            **pair_agreement(
                reference.quality_kind,
                [
                    (reference.predicted_value(shadow), reference.predicted_value(answer))
                    for shadow, answer in pairs
                ],
            ),
        )
    return figures


def prediction_summary(kind: str | None, labels: Sequence[Any]) -> dict[str, Any]:
    """``label_shares`` (classification: each label's share of the predictions, labels as text)
    and ``mean`` (regression: the mean prediction); the one that does not apply is None."""
    if kind == "classification":
        found = Counter(category_key(label) for label in labels if label is not None)
        total = sum(found.values())
        shares = {label: count / total for label, count in sorted(found.items())}
        return {"label_shares": shares, "mean": None}
    if kind == "regression":
        numbers = [float(value) for value in labels if _is_number(value)]
        return {"label_shares": None, "mean": sum(numbers) / len(numbers) if numbers else None}
    return {"label_shares": None, "mean": None}


def pair_agreement(kind: str | None, pairs: Sequence[tuple[Any, Any]]) -> dict[str, Any]:
    """``agreement`` (classification: the share of pairs whose labels are equal, compared as
    text) and ``mean_absolute_difference`` (regression); None without pairs or a target."""
    agreement = difference = None
    if kind == "classification" and pairs:
        agreed = sum(category_key(shadow) == category_key(answer) for shadow, answer in pairs)
        agreement = agreed / len(pairs)
    elif kind == "regression":
        gaps = [
            abs(float(shadow) - float(answer))
            for shadow, answer in pairs
            if _is_number(shadow) and _is_number(answer)
        ]
        difference = sum(gaps) / len(gaps) if gaps else None
    return {"agreement": agreement, "mean_absolute_difference": difference}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
