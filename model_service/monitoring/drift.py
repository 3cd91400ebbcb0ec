"""Population stability index (PSI) between a reference histogram and a live one.

``PSI = sum((live_i - ref_i) * ln(live_i / ref_i))`` over the bins, with shares estimated by
**additive (Laplace) smoothing with a pseudo-count of 0.5 per bin**:
``share_i = (count_i + 0.5) / (total + 0.5 * bins)``, for the reference and the live window alike.
An empty bin thus gets a small positive share instead of a zero that would make the logarithm
infinite, and the estimate converges to the plain shares as counts grow.

Reading (thresholds in the settings): below ``MONITORING_PSI_WATCH`` (0.1) ``ok``, up to
``MONITORING_PSI_DRIFT`` (0.25) ``watch``, above it ``drift``; ``no data`` without live values or
without a reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

PSEUDO_COUNT = 0.5
NO_DATA = "no data"


def smoothed_shares(counts: Sequence[int]) -> list[float]:
    """Each bin's share with :data:`PSEUDO_COUNT` added to every bin."""
    total = sum(counts) + PSEUDO_COUNT * len(counts)
    return [(count + PSEUDO_COUNT) / total for count in counts]


def population_stability_index(reference: Sequence[int], live: Sequence[int]) -> float | None:
    """PSI of the ``live`` bin counts against the ``reference`` ones; None when live is empty."""
    if len(reference) != len(live):
        raise ValueError("reference and live histograms must have the same bins")
    if not sum(live) or not sum(reference):
        return None
    expected, actual = smoothed_shares(reference), smoothed_shares(live)
    return sum((a - e) * math.log(a / e) for a, e in zip(actual, expected, strict=True))


def drift_status(psi: float | None, watch: float, drift: float) -> str:
    """``ok`` / ``watch`` / ``drift`` for a PSI value, ``no data`` for None."""
    if psi is None:
        return NO_DATA
    if psi < watch:
        return "ok"
    if psi <= drift:
        return "watch"
    return "drift"


def shares(counts: Sequence[int]) -> list[float]:
    """Plain shares (summing to 1), or all zeros when there are no counts."""
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]
