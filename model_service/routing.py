"""Routing policies: which version of a model answers an unversioned request, and which versions
receive a copy of it (shadow traffic).

A policy per model (knows nothing of Flask or HTTP):

* ``primary``: the version that answers by default (``None``: the manager's default version);
* ``canary``: ``{version: percent}``, 0-100 % of unversioned requests in total, each given to
  that version instead of the primary;
* ``shadow``: ``{version: percent}``, the share of requests whose items are also predicted by
  that version after the answer is sent (never returned).

A request without a routing key draws its version at random; with one, a keyed BLAKE2b hash of
(model, key) picks one of 10,000 buckets, so one key always gets one version for a given policy.
A versioned URL bypasses the policy (decision ``direct``).
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from model_service.errors import ErrorDetail, InvalidInput

ROUTING_KEY_HEADER = "X-Routing-Key"
"""A client's sticky routing key: the same key always gets the same version of a policy."""
MODEL_VERSION_HEADER = "X-Model-Version"
"""Set on every prediction response: the version that answered."""
BUCKETS = 10_000
"""Granularity of a weight: 0.01 %."""
POLICY_KEYS = ("primary", "canary", "shadow")

PRIMARY, CANARY, SHADOW, DIRECT = "primary", "canary", "shadow", "direct"
"""How a version was chosen (the ``decision`` recorded with each captured item)."""


@dataclass(frozen=True)
class RoutingPolicy:
    """The validated policy of one model (see the module docstring)."""

    model: str
    primary: str | None = None
    canary: Mapping[str, float] = field(default_factory=dict)
    shadow: Mapping[str, float] = field(default_factory=dict)

    def choose(self, routing_key: str | None = None) -> tuple[str | None, str]:
        """The version that answers (``None``: the manager's default) and the decision."""
        if not self.canary:
            return self.primary, PRIMARY
        bucket = _random_bucket() if routing_key is None else self.bucket(routing_key)
        threshold = 0
        for version, percent in self.canary.items():
            threshold += round(percent * BUCKETS / 100)
            if bucket < threshold:
                return version, CANARY
        return self.primary, PRIMARY

    def bucket(self, routing_key: str) -> int:
        """The routing key's bucket, 0 to 9,999: the same for the same model and key."""
        digest = hashlib.blake2b(
            routing_key.encode(), key=self.model.encode()[:64], digest_size=8
        ).digest()
        return int.from_bytes(digest, "big") % BUCKETS

    def sample_shadows(self) -> list[str]:
        """The shadow versions this request's items are copied to (each sampled on its own)."""
        return [
            version
            for version, percent in self.shadow.items()
            if percent >= 100 or (percent > 0 and _random_bucket() < percent * BUCKETS / 100)
        ]

    def versions(self) -> set[str]:
        """Every version the policy names."""
        named = set(self.canary) | set(self.shadow)
        return named | {self.primary} if self.primary is not None else named

    def to_dict(self) -> dict[str, Any]:
        return {"primary": self.primary, "canary": dict(self.canary), "shadow": dict(self.shadow)}


def _random_bucket() -> int:
    # splitting traffic, not a secret: the module's generator is the fast one
    return random.randrange(BUCKETS)  # nosec B311


def validate(
    model: str,
    document: Any,
    loaded_versions: Iterable[str],
    default_version: str | None = None,
) -> RoutingPolicy:
    """Check a policy document against the versions loaded; return the policy.

    :param default_version: the version answering when the document names no primary.
    :raises InvalidInput: listing every problem with its path.
    """
    if not isinstance(document, Mapping):
        raise InvalidInput(
            f"The routing policy of {model} must be a JSON object with the keys "
            "'primary', 'canary' and 'shadow'.",
            [ErrorDetail((), "expected an object")],
        )
    loaded = set(loaded_versions)
    problems = [
        ErrorDetail((key,), f"unknown key; the keys are {', '.join(POLICY_KEYS)}")
        for key in document
        if key not in POLICY_KEYS
    ]
    primary = document.get("primary")
    if primary is not None and not isinstance(primary, str):
        problems.append(ErrorDetail(("primary",), "expected a version string or null"))
        primary = None
    elif primary is not None and primary not in loaded:
        problems.append(ErrorDetail(("primary",), _unknown_version(model, primary, loaded)))
    canary = _weights(model, document, "canary", loaded, problems)
    shadow = _weights(model, document, "shadow", loaded, problems)
    total = sum(canary.values())
    if total > 100:
        problems.append(ErrorDetail(("canary",), f"the weights add up to {total:g} %, over 100"))
    answering = primary if primary is not None else default_version
    for section, weights in (("canary", canary), ("shadow", shadow)):
        if answering is not None and answering in weights:
            problems.append(
                ErrorDetail(
                    (section, answering), f"{answering} is the primary; it cannot be a {section}"
                )
            )
    if problems:
        raise InvalidInput(
            f"The routing policy of {model} has {len(problems)} problem(s).", problems
        )
    return RoutingPolicy(model, primary, canary, shadow)


def _weights(
    model: str, document: Mapping[str, Any], section: str, loaded: set[str], problems: list[Any]
) -> dict[str, float]:
    value = document.get(section)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(ErrorDetail((section,), "expected an object of version: percent"))
        return {}
    weights: dict[str, float] = {}
    for version, weight in value.items():
        path = (section, version)
        if version not in loaded:
            problems.append(ErrorDetail(path, _unknown_version(model, version, loaded)))
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            problems.append(ErrorDetail(path, "expected a number of percent, 0 to 100"))
        elif not math.isfinite(weight) or not 0 <= weight <= 100:
            problems.append(ErrorDetail(path, f"{weight} is not between 0 and 100"))
        else:
            weights[version] = float(weight)
    return weights


def _unknown_version(model: str, version: str, loaded: set[str]) -> str:
    return f"{model} has no loaded version {version!r} (loaded: {', '.join(sorted(loaded))})"


class RoutingTable:
    """The policies of one process, with a history per model for rollbacks.

    Readers take the current mapping without a lock: changes replace it as a whole.
    """

    def __init__(self) -> None:
        self.policies: dict[str, RoutingPolicy] = {}
        self.history: dict[str, list[RoutingPolicy | None]] = {}
        self._lock = threading.Lock()

    def get(self, model: str) -> RoutingPolicy | None:
        return self.policies.get(model)

    def set(
        self, model: str, policy: RoutingPolicy | None, *, remember: bool = True
    ) -> RoutingPolicy | None:
        """Make ``policy`` current (``None``: no policy), keeping the previous one for rollback
        when ``remember``."""
        with self._lock:
            if remember:
                self.history.setdefault(model, []).append(self.policies.get(model))
            self._replace(model, policy)
        return policy

    def rollback(self, model: str) -> RoutingPolicy | None:
        """Go back to the previous policy; :class:`LookupError` when there is none."""
        with self._lock:
            previous = self.history.get(model)
            if not previous:
                raise LookupError(model)
            policy = previous.pop()
            self._replace(model, policy)
        return policy

    def forget(self, model: str) -> None:
        """Drop the policy and history of a model that is no longer served."""
        with self._lock:
            self.history.pop(model, None)
            self._replace(model, None)

    def _replace(self, model: str, policy: RoutingPolicy | None) -> None:
        policies = dict(self.policies)
        if policy is None or policy == RoutingPolicy(model):
            policies.pop(model, None)
        else:
            policies[model] = policy
        self.policies = policies


def promoted(policy: RoutingPolicy | None, model: str, version: str) -> dict[str, Any]:
    """The policy document in which ``version`` is the primary: its canary weight and shadow
    entry removed, every other entry kept."""
    current = policy or RoutingPolicy(model)
    return {
        "primary": version,
        "canary": {name: w for name, w in current.canary.items() if name != version},
        "shadow": {name: w for name, w in current.shadow.items() if name != version},
    }
