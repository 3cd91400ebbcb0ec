"""The container and Kubernetes files pass their linters and match what the service expects.

The image itself is built and run by tests/image (``make image-test``); here the Dockerfile's
install commands are checked to be the Makefile's, which the rest of the suite exercises.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml

from tests.support import BIN, REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
KUBERNETES_VERSIONS = ["1.33.0", "1.37.0"]
"""The oldest Kubernetes release still supported upstream when this was written, and the newest
kubernetes-validate knows offline."""


def run_tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_dockerfile_passes_hadolint() -> None:
    result = run_tool(str(BIN / "hadolint"), str(DEPLOY / "Dockerfile"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_validate_strictly(version: str) -> None:
    assert {path.name for path in MANIFESTS} >= {
        "configmap.yaml",
        "deployment.yaml",
        "service.yaml",
        "hpa.yaml",
    }
    argv = [str(BIN / "kubernetes-validate"), "--strict", "-k", version]
    result = run_tool(*argv, *map(str, MANIFESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def load(name: str) -> Any:
    return yaml.safe_load((DEPLOY / "kubernetes" / name).read_text())


def test_probes_point_at_the_health_endpoints() -> None:
    container = load("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/health/ready"
    assert container["resources"]["requests"] and container["resources"]["limits"]


def test_configmap_sets_only_names_the_service_reads() -> None:
    import config
    from model_service.server import ServeOptions

    data = load("configmap.yaml")["data"]
    settings = {name for name in dir(config.Config) if name.isupper()}
    options = {name.upper() for name in ServeOptions.__dataclass_fields__}
    for name in data:
        assert name == "APP_SETTINGS" or name.removeprefix("MODEL_SERVICE_") in settings | options


def test_dockerfile_installs_like_the_makefile() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "install -r requirements.txt" in makefile
    assert "python -m pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "--no-deps" in makefile and "--no-deps ." in dockerfile
    assert "examples/*/pyproject.toml" in dockerfile
