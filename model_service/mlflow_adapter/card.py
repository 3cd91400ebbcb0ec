"""The model card of an MLflow model, from what MLflow recorded in its directory."""

from __future__ import annotations

import platform
from typing import Any

import mlflow

from model_service.mlflow_adapter.loading import LoadedModel, flavor_names


def model_card(
    loaded: LoadedModel, run: dict[str, Any] | None, baseline: dict[str, Any] | None
) -> dict[str, Any]:
    """Flavor, library versions, the run's metrics and parameters, and the artifact's checksum."""
    metadata = loaded.metadata
    flavors = [name for name in metadata.flavors if name != "python_function"]
    flavor = flavor_names(metadata)
    sklearn_flavor = metadata.flavors.get("sklearn", {})
    estimator = type(loaded.raw_model).__name__ if loaded.raw_model is not None else None
    card: dict[str, Any] = {
        "estimator": _describe_estimator(estimator, flavor, sklearn_flavor, metadata),
        "saved_model": _without_none(
            {
                "source": str(loaded.path),
                "flavors": flavors,
                "run_id": metadata.run_id,
                "created": metadata.utc_time_created,
                "artifact_sha256": loaded.checksum,
                "serialization_format": sklearn_flavor.get("serialization_format"),
            }
        ),
        "library_versions": {
            "recorded": _recorded_versions(metadata, sklearn_flavor),
            "installed": _installed_versions(),
        },
        "limitations": [
            "Served from an MLflow model directory: the training data and held-out metrics are "
            "what MLflow recorded with the run, if the run is reachable.",
        ],
    }
    if run is not None:
        card["metrics"] = run["metrics"]
        card["parameters"] = run["params"]
    if baseline is not None:
        card["baseline"] = baseline
    return card


def _describe_estimator(
    estimator: str | None, flavor: str, sklearn_flavor: dict[str, Any], metadata: Any
) -> str:
    what = f"{estimator} ({flavor} flavor" if estimator else f"MLflow {flavor} model ("
    if sklearn_flavor.get("sklearn_version"):
        what += f", scikit-learn {sklearn_flavor['sklearn_version']}"
    return f"{what}, saved by MLflow {metadata.mlflow_version})"


def _recorded_versions(metadata: Any, sklearn_flavor: dict[str, Any]) -> dict[str, Any]:
    python_flavor = metadata.flavors.get("python_function", {})
    return _without_none(
        {
            "mlflow": metadata.mlflow_version,
            "python": python_flavor.get("python_version"),
            "scikit-learn": sklearn_flavor.get("sklearn_version"),
        }
    )


def _installed_versions() -> dict[str, str]:
    import sklearn

    return {
        "mlflow": mlflow.__version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
    }


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}
