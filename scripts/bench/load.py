"""Start HTTP servers for the benchmark, drive them with wrk, read their memory use."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "post.lua"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A server process group started by :func:`serve`; ``url`` is its base URL."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def worker_pids(self) -> list[int]:
        """The process ids of the server's children (gunicorn workers, MLServer workers), but
        model-service's capture writer process."""
        return [pid for pid in _descendants(self.process.pid) if _name(pid) != CAPTURE_WRITER]

    def capture_writer_pids(self) -> list[int]:
        """model-service's capture writer process (none for other servers)."""
        return [pid for pid in _descendants(self.process.pid) if _name(pid) == CAPTURE_WRITER]

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server and all its live processes."""
        return sum(_cpu_seconds(pid) for pid in [self.process.pid, *_descendants(self.process.pid)])


CAPTURE_WRITER = "capture-writer"
"""The name model-service's capture writer process gives itself (``/proc/<pid>/comm``)."""


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _descendants(pid: int) -> list[int]:
    children_file = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(child) for child in children_file.read_text().split()]
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def rss_mib(pid: int) -> float:
    """Resident set size of one process in MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float, up_below: int
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError as error:
            if error.code < up_below:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer within {timeout} s:\n{log.read_text()}")


@contextmanager
def serve(
    argv: Sequence[str],
    ready_path: str,
    port: int,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120.0,
    up_below: int = 300,
) -> Iterator[Server]:
    """Run ``argv`` in its own process group until the block ends.

    It is up once ``ready_path`` answers with a status below ``up_below``.
    """
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            list(argv),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url + ready_path, process, log, timeout, up_below)
        yield Server(process, url, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@dataclass(frozen=True)
class LoadResult:
    """One wrk run: throughput, latency percentiles and errors."""

    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    requests: int


def run_wrk(
    url: str, body_file: Path, connections: int, seconds: float, threads: int = 2
) -> LoadResult:
    """POST ``body_file`` to ``url`` for ``seconds`` with ``connections`` open connections."""
    argv = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        url,
    ]
    env = {**os.environ, "BENCH_BODY_FILE": str(body_file)}
    output = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    summary = json.loads(output.strip().splitlines()[-1])
    seconds_run = summary["duration_us"] / 1e6
    return LoadResult(
        requests_per_s=summary["requests"] / seconds_run,
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        max_ms=summary["max_us"] / 1000,
        errors=summary["non_2xx"] + summary["socket_errors"],
        requests=summary["requests"],
    )


def post_json(url: str, body: bytes) -> object:
    """One POST request, returning the decoded JSON answer (used to check a server's reply)."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
