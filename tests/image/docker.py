"""The Docker engine as the image tests use it: the daemon (started when none runs), image builds,
and containers run the way docs/operations.md tells operators to run them."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support import REPO_ROOT, free_port

DAEMON_START_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 120.0
CONTAINER_PORT = 5000

HARDENING = (
    *("--read-only", "--tmpfs", "/tmp"),
    *("--cap-drop", "ALL", "--security-opt", "no-new-privileges"),
)
"""How the image is meant to run: read-only root filesystem with a tmpfs on /tmp (the only place
the service writes), no Linux capabilities, no privilege gain through set-uid files."""


class DockerError(RuntimeError):
    """A docker command failed; the message carries its output."""


def docker(*args: str, timeout: float = 120.0, check: bool = True) -> str:
    """Run ``docker ARGS`` and return its standard output."""
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT
    )
    if check and result.returncode != 0:
        raise DockerError(f"docker {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout.strip()


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return docker("info", "--format", "{{.ServerVersion}}", timeout=30, check=False) != ""


@contextmanager
def docker_daemon(log: Path) -> Iterator[None]:
    """Use the running Docker engine, or start ``dockerd`` and stop it afterwards.

    Raises :class:`DockerError` saying why when no engine can be had: the image tests need root
    and a kernel that allows containers (namespaces, cgroups, overlayfs), and are not skipped.
    """
    if engine_answers():
        yield
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None or shutil.which("docker") is None:
        raise DockerError("docker is not installed: `make image-test` installs docker.io (as root)")
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [dockerd], stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + DAEMON_START_TIMEOUT_S
        while not engine_answers():
            if process.poll() is not None or time.monotonic() > deadline:
                raise DockerError(
                    "dockerd could not start (it needs root and kernel support for containers: "
                    f"namespaces, cgroups, overlayfs); its log {log} ends with:\n"
                    + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                )
            time.sleep(0.5)
        yield
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(60)


def build(tag: str, *args: str, context: Path = REPO_ROOT, timeout: float = 900.0) -> None:
    """``docker build -t TAG ARGS CONTEXT``; a failure shows the end of the build's output and
    leaves no stopped container behind."""
    argv = ["docker", "build", "--force-rm", "-t", tag, *args, str(context)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).splitlines()
        raise DockerError(f"{' '.join(argv)} failed:\n" + "\n".join(output[-40:]))


def image_size(tag: str) -> int:
    """The image's size in bytes, as ``docker images`` reports it."""
    return int(docker("image", "inspect", "--format", "{{.Size}}", tag))


@dataclass
class Container:
    """A running container, published on 127.0.0.1."""

    name: str
    base_url: str

    def url(self, path: str) -> str:
        return self.base_url + path

    def inspect(self) -> dict[str, object]:
        data: list[dict[str, object]] = json.loads(docker("inspect", self.name))
        return data[0]

    def state(self) -> dict[str, object]:
        state = self.inspect()["State"]
        assert isinstance(state, dict)
        return state

    def execute(self, *argv: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the container, as the image's user unless ``user`` is given."""
        command = ["docker", "exec", *(["--user", user] if user else []), self.name, *argv]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def wait_for_health(self, timeout: float = READY_TIMEOUT_S) -> str:
        """Docker's HEALTHCHECK verdict once it has one (``healthy`` or ``unhealthy``)."""
        deadline = time.monotonic() + timeout
        status = "starting"
        while status == "starting" and time.monotonic() < deadline:
            time.sleep(0.5)
            health = self.state().get("Health")
            assert isinstance(health, dict), "the image declares no HEALTHCHECK"
            status = str(health["Status"])
        return status

    def logs(self) -> str:
        result = subprocess.run(
            ["docker", "logs", "--tail", "60", self.name], capture_output=True, text=True
        )
        return result.stdout + result.stderr

    def wait_until_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until ``/api/health/ready`` answers 200; a container that exits or stays unready
        fails with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state()["Status"] != "running":
                raise DockerError(f"container {self.name} stopped:\n{self.logs()}")
            try:
                if requests.get(self.url("/api/health/ready"), timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise DockerError(f"container {self.name} not ready within {timeout} s:\n{self.logs()}")


@contextmanager
def run_container(
    image: str,
    *,
    env: Mapping[str, str] | None = None,
    port: int = CONTAINER_PORT,
    host_port: int | None = None,
    options: Sequence[str] = (),
    ready: bool = True,
) -> Iterator[Container]:
    """``docker run`` the image hardened (:data:`HARDENING`), its ``port`` published on
    127.0.0.1; wait for readiness unless ``ready`` is false; remove the container after."""
    host_port = host_port or free_port()
    name = f"model-service-test-{host_port}"
    argv = ["run", "-d", "--name", name, *HARDENING, "-p", f"127.0.0.1:{host_port}:{port}"]
    for key, value in (env or {}).items():
        argv += ["-e", f"{key}={value}"]
    docker(*argv, *options, image)
    container = Container(name, f"http://127.0.0.1:{host_port}")
    try:
        if ready:
            container.wait_until_ready()
        yield container
    finally:
        docker("rm", "-f", name, check=False)
