"""What one app instance serves with: its settings, its models, and how it runs predictions."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from flask import current_app, g, has_request_context

from model_service import prediction
from model_service.flask_locals import current_globals
from model_service.model_manager import ModelManager, ServedModel, version_key
from model_service.routing import DIRECT, PRIMARY, RoutingPolicy, RoutingTable, validate

EXTENSION_KEY = "model_service"
UNKNOWN_ENTRY_POINT = "unknown"
"""The entry point of a prediction whose request is not known (none was given, none is current)."""

PredictionObserver = Callable[[ServedModel, int, float], None]
"""Called after each successful prediction with the model, the item count and the seconds taken."""


class Route(NamedTuple):
    """How one request's model was chosen: the version that answers, the decision (``primary``,
    ``canary`` or ``direct``) and the versions its items are copied to afterwards (shadows).
    A named tuple: one is made per prediction request."""

    served: ServedModel
    decision: str = PRIMARY
    shadows: tuple[str, ...] = ()


class ShadowSubmitter(Protocol):
    """Takes a copy of a request's items for its shadow versions (see :mod:`.shadow`)."""

    def submit(
        self,
        model: str,
        versions: Sequence[str],
        items: Sequence[Any],
        request_id: str,
        entry_point: str,
    ) -> None: ...


class PredictionCapture(Protocol):
    """Called after each successful prediction with the model, the items, the results, the seconds
    taken, how the version was chosen (``decision``: ``primary``, ``canary``, ``direct`` or
    ``shadow``) and the request it answered (its id and entry point, resolved once by
    :meth:`ServiceRuntime.predict`; a shadow copy passes its primary request's); monitoring's
    capture, see :mod:`model_service.monitoring_app`."""

    def __call__(
        self,
        served: ServedModel,
        items: Sequence[Any],
        results: list[Any],
        seconds: float,
        *,
        decision: str,
        request_id: str,
        entry_point: str,
    ) -> None: ...


@dataclass
class ServiceRuntime:
    """Owned by the Flask app (``app.extensions["model_service"]``), one per process."""

    settings: dict[str, Any]
    manager: ModelManager
    run_prediction: prediction.PredictBatch = field(default=prediction.call_model)
    prediction_observers: list[PredictionObserver] = field(default_factory=list)
    capture: PredictionCapture | None = None
    routing: RoutingTable = field(default_factory=RoutingTable)
    shadow: ShadowSubmitter | None = None
    entry_point_of: Callable[[], str] = field(default=lambda: UNKNOWN_ENTRY_POINT)
    """Where the current request came in (set by monitoring: ``rest_json``, ``v2``, ``grpc``)."""

    def __post_init__(self) -> None:
        # the settings' DEFAULT_VERSIONS, under the pins the routing policies add
        self._configured_defaults = dict(self.manager.default_versions)

    def get_model(self, name: str, version: str | None) -> ServedModel:
        """The model a request addressed (see :meth:`ModelManager.get_model`), remembered for the
        rest of the request, so its log line and metrics name it without looking it up again."""
        served = self.manager.get_model(name, version)
        if has_request_context():
            g.served_model = served
        return served

    def route(self, name: str, version: str | None, routing_key: str | None = None) -> Route:
        """Resolve the model of a request once: ``version`` when the URL names one (``direct``),
        else the routing policy's choice (see :mod:`model_service.routing`). Remembered for the
        rest of the request (``g.route``, ``g.served_model``)."""
        policy = self.routing.get(name) if version is None else None
        if version is not None:
            route = Route(self.manager.get_model(name, version), DIRECT)
        elif policy is None:
            route = Route(self.manager.get_model(name, None))
        else:
            chosen, decision = policy.choose(routing_key)
            served = self.manager.get_model(name, chosen)
            shadows: tuple[str, ...] = ()
            if policy.shadow:  # a version answering this request is not also its shadow
                shadows = tuple(v for v in policy.sample_shadows() if v != served.version)
            route = Route(served, decision, shadows)
        if has_request_context():
            state = current_globals()  # g itself, taken once for both
            state.route, state.served_model = route, route.served
        return route

    def predict(
        self,
        served: ServedModel,
        items: Sequence[Any],
        batch: bool,
        *,
        route: Route | None = None,
        request_id: str | None = None,
        entry_point: str | None = None,
    ) -> list[Any]:
        """Validate, predict (through the batcher when it is on) and check ``items``; capture
        them with the routing decision, then queue them for the route's shadow versions.

        :param route: how ``served`` was chosen; default: the current request's (``g.route``).
        :param request_id: default: the current request's.
        :param entry_point: default: the current request's (:attr:`entry_point_of`).
        """
        started = time.perf_counter()
        results = prediction.predict(served, items, batch, run=self.run_prediction)
        elapsed = time.perf_counter() - started
        for observe in self.prediction_observers:
            observe(served, len(results), elapsed)
        state = current_globals() if has_request_context() else None
        if route is None and state is not None:
            route = state.get("route")
        shadows = route.shadows if route is not None and self.shadow is not None and results else ()
        if self.capture is None and not shadows:
            return results
        # the request these items belong to, for the capture rows and the shadow copies
        if request_id is None:
            request_id = state.get("request_id", "") if state is not None else ""
        if entry_point is None:
            entry_point = self.entry_point_of() if state is not None else UNKNOWN_ENTRY_POINT
        if self.capture is not None:
            decision = route.decision if route is not None and route.served is served else PRIMARY
            self.capture(
                served,
                items,
                results,
                elapsed,
                decision=decision,
                request_id=request_id,
                entry_point=entry_point,
            )
        if shadows and self.shadow is not None:
            self.shadow.submit(served.qualified_name, shadows, items, request_id, entry_point)
        return results

    def set_routing(self, name: str, document: Any) -> RoutingPolicy | None:
        """Validate ``document`` against the loaded versions of ``name`` and make it current
        (the previous policy is kept for :meth:`rollback_routing`)."""
        policy = self.validate_routing(name, document)
        self.routing.set(name, policy)
        self.pin_primaries()
        return policy

    def rollback_routing(self, name: str) -> RoutingPolicy | None:
        """Make the previous policy of ``name`` current again (:class:`LookupError`: none)."""
        policy = self.routing.rollback(name)
        self.pin_primaries()
        return policy

    def forget_routing(self, name: str) -> None:
        """Drop the policy of a model no longer served."""
        self.routing.forget(name)
        self.pin_primaries()

    def validate_routing(self, name: str, document: Any) -> RoutingPolicy:
        """The policy ``document`` describes for ``name`` (:class:`InvalidInput` otherwise)."""
        versions = self.manager.versions(name)
        default = self._configured_defaults.get(name) or max(versions, key=version_key)
        return validate(name, document, versions, default)

    def pin_primaries(self) -> None:
        """The manager's default versions follow the policies' primaries, so every unversioned
        look-up (model list, metadata, V2) names the version that answers."""
        primaries = {n: p.primary for n, p in self.routing.policies.items() if p.primary}
        self.manager.default_versions = {**self._configured_defaults, **primaries}

    def explain(self, served: ServedModel, items: Sequence[Any], batch: bool) -> list[Any]:
        """Validate and explain ``items`` (see :mod:`model_service.explanations`)."""
        return prediction.explain(served, items, batch)


def current_runtime() -> ServiceRuntime:
    """The runtime of the app handling the current request."""
    runtime: ServiceRuntime = current_app.extensions[EXTENSION_KEY]
    return runtime
