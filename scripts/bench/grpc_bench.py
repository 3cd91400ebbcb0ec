"""``make bench`` (gRPC): our V2 gRPC API against MLServer's, one row of iris per call.

Both servers are driven by the same load generator, ``tritonclient.grpc.aio`` in two client
processes (one per core here), each keeping ``c/2`` calls in flight; every call is timed on the
client. The request is the same for both: one ``input-0`` tensor ``[1, 4]`` of ``FP64`` (raw
contents, tritonclient's default), asking for the class probabilities.

    python scripts/bench/grpc_bench.py            # c=16 and c=64, 5 s each
    python scripts/bench/grpc_bench.py --seconds 2 --skip-mlserver

Placement: servers and client processes share the machine's cores with no pinning, as in
``run.py``; a Python client costs CPU that the server then lacks, equally for both servers, so
compare servers by the ratios of one run, not with the wrk figures of the REST bench.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlserver
import numpy as np
from load import free_port, serve

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONCURRENCIES = (16, 64)
CLIENT_PROCESSES = 2
ROW = [5.1, 3.5, 1.4, 0.2]


async def _client(address: str, model: str, output: str, calls: int, seconds: float) -> list[float]:
    import tritonclient.grpc.aio as triton

    client = triton.InferenceServerClient(address)
    tensor = triton.InferInput("input-0", [1, 4], "FP64")
    tensor.set_data_from_numpy(np.array([ROW]))
    outputs = [triton.InferRequestedOutput(output)]
    latencies: list[float] = []

    async def loop(until: float, record: bool) -> None:
        while time.perf_counter() < until:
            started = time.perf_counter()
            await client.infer(model, [tensor], outputs=outputs)
            if record:
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(loop(time.perf_counter() + 1.0, False) for _ in range(calls)))
    until = time.perf_counter() + seconds
    await asyncio.gather(*(loop(until, True) for _ in range(calls)))
    await client.close()
    return latencies


def _client_process(arguments: tuple[str, str, str, int, float]) -> list[float]:
    return asyncio.run(_client(*arguments))


def load(
    address: str, model: str, output: str, concurrency: int, seconds: float
) -> dict[str, float]:
    """``concurrency`` calls in flight for ``seconds``: req/s, p50 and p99 in ms."""
    share = [(address, model, output, concurrency // CLIENT_PROCESSES, seconds)] * CLIENT_PROCESSES
    with multiprocessing.get_context("spawn").Pool(CLIENT_PROCESSES) as pool:
        latencies = sorted(value for part in pool.map(_client_process, share) for value in part)
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(quantiles[49] * 1000, 2),
        "p99_ms": round(quantiles[98] * 1000, 2),
        "calls": len(latencies),
    }


def _wait_for_grpc(address: str, timeout: float = 60.0) -> None:
    import tritonclient.grpc as triton

    client = triton.InferenceServerClient(address)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.is_server_ready():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no gRPC server ready at {address}")


@contextmanager
def ours(workers: int, work: Path) -> Iterator[str]:
    port, grpc_port = free_port(), free_port()
    argv = [str(BIN / "model-service"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", str(workers), "--grpc-port", str(grpc_port)]
    env = {
        "APP_SETTINGS": "config.ProductionConfig",
        "MODEL_SERVICE_MONITORING_STATE_DIR": str(work / "monitoring-grpc"),
    }
    with serve(argv, "/api/health/ready", port, work / "ours-grpc.log", env=env, cwd=REPO):
        address = f"127.0.0.1:{grpc_port}"
        _wait_for_grpc(address)
        yield address


@contextmanager
def theirs(workers: int, work: Path, venv: Path) -> Iterator[str]:
    from iris_model.model import ARTIFACT

    executable = mlserver.ensure_venv(venv.resolve())
    port, grpc_port = free_port(), free_port()
    folder = mlserver.write_repository(
        work / "mlserver-grpc", ARTIFACT, port, grpc_port, free_port(), workers
    )
    argv = [str(executable), "start", str(folder)]
    with serve(argv, "/v2/models/iris/ready", port, work / "mlserver-grpc.log", cwd=folder):
        address = f"127.0.0.1:{grpc_port}"
        _wait_for_grpc(address)
        yield address


def machine(workers: int) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, grpcio "
        f"{version('grpcio')}, tritonclient {version('tritonclient')}; ours: {workers} HTTP "
        f"workers + {workers} gRPC processes (the default: one per HTTP worker, 8 threads each; "
        f"the kernel hashes each client connection to one of them); load average at start "
        f"{os.getloadavg()[0]:.2f}; {CLIENT_PROCESSES} tritonclient.grpc.aio client processes "
        f"(one channel, so one connection, each) on the same cores, unpinned."
    )


def print_table(results: dict[str, Any]) -> None:
    print(f"\ngRPC, one iris row per call. {results['machine']}\n")
    print("| server | c | req/s | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- |")
    for name, cells in results["servers"].items():
        for concurrency, cell in cells.items():
            print(
                f"| {name} | {concurrency} | {cell['requests_per_s']:,.0f} | {cell['p50_ms']} | "
                f"{cell['p99_ms']} |"
            )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="HTTP / MLServer workers")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one cell")
    parser.add_argument("--skip-mlserver", action="store_true")
    parser.add_argument("--output", type=Path, default=REPO / "bench-results")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": machine(args.workers), "servers": {}}
    with tempfile.TemporaryDirectory(prefix="grpc-bench-") as folder:
        work = Path(folder)
        with ours(args.workers, work) as address:
            results["servers"]["model-service"] = {
                c: load(address, "iris_model", "probabilities", c, args.seconds)
                for c in CONCURRENCIES
            }
        if not args.skip_mlserver:
            name = f"MLServer {mlserver.version(args.output / 'venv-mlserver')}"
            with theirs(args.workers, work, args.output / "venv-mlserver") as address:
                results["servers"][name] = {
                    c: load(address, "iris", "predict_proba", c, args.seconds)
                    for c in CONCURRENCIES
                }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "grpc.json").write_text(json.dumps(results, indent=2))
    print_table(results)
    return results


if __name__ == "__main__":
    main()
