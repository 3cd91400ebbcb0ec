"""Fixtures for the container image tests (``make image-test``): the Docker engine, the image
built once from deploy/Dockerfile on a stand-in base, and an image derived from it with a user's
model package.

Docker Hub cannot be reached from the test machines, so the image is built on Debian bookworm's
own python3 (3.11, as in ``python:3.11-slim``), made by scripts/image/build-base.sh; the build
stage alone also trusts this machine's CA bundle and pip index, which never reach the runtime image.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.image import user_package
from tests.image.docker import DockerError, build, docker, docker_daemon
from tests.support import REPO_ROOT

RUNTIME_BASE = "model-service-test-base:bookworm"
BUILD_BASE = "model-service-test-build-base:bookworm"
IMAGE = "model-service:image-test"
DERIVED_IMAGE = "model-service:image-test-tally"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "image: builds and runs the container image (make image-test; needs Docker)"
    )


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A Docker engine for the session: the running one, or a ``dockerd`` started (and stopped)
    here. Without one every image test fails, saying why."""
    log = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
    try:
        with docker_daemon(log):
            yield
    except DockerError as error:
        pytest.fail(f"no Docker engine for the image tests: {error}", pytrace=False)


@pytest.fixture(scope="session")
def image(engine: None) -> str:
    """deploy/Dockerfile built once, on the stand-in bases."""
    script = REPO_ROOT / "scripts" / "image" / "build-base.sh"
    result = subprocess.run(
        [str(script), RUNTIME_BASE, BUILD_BASE],
        env={**os.environ, "PYTHON": sys.executable},  # whose pip settings the build copies
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"stand-in base images failed:\n{result.stdout}{result.stderr}", pytrace=False)
    base_args = ["--build-arg", f"BASE_IMAGE={RUNTIME_BASE}"]
    base_args += ["--build-arg", f"BUILD_IMAGE={BUILD_BASE}"]
    build(IMAGE, "-f", "deploy/Dockerfile", *base_args)
    return IMAGE


@pytest.fixture(scope="session")
def derived_image(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The image with a user's own model package installed, as README's derived Dockerfile does;
    removed afterwards (each run's wheel differs, so it would never be reused)."""
    context = user_package.write_build_context(tmp_path_factory.mktemp("derived"))
    build(DERIVED_IMAGE, "--build-arg", f"BASE={image}", context=context)
    yield DERIVED_IMAGE
    docker("rmi", DERIVED_IMAGE, check=False)
