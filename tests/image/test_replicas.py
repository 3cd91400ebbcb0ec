"""Two containers of the image behind a real nginx (on the host, as in the reliability tests): one
is stopped and started again under load, and no client request fails."""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from iris_model import IrisModel
from tests.image.docker import Container, docker, run_container
from tests.reliability.load import post_json, run_load
from tests.reliability.test_nginx import NGINX, nginx
from tests.support import free_port

pytestmark = [pytest.mark.image, pytest.mark.slow]

ONE_WORKER = {"MODEL_SERVICE_WORKERS": "1"}


def test_a_container_stopped_and_started_behind_nginx_costs_no_request(
    image: str, tmp_path: Path
) -> None:
    assert NGINX is not None, "nginx is not installed: `make test-install` installs nginx-light"
    ports = free_port(), free_port()
    with ExitStack() as stack:
        first, _ = (
            stack.enter_context(run_container(image, env=ONE_WORKER, host_port=port))
            for port in ports
        )
        base_url = stack.enter_context(nginx(tmp_path, *ports))
        restarted: list[Container] = []

        def stop_and_start() -> None:
            time.sleep(1)
            docker("stop", first.name)
            docker("start", first.name)
            first.wait_until_ready()
            restarted.append(first)

        send = post_json(base_url + "/api/models/iris_model/predict", IrisModel().example_input())
        report = run_load(send, threads=8, seconds=8, during=stop_and_start)
        print(f"through nginx while a container was stopped and started: {report.summary()}")
        sys.stdout.flush()
        assert restarted, "the stopped container did not come back"
        assert report.total > 0
        assert report.failed == 0, report.summary()
