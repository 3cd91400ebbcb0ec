"""Find an MLflow model's directory, check it, and load it through ``mlflow.pyfunc``.

Checks made before any of the model's code or data is loaded, each refusing with what to do:

* the model has a signature (the service's schemas come from it);
* a scikit-learn model was saved with the installed scikit-learn version (as for package models);
* a skops file (MLflow's default format for scikit-learn models since 3.x) needs no type beyond
  those skops trusts by default and those the operator trusts (``MLFLOW_TRUSTED_TYPES`` or the
  entry's ``trusted_types``). The types the model's author listed when saving are not enough on
  their own: they come from the same directory as the file they vouch for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import mlflow
import mlflow.pyfunc
from mlflow.models import Model

from model_service.artifacts import check_sklearn_version, sha256_of
from model_service.errors import ModelLoadError

TRUSTED_TYPES_SETTING = "MLFLOW_TRUSTED_TYPES"
REMOTE_SCHEMES = ("runs", "models")


@dataclass(frozen=True)
class LoadedModel:
    """An MLflow model loaded for serving: the pyfunc, its metadata and what was checked."""

    path: Path
    metadata: Model
    pyfunc: Any
    raw_model: Any
    checksum: str


def local_path(uri: str, tracking_uri: str | None = None) -> Path:
    """The local directory of ``uri``: a path, a ``file:`` URI, or ``runs:/``/``models:/``
    downloaded from the configured tracking server or directory."""
    scheme = urlsplit(uri).scheme
    if scheme in REMOTE_SCHEMES:
        if not tracking_uri:
            raise ModelLoadError(
                f"{uri} names a model in an MLflow tracking store, but none is configured: set "
                "MLFLOW_TRACKING_URI in the settings (or 'tracking_uri' on the model entry), or "
                "give the model's directory instead."
            )
        return Path(
            mlflow.artifacts.download_artifacts(artifact_uri=uri, tracking_uri=tracking_uri)
        )
    path = Path(unquote(urlsplit(uri).path)) if scheme == "file" else Path(uri)
    if not (path / "MLmodel").is_file():
        raise ModelLoadError(
            f"{uri} is not an MLflow model directory (no MLmodel file in {path.resolve()}). Give "
            "the directory that mlflow.<flavor>.save_model wrote, or a log_model's artifact."
        )
    return path.resolve()


def read_metadata(path: Path, source: str) -> Model:
    """The model's ``MLmodel`` metadata; refuse a model without an input signature."""
    metadata = Model.load(str(path / "MLmodel"))
    if metadata.signature is None or metadata.signature.inputs is None:
        raise ModelLoadError(
            f"{source} has no signature, so the service cannot know what input it takes. Log it "
            "again with one: signature=mlflow.models.infer_signature(X_train, "
            "model.predict(X_train)) in mlflow.<flavor>.log_model or save_model (an "
            "input_example gives the form and the docs an example too)."
        )
    return metadata


def load_model(
    path: Path, metadata: Model, trusted_types: Sequence[str], source: str
) -> LoadedModel:
    """Check the model's files, then load it with ``mlflow.pyfunc.load_model``."""
    sklearn_flavor = metadata.flavors.get("sklearn")
    if sklearn_flavor is not None:
        model_file = path / str(sklearn_flavor.get("pickled_model", ""))
        if sklearn_flavor.get("sklearn_version"):
            check_sklearn_version(model_file, str(sklearn_flavor["sklearn_version"]))
        if sklearn_flavor.get("serialization_format") == "skops":
            # pyfunc loads the python_function flavor's file: check it too when it differs
            pyfunc_file = metadata.flavors.get("python_function", {}).get("model_path")
            for file in {model_file, path / str(pyfunc_file or model_file.name)}:
                check_skops_types(file, trusted_types, source)
    pyfunc = mlflow.pyfunc.load_model(str(path))
    try:
        raw_model = pyfunc.get_raw_model()
    except NotImplementedError:
        raw_model = None
    return LoadedModel(path, metadata, pyfunc, raw_model, directory_checksum(path))


def check_skops_types(model_file: Path, trusted_types: Sequence[str], source: str) -> None:
    """Refuse a skops file that needs types neither skops nor the operator trusts."""
    import skops.io

    untrusted = sorted(set(skops.io.get_untrusted_types(file=model_file)) - set(trusted_types))
    if untrusted:
        listed = ", ".join(untrusted)
        raise ModelLoadError(
            f"{source} needs types that skops does not trust by default to load "
            f"{model_file.name}: {listed}. A crafted file can abuse them (for a tree model's "
            "node storage, a crash or a read outside memory). If you trust where the model comes "
            f"from, trust exactly these types: {TRUSTED_TYPES_SETTING}={untrusted!r} in the "
            "settings (or MODEL_SERVICE_MLFLOW_TRUSTED_TYPES), or 'trusted_types' on the model "
            "entry. See docs/mlflow.md."
        )


def directory_checksum(path: Path) -> str:
    """sha256 over every file of the model directory (relative name and content digest)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{sha256_of(file)}\n".encode())
    return digest.hexdigest()


def flavor_names(metadata: Model) -> str:
    """The model's flavors besides the generic ``python_function``, e.g. ``sklearn``."""
    return ", ".join(name for name in metadata.flavors if name != "python_function") or "pyfunc"


def predict_function(loaded: LoadedModel) -> Any:
    """The flavor's own predict function, called without MLflow's schema enforcement.

    ``PyFuncModel.predict`` validates and converts its input against the signature before calling
    the flavor's implementation; the service has validated and converted every item already, so
    it calls the implementation (``PyFuncModel._model_impl``, which MLflow marks a stable
    developer API) with the function the flavor configured (``predict_fn``).
    """
    flavor = loaded.metadata.flavors.get("python_function", {})
    return getattr(loaded.pyfunc._model_impl, str(flavor.get("predict_fn") or "predict"))


def run_details(run_id: str | None, tracking_uri: str | None) -> dict[str, Any] | None:
    """The run's metrics and parameters, when a tracking store is configured and has the run."""
    if not run_id or not tracking_uri:
        return None
    try:
        run = mlflow.MlflowClient(tracking_uri=tracking_uri).get_run(run_id)
    except Exception:  # the run is optional information: the model serves without it
        return None
    return {"metrics": dict(run.data.metrics), "params": dict(run.data.params)}
