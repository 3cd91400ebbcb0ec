"""The gRPC server processes: forked and watched by the gunicorn master.

Why processes of their own: grpcio serves from a pool of OS threads, which gevent (the HTTP
workers' default) does not mix well with, and a gRPC server inside each gevent worker lost to
dedicated processes under mixed REST + gRPC load. Forked from a preloading master, these
processes share the loaded models copy-on-write like the HTTP workers do.

* :class:`GrpcProcesses` (in the master): starts ``GRPC_PROCESSES`` servers on one port
  (``SO_REUSEPORT``: the kernel spreads connections), restarts one that dies, and on stop sends
  them ``SIGTERM`` and waits the graceful timeout before killing what is left.
* :func:`serve` (in each child): ``grpc.server`` with ``GRPC_THREADS`` threads, at most
  ``GRPC_MAX_CONCURRENT_CALLS`` calls at once (more are refused with ``RESOURCE_EXHAUSTED``),
  messages up to ``MAX_CONTENT_LENGTH`` bytes. ``SIGTERM`` stops accepting calls and lets those in
  flight finish within the graceful timeout; the process also stops when the master is gone.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import Flask

from model_service import child_processes

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


@dataclass(frozen=True)
class GrpcOptions:
    """How to run the gRPC servers (``serve --grpc-port`` and the ``GRPC_*`` settings)."""

    host: str
    port: int
    processes: int
    threads: int
    max_concurrent_calls: int
    max_message_bytes: int
    graceful_timeout: float

    @classmethod
    def from_settings(
        cls,
        host: str,
        port: int,
        settings: Mapping[str, Any],
        graceful_timeout: float,
        workers: int = 1,
    ) -> GrpcOptions:
        """``GRPC_PROCESSES`` 0 means as many as the HTTP ``workers``."""
        return cls(
            host=host,
            port=port,
            processes=int(settings["GRPC_PROCESSES"]) or max(workers, 1),
            threads=int(settings["GRPC_THREADS"]),
            max_concurrent_calls=int(settings["GRPC_MAX_CONCURRENT_CALLS"]),
            max_message_bytes=int(settings["MAX_CONTENT_LENGTH"]),
            graceful_timeout=graceful_timeout,
        )

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class GrpcProcesses:
    """The master's view of its gRPC server processes.

    :param load_app: returns the Flask app (the preloaded one, or a fresh one without preloading);
        called in each child.
    """

    def __init__(self, options: GrpcOptions, load_app: Callable[[], Flask]) -> None:
        self.options = options
        self.load_app = load_app
        self.pids: set[int] = set()
        self.stopping = False

    def start(self) -> None:
        count, address = self.options.processes, self.options.address
        logger.info("Starting %d gRPC server process(es) on %s", count, address)
        for _ in range(self.options.processes):
            self._spawn()

    def _spawn(self) -> None:
        master = os.getpid()
        pid = child_processes.fork_child(
            lambda: serve(self.options, self.load_app(), master), "gRPC server process"
        )
        self.pids.add(pid)

    def maintain(self) -> None:
        """Restart any server process that exited (called from the master's loop)."""
        for pid in [pid for pid in self.pids if child_processes.exited(pid)]:
            self.pids.discard(pid)
            child_processes.forget_metrics(pid)
            if not self.stopping:
                logger.warning("gRPC server process %d exited; starting another", pid)
                self._spawn()

    def stop(self, graceful: bool = True) -> None:
        """Tell every server process to stop (gracefully: let calls in flight finish)."""
        self.stopping = True
        for pid in self.pids:
            child_processes.send_signal(pid, signal.SIGTERM if graceful else signal.SIGQUIT)

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the processes to exit, then kill the rest."""
        self.pids = child_processes.wait_or_kill(self.pids, timeout, "gRPC server process")


# --- in a server process ----------------------------------------------------------------------


def serve(options: GrpcOptions, app: Flask, master: int) -> None:
    """Serve the V2 gRPC API until ``SIGTERM`` or the master's exit, then drain and return."""
    import grpc

    from model_service.grpc_v2 import grpc_predict_v2_pb2_grpc as pb_grpc
    from model_service.grpc_v2.metrics import GrpcMetrics
    from model_service.grpc_v2.servicer import InferenceServicer
    from model_service.readiness import WARM_UP_KEY
    from model_service.server import flush_app, warm_up

    stop = threading.Event()
    child_processes.drop_gunicorn_handlers()
    for number in STOP_SIGNALS:
        signal.signal(number, lambda *_: stop.set())

    calls = ThreadPoolExecutor(options.threads, thread_name_prefix="grpc-call")
    server = grpc.server(
        ThreadPoolExecutor(options.threads, thread_name_prefix="grpc-server"),
        maximum_concurrent_rpcs=options.max_concurrent_calls,
        options=[
            ("grpc.max_receive_message_length", options.max_message_bytes),
            ("grpc.max_send_message_length", options.max_message_bytes),
            ("grpc.so_reuseport", 1),
        ],
    )
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(
        InferenceServicer(app, calls, GrpcMetrics().observe), server
    )
    if server.add_insecure_port(options.address) == 0:
        raise RuntimeError(f"gRPC cannot listen on {options.address}")
    warmed = threading.Event()
    app.extensions[WARM_UP_KEY] = warmed
    threading.Thread(target=warm_up, args=(app, warmed), name="warm-up", daemon=True).start()
    server.start()
    logger.info("gRPC server process %d serving on %s", os.getpid(), options.address)
    while not stop.wait(1.0):
        if os.getppid() != master:
            logger.warning("gRPC server process %d: the master is gone; stopping", os.getpid())
            break
    logger.info("gRPC server process %d stopping: draining calls in flight", os.getpid())
    server.stop(grace=options.graceful_timeout).wait()
    calls.shutdown(wait=False, cancel_futures=True)
    flush_app(app)  # as HTTP workers do at exit: shadow copies, then captures
