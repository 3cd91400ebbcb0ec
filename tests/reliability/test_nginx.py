"""Two replicas behind a real nginx: one is killed (SIGKILL, whole process group) and restarted
under load, and no client request fails, because nginx retries on the other replica.

Predictions are pure functions of their input, so retrying a POST (``non_idempotent``) on
another replica is safe; that is what lets a request cut off by the kill still succeed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.reliability.conftest import server_env
from tests.reliability.load import post_json, run_load
from tests.support import BIN, REPO_ROOT, free_port, wait_until_up

pytestmark = [pytest.mark.server, pytest.mark.slow]

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream replicas {{
        server 127.0.0.1:{first} max_fails=1 fail_timeout=2s;
        server 127.0.0.1:{second} max_fails=1 fail_timeout=2s;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 1s;
            proxy_read_timeout 10s;
        }}
    }}
}}
"""


@contextmanager
def replica(port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``model-service serve`` on ``port`` in its own process group; killed on exit."""
    argv = [str(BIN / "model-service"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [*argv, "--workers", "1"],
            cwd=REPO_ROOT,
            env={**os.environ, **server_env()},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process, 60, log)
        yield process
    finally:
        kill_group(process)


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(30)


@contextmanager
def nginx(tmp: Path, first: int, second: int) -> Iterator[str]:
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, first=first, second=second, port=port))
    process = subprocess.Popen(
        [str(NGINX), "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url, process, 30, tmp / "error.log")
        yield base_url
    finally:
        kill_group(process, signal.SIGTERM)


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_a_replica_killed_and_restarted_behind_nginx_costs_no_request(tmp_path: Path) -> None:
    first_port, second_port = free_port(), free_port()
    logs = tmp_path / "replica-1.log", tmp_path / "replica-2.log"
    with ExitStack() as stack:
        first = stack.enter_context(replica(first_port, logs[0]))
        stack.enter_context(replica(second_port, logs[1]))
        base_url = stack.enter_context(nginx(tmp_path, first_port, second_port))
        restarted: list[float] = []

        def kill_and_restart() -> None:
            time.sleep(1)
            kill_group(first)
            time.sleep(1)
            stack.enter_context(replica(first_port, logs[0]))
            restarted.append(time.monotonic())

        send = post_json(base_url + "/api/models/double/predict", {"x": 2.0})
        report = run_load(send, threads=8, seconds=6, during=kill_and_restart)
        print(f"through nginx while a replica was killed and restarted: {report.summary()}")
        sys.stdout.flush()
        assert restarted, "the killed replica did not come back"
        assert report.total > 0
        assert report.failed == 0, report.summary()
