"""Load a model's trained artifact from its package, checking it before trusting it.

A training script saves the fitted estimator with :func:`save_artifact`, which writes beside it a
small JSON record: the file's sha256, the scikit-learn version it was trained with and the held-out
metrics. :func:`load_artifact` refuses a missing or changed file (unpickling a tampered file runs
its
code) and a scikit-learn version other than the training one, each with a message that names the
file and says what to do.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from model_service.errors import ModelLoadError


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def artifact_record_path(artifact: Path) -> Path:
    """Where the JSON record of ``artifact`` lives: ``model.joblib`` -> ``model.joblib.json``."""
    return artifact.with_name(artifact.name + ".json")


def save_artifact(estimator: Any, artifact: Path, **record: Any) -> dict[str, Any]:
    """Save ``estimator`` with joblib and write its record (sha256, versions, ``record``)."""
    import joblib
    import sklearn

    artifact.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, artifact, compress=3)
    full_record = {
        "file": artifact.name,
        "sha256": sha256_of(artifact),
        "sklearn_version": sklearn.__version__,
        **record,
    }
    artifact_record_path(artifact).write_text(
        json.dumps(full_record, indent=2, sort_keys=True) + "\n"
    )
    return full_record


def read_record(artifact: Path) -> dict[str, Any]:
    """The JSON record saved beside ``artifact``; :class:`ModelLoadError` when absent."""
    record_path = artifact_record_path(artifact)
    if not record_path.is_file():
        raise ModelLoadError(
            f"Model record {record_path} is missing: it holds the checksum of {artifact.name}. "
            "Reinstall the model package or rerun its training script."
        )
    record: dict[str, Any] = json.loads(record_path.read_text())
    return record


def verify_artifact(artifact: Path, expected_sha256: str) -> None:
    """Raise :class:`ModelLoadError` unless ``artifact`` exists with the expected sha256."""
    if not artifact.is_file():
        raise ModelLoadError(
            f"Model artifact {artifact} is missing. Reinstall the model package or rerun its "
            "training script."
        )
    digest = sha256_of(artifact)
    if digest != expected_sha256.strip().lower():
        raise ModelLoadError(
            f"Model artifact {artifact} does not match its recorded sha256 (expected "
            f"{expected_sha256.strip()}, found {digest}). The file changed after training: rerun "
            "the package's training script, which records the new checksum."
        )


def check_sklearn_version(artifact: Path, trained_with: str) -> None:
    """Raise :class:`ModelLoadError` when the installed scikit-learn is not the training one."""
    import sklearn

    if sklearn.__version__ != trained_with:
        raise ModelLoadError(
            f"Model artifact {artifact} was trained with scikit-learn {trained_with}, but "
            f"{sklearn.__version__} is installed. Install scikit-learn=={trained_with} or retrain "
            "the model with the installed version."
        )


def load_artifact(artifact: Path) -> tuple[Any, dict[str, Any]]:
    """Check and load a saved estimator; return it with its record."""
    import joblib

    record = read_record(artifact)
    verify_artifact(artifact, record["sha256"])
    check_sklearn_version(artifact, record["sklearn_version"])
    return joblib.load(artifact), record


def save_reference_data(items: list[dict[str, Any]], path: Path) -> None:
    """Write a model's reference sample (a list of input items) as JSON, one item a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ",\n".join(json.dumps(item, sort_keys=True) for item in items)
    path.write_text(f"[\n{lines}\n]\n", encoding="utf-8")


def load_reference_data(path: Path) -> list[dict[str, Any]]:
    """Read a reference sample written by :func:`save_reference_data`."""
    try:
        items: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelLoadError(
            f"The reference data {path} cannot be read ({error}); regenerate it with the "
            "package's reference module (python -m <package>.reference)."
        ) from None
    return items
