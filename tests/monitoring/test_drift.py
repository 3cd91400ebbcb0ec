"""PSI against an independent numpy computation, the status reading, and the reference bins."""

from __future__ import annotations

import numpy as np
import pytest

from model_service.monitoring.drift import drift_status, population_stability_index
from model_service.monitoring.profiles import build_profile

RNG_SEED = 20261202


def numpy_psi(reference: np.ndarray, live: np.ndarray, edges: np.ndarray) -> float:
    """The textbook PSI over the given bin edges, with 0.5 added to every bin's count."""
    bins = np.concatenate(([-np.inf], edges, [np.inf]))
    expected = np.histogram(reference, bins=bins)[0] + 0.5
    actual = np.histogram(live, bins=bins)[0] + 0.5
    expected, actual = expected / expected.sum(), actual / actual.sum()
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def reference_edges(reference: np.ndarray) -> np.ndarray:
    """Below-min, deciles and above-max edges, as the profile documents them."""
    deciles = np.quantile(reference, np.arange(1, 10) / 10)
    low, high = reference.min(), reference.max()
    inner = np.unique(deciles[(deciles > low) & (deciles < high)])
    # [low, ...) opens the first inside bin; (high, inf) is "above"
    return np.concatenate(([low], inner, [np.nextafter(high, np.inf)]))


@pytest.mark.parametrize(
    ("shift", "scale", "expected_status"),
    [(0.0, 1.0, "ok"), (0.3, 1.0, "watch"), (1.5, 1.0, "drift"), (0.0, 3.0, "drift")],
)
def test_psi_of_a_shifted_normal_matches_numpy(
    shift: float, scale: float, expected_status: str
) -> None:
    rng = np.random.default_rng(RNG_SEED)
    reference = rng.normal(0, 1, 2000)
    live = rng.normal(shift, scale, 1500)
    profile = build_profile("x", "numeric", reference.tolist())
    assert profile is not None
    counts, binned, _ = profile.count(live.tolist())

    psi = population_stability_index(profile.reference_counts, counts)

    assert binned == 1500
    assert psi == pytest.approx(numpy_psi(reference, live, reference_edges(reference)), rel=1e-9)
    assert drift_status(psi, 0.1, 0.25) == expected_status


def test_categories_psi_matches_numpy_and_counts_unseen_values_as_other() -> None:
    reference = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    live = ["a"] * 10 + ["b"] * 10 + ["c"] * 60 + ["z"] * 20
    profile = build_profile("x", "category", reference)
    assert profile is not None
    counts, binned, out_of_range = profile.count(live)

    expected = np.array([50, 30, 20, 0]) + 0.5
    actual = np.array([10, 10, 60, 20]) + 0.5
    expected, actual = expected / expected.sum(), actual / actual.sum()
    reference_psi = float(np.sum((actual - expected) * np.log(actual / expected)))

    assert profile.labels == ("a", "b", "c", "other")
    assert counts == [10, 10, 60, 20]
    assert (binned, out_of_range) == (100, 20)
    assert population_stability_index(profile.reference_counts, counts) == pytest.approx(
        reference_psi
    )


def test_numeric_values_outside_the_reference_range_fall_in_below_and_above() -> None:
    profile = build_profile("t", "numeric", [float(value) for value in range(100)])
    assert profile is not None
    counts, binned, out_of_range = profile.count([-5.0, 0.0, 50.0, 99.0, 150.0, None, "x"])
    assert (binned, out_of_range) == (5, 2)
    assert counts[0] == 1 and counts[-1] == 1
    assert profile.labels[0] == "below 0" and profile.labels[-1] == "above 99"


def test_dates_are_binned_by_month_and_unseen_months_are_out_of_range() -> None:
    reference = [f"2023-{month:02d}-15" for month in range(3, 10)]  # March to September
    profile = build_profile("date", "month", reference)
    assert profile is not None
    counts, binned, out_of_range = profile.count(["2026-01-02", "2026-04-01", "2026-12-31"])
    assert binned == 3 and out_of_range == 2
    assert counts[0] == 1 and counts[3] == 1 and counts[11] == 1


def test_booleans_are_categories() -> None:
    profile = build_profile("holiday", "category", [True, False, False, False])
    assert profile is not None
    assert profile.labels == ("false", "true", "other")
    assert profile.reference_counts == (3, 1, 0)


@pytest.mark.parametrize(
    ("psi", "status"),
    [
        (None, "no data"),
        (0.0, "ok"),
        (0.0999, "ok"),
        (0.1, "watch"),
        (0.25, "watch"),
        (0.2501, "drift"),
    ],
)
def test_status_reading_of_psi(psi: float | None, status: str) -> None:
    assert drift_status(psi, 0.1, 0.25) == status


def test_no_live_values_is_no_data_not_zero() -> None:
    assert population_stability_index((10, 20, 30), (0, 0, 0)) is None
