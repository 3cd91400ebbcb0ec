"""MLServer serving the same iris pipeline, in its own virtual environment made by the bench.

MLServer 1.7.1 as pip resolves it does not start with uvloop 0.22+ ("There is no current event
loop" in its worker pool), hence the ``uvloop<0.22`` pin.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from iris_model.features import FEATURES

REQUIREMENTS = ["mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop<0.22"]


def ensure_venv(venv: Path) -> Path:
    """Create ``venv`` with MLServer (and our scikit-learn version) unless it is there."""
    mlserver = venv / "bin" / "mlserver"
    if mlserver.exists():
        return mlserver
    import sklearn

    print(f"Installing MLServer into {venv} (once)...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(
        [
            *pip,
            "--disable-pip-version-check",
            *REQUIREMENTS,
            f"scikit-learn=={sklearn.__version__}",
        ],
        check=True,
    )
    return mlserver


def version(venv: Path) -> str:
    """The installed MLServer version."""
    python = venv / "bin" / "python"
    command = "import importlib.metadata as m; print(m.version('mlserver'))"
    return subprocess.run(
        [str(python), "-c", command], capture_output=True, text=True
    ).stdout.strip()


def write_repository(
    folder: Path, artifact: Path, port: int, grpc_port: int, metrics_port: int, workers: int
) -> Path:
    """Write MLServer's ``settings.json`` and the model's ``model-settings.json``."""
    model_folder = folder / "iris"
    model_folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": grpc_port,
        "metrics_port": metrics_port,
        "parallel_workers": workers,
        "debug": False,
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    model = {
        "name": "iris",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(artifact), "version": "1.0.0"},
    }
    (model_folder / "model-settings.json").write_text(json.dumps(model))
    return folder


def request_body(rows: list[dict[str, float]]) -> bytes:
    """A V2 inference request for ``rows`` that asks for class probabilities, as ours returns."""
    data = [[row[name] for name in FEATURES] for row in rows]
    body = {
        "inputs": [{"name": "input-0", "shape": [len(rows), 4], "datatype": "FP64", "data": data}],
        "outputs": [{"name": "predict_proba"}],
    }
    return json.dumps(body).encode()
