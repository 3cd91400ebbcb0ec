"""How many gRPC server processes the launcher starts."""

from __future__ import annotations

import pytest

import config
from model_service.grpc_v2.processes import GrpcOptions


def settings(processes: int) -> dict[str, object]:
    defaults = {k: getattr(config.Config, k) for k in dir(config.Config) if k.isupper()}
    return {**defaults, "GRPC_PROCESSES": processes}


@pytest.mark.parametrize(("workers", "expected"), [(1, 1), (2, 2), (4, 4)])
def test_by_default_as_many_grpc_processes_as_http_workers(workers: int, expected: int) -> None:
    assert config.Config.GRPC_PROCESSES == 0
    options = GrpcOptions.from_settings("127.0.0.1", 8081, settings(0), 30.0, workers)
    assert options.processes == expected


def test_a_set_number_of_grpc_processes_wins_over_the_worker_count() -> None:
    options = GrpcOptions.from_settings("127.0.0.1", 8081, settings(3), 30.0, 2)
    assert (options.processes, options.address) == (3, "127.0.0.1:8081")
