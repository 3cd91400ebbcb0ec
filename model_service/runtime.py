"""What one app instance serves with: its settings, its models, and how it runs predictions."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import current_app, g, has_request_context

from model_service import prediction
from model_service.model_manager import ModelManager, ServedModel

EXTENSION_KEY = "model_service"

PredictionObserver = Callable[[ServedModel, int, float], None]
"""Called after each successful prediction with the model, the item count and the seconds taken."""



class PredictionCapture(Protocol):
    """Called after each successful prediction with the model, the items, the results, the seconds
    taken and how the version was chosen (``decision``: ``primary``, ``canary`` or ``shadow``);
    monitoring's capture, see :mod:`model_service.monitoring_app`. ``request_id`` and
    ``entry_point`` default to the current request's; a prediction run outside a request (a
    shadow copy) passes them."""

    def __call__(
        self,
        served: ServedModel,
        items: Sequence[Any],
        results: list[Any],
        seconds: float,
        *,
        decision: str = "primary",
        request_id: str | None = None,
        entry_point: str | None = None,
    ) -> None: ...


@dataclass
class ServiceRuntime:
    """Owned by the Flask app (``app.extensions["model_service"]``), one per process."""

    settings: dict[str, Any]
    manager: ModelManager
    run_prediction: prediction.PredictBatch = field(default=prediction.call_model)
    prediction_observers: list[PredictionObserver] = field(default_factory=list)
    capture: PredictionCapture | None = None

    def get_model(self, name: str, version: str | None) -> ServedModel:
        """The model a request addressed (see :meth:`ModelManager.get_model`), remembered for the
        rest of the request, so its log line and metrics name it without looking it up again."""
        served = self.manager.get_model(name, version)
        if has_request_context():
            g.served_model = served
        return served

    def predict(self, served: ServedModel, items: Sequence[Any], batch: bool) -> list[Any]:
        """Validate, predict (through the batcher when it is on) and check ``items``."""
        started = time.perf_counter()
        results = prediction.predict(served, items, batch, run=self.run_prediction)
        elapsed = time.perf_counter() - started
        for observe in self.prediction_observers:
            observe(served, len(results), elapsed)
        if self.capture is not None:
            self.capture(served, items, results, elapsed)
        return results

    def explain(self, served: ServedModel, items: Sequence[Any], batch: bool) -> list[Any]:
        """Validate and explain ``items`` (see :mod:`model_service.explanations`)."""
        return prediction.explain(served, items, batch)


def current_runtime() -> ServiceRuntime:
    """The runtime of the app handling the current request."""
    runtime: ServiceRuntime = current_app.extensions[EXTENSION_KEY]
    return runtime
