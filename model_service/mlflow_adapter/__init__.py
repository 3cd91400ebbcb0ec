"""Serve a model saved by MLflow (``mlflow.sklearn.save_model``/``log_model``) with no code.

Name the model's directory in the settings or on the command line::

    MODELS = [{"mlflow_model": "/models/churn", "qualified_name": "churn", "version": "2.0.0"}]
    model-service serve --mlflow-model /models/churn

:func:`mlflow_model_class` reads the directory's ``MLmodel`` file and builds an ordinary
:class:`~model_service.ml_model.MLModel` subclass from it: the input schema from the signature,
the output schema from the output signature (or a classifier's labelled probabilities), the input
example, and a model card from what MLflow recorded. Every feature of the service (REST, V2, the
form, OpenAPI, batching, explanations) then works through its generic paths.

MLflow is an optional extra (``pip install 'model-service[mlflow]'``); this module imports it only
when an MLflow model is configured, and says which extra to install when it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model_service.errors import ModelLoadError

EXTRA_HINT = "pip install 'model-service[mlflow]'"


def require_mlflow(source: str) -> None:
    """Raise :class:`ModelLoadError` naming the extra to install when MLflow is not importable."""
    try:
        import mlflow  # noqa: F401
        import pandas  # noqa: F401
    except ImportError as error:
        raise ModelLoadError(
            f"{source} is an MLflow model, but MLflow is not installed in this environment "
            f"({error}). Install the service's mlflow extra: {EXTRA_HINT}"
        ) from None


def mlflow_model_class(entry: Mapping[str, Any]) -> type:
    """The :class:`~model_service.ml_model.MLModel` subclass serving the MLflow model ``entry``
    names (``{"mlflow_model": PATH_OR_URI, "qualified_name"?, "version"?, "trusted_types"?,
    "tracking_uri"?}``).

    :raises ModelLoadError: MLflow is missing, or the model cannot be served as it is (no
        signature, untrusted types, another scikit-learn version...), with what to do.
    """
    require_mlflow(f"MLflow model {entry.get('mlflow_model')!r}")
    from model_service.mlflow_adapter.model import build_model_class

    return build_model_class(entry)
