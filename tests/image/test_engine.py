"""Without a Docker engine the image tests fail saying why; they are never skipped silently.
(No Docker needed: a stand-in ``dockerd`` that cannot start, as on a kernel without containers.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.image.docker import DockerError, docker_daemon

FAILING_DOCKERD = """#!/bin/sh
echo "failed to start daemon: Error initializing network controller: operation not permitted" >&2
exit 1
"""
SILENT_DOCKER = "#!/bin/sh\nexit 1\n"


def test_a_dockerd_that_cannot_start_is_an_error_that_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_directory = tmp_path / "bin"
    bin_directory.mkdir()
    for name, script in (("dockerd", FAILING_DOCKERD), ("docker", SILENT_DOCKER)):
        (bin_directory / name).write_text(script)
        (bin_directory / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_directory))

    with pytest.raises(DockerError) as raised, docker_daemon(tmp_path / "dockerd.log"):
        pytest.fail("no engine, yet the block ran")
    message = str(raised.value)
    assert "dockerd could not start" in message and "needs root" in message
    assert "operation not permitted" in message


def test_without_docker_installed_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with (
        pytest.raises(DockerError, match=r"make image-test.*docker\.io"),
        docker_daemon(tmp_path / "dockerd.log"),
    ):
        pytest.fail("no engine, yet the block ran")
