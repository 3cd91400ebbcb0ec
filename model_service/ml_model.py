"""The contract every served model implements: the :class:`MLModel` base class.

A data scientist ships a model as an ordinary Python package whose class derives from
:class:`MLModel`. The service needs nothing else: the name, version and schemas the class declares
are what the API, the web UI and the OpenAPI document show. This module imports nothing of Flask,
so a model package depends on the contract, not on the web stack.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from schema import Schema

from model_service.errors import ModelLoadError
from model_service.explanations import Explanation, ExplanationError, baseline_substitution

__all__ = ["Explanation", "MLModel", "ModelLoadError"]

QUALIFIED_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


class MLModel(ABC):
    """Base class of a servable model.

    Declare, as class attributes or properties:

    * ``qualified_name``: URL-safe id (lower case letters, digits, ``_``), e.g. ``iris_model``;
    * ``display_name`` and ``description``: what people read in the UI and the docs;
    * ``version``: a semantic version string; several versions of one model may be served at once;
    * ``input_schema`` and ``output_schema``: ``schema.Schema`` objects describing one item. Every
      request is validated against ``input_schema`` before :meth:`predict` sees it, and every result
      is checked against ``output_schema``. Use :mod:`model_service.fields` for bounds, lengths,
      dates and units, so they show in the published JSON schema too.

    Then implement :meth:`predict`; override :meth:`predict_batch` when the model can predict many
    items in one vectorised call (that is what concurrent requests are batched into). The
    constructor loads the model's parameters from the package's own files, never from the network,
    and raises :class:`ModelLoadError` naming the file and what to do when it cannot.
    """

    qualified_name: ClassVar[str]
    display_name: ClassVar[str]
    description: ClassVar[str]
    version: ClassVar[str]
    input_schema: ClassVar[Schema]
    output_schema: ClassVar[Schema]
    explainable: ClassVar[bool] = True
    """Set to ``False`` when explanations make no sense for the model (the endpoint is then off)."""
    target_field: ClassVar[str | None] = None
    """The output field that ground truth is given for (``POST .../feedback`` validates ``actual``
    against it; monitoring measures accuracy or error on it and profiles it for drift)."""

    @abstractmethod
    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        """Predict for one item that already matches ``input_schema``. **Override this.**

        :param data: one validated input item.
        :return: one result matching ``output_schema``.
        """
        raise NotImplementedError("predict() must be implemented by the model class")

    def predict_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Predict for many validated items, returning results in the same order.

        The default calls :meth:`predict` once per item. **Override this** when the estimator can
        predict many rows in one call: scikit-learn's cost is mostly per call, not per row.
        """
        return [self.predict(item) for item in items]

    def model_card(self) -> dict[str, Any] | None:
        """What the model was trained on, its held-out metrics, feature importances and known
        limitations, as plain JSON-ready data (shown in the UI and metadata). Optional."""
        return None

    def example_input(self) -> dict[str, Any] | None:
        """One valid input item, used by the docs, the web form and Swagger's "try it out"."""
        return None

    def reference_data(self) -> list[dict[str, Any]] | None:
        """A sample of the training inputs (a few hundred to a few thousand items, shipped in the
        package), that monitoring compares live inputs with to detect drift. Optional.

        **Override this** to return the items (each matching ``input_schema``).
        """
        return None

    def baseline(self) -> dict[str, Any] | None:
        """The reference input that explanations compare against, one value per field.

        Defaults to the ``baseline`` mapping of :meth:`model_card` (training means and modes).
        **Override this** to declare another reference.
        """
        card = self.model_card() or {}
        baseline = card.get("baseline")
        return dict(baseline) if isinstance(baseline, dict) else None

    def explain(self, data: dict[str, Any]) -> Explanation:
        """Why the model predicts what it does for ``data``: one contribution per input field.

        The default sets each field in turn to its :meth:`baseline` value and measures the change
        in the predicted class's probability (classification) or predicted number (regression),
        in one :meth:`predict_batch` call. **Override this** with an exact method when the model
        has one (for example coefficient x standardised value for a linear pipeline).
        """
        baseline = self.baseline()
        if baseline is None:
            raise ExplanationError(
                "The model declares no baseline: override baseline() or put a 'baseline' "
                "mapping of training means/modes in model_card()."
            )
        return baseline_substitution(self, data, baseline)

    @classmethod
    def check_declaration(cls) -> None:
        """Raise :class:`ModelLoadError` when the class does not declare the contract correctly.

        Called by the service before instantiating the class, so a mistake is reported with the
        name of the class and the attribute to fix.
        """
        where = f"{cls.__module__}.{cls.__qualname__}"
        for attribute in ("qualified_name", "display_name", "description", "version"):
            value = getattr(cls, attribute, None)
            if not isinstance(value, str) or not value:
                raise ModelLoadError(f"{where} must declare '{attribute}' as a non-empty string.")
        if not QUALIFIED_NAME_PATTERN.match(cls.qualified_name):
            raise ModelLoadError(
                f"{where}.qualified_name {cls.qualified_name!r} is not URL-safe: use lower case "
                "letters, digits and '_', starting with a letter (at most 63 characters)."
            )
        if not VERSION_PATTERN.match(cls.version):
            raise ModelLoadError(
                f"{where}.version {cls.version!r} is not a semantic version such as '1.0.0'."
            )
        for attribute in ("input_schema", "output_schema"):
            if not isinstance(getattr(cls, attribute, None), Schema):
                raise ModelLoadError(f"{where} must declare '{attribute}' as a schema.Schema.")
