"""Helpers for tests that run the real service: free ports and a managed server process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach Google's hosts at start-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BIN = Path(sys.executable).parent


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers: the master's children (Linux ``/proc``) but the capture writer
    process."""
    return [pid for pid in _children(master_pid) if not _is_capture_writer(pid)]


def capture_writer_pids(master_pid: int) -> list[int]:
    """The master's capture writer process (none when capture is off or written in-worker)."""
    return [pid for pid in _children(master_pid) if _is_capture_writer(pid)]


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _is_capture_writer(pid: int) -> bool:
    """Whether a child of the master is the capture writer process (it names itself); False
    for a process that already exited."""
    from model_service.monitoring.sink import PROCESS_NAME

    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == PROCESS_NAME
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningService:
    """A service process started by :func:`run_service`."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def url(self, path: str) -> str:
        return self.base_url + path


def wait_until_up(
    base_url: str, process: subprocess.Popen[bytes], timeout: float, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"service exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(base_url + "/api/health/live", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"service did not answer within {timeout} s:\n{log.read_text()}")


@contextmanager
def run_service(
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
    timeout: float = 60.0,
) -> Iterator[RunningService]:
    """Start ``model-service serve`` (or ``command``) on a free 127.0.0.1 port; stop it after.

    ``{port}`` in ``command`` is replaced by the chosen port.
    """
    port = free_port()
    if command is None:
        argv = [str(BIN / "model-service"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        argv += list(args)
    else:
        argv = [part.replace("{port}", str(port)) for part in command]
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in the finally below)
        prefix="model-service-", suffix=".log", delete=False
    )
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=full_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log_path = Path(log_file.name)
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url, process, timeout, log_path)
        yield RunningService(process, base_url, log_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log_file.close()
