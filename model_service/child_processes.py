"""What the gunicorn master's own children share: the gRPC server processes
(:mod:`model_service.grpc_v2.processes`) and the capture writer process
(:mod:`model_service.monitoring.sink`), both forked beside the workers and watched from the
master's loop."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable

logger = logging.getLogger(__name__)

GUNICORN_SIGNALS = (
    signal.SIGHUP,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
    signal.SIGCHLD,
)
"""The master's other handlers, which would only queue signals for a loop a child never runs."""


def fork_child(run: Callable[[], None], what: str) -> int:
    """Fork a child that calls ``run`` and exits (status 1 if it raised, logged as ``what``
    failing) without ever returning into gunicorn's code; return its pid (in the parent)."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            run()
            status = 0
        except BaseException:
            logger.exception("%s %d failed", what, os.getpid())
        finally:
            logging.shutdown()
            os._exit(status)
    return pid


def drop_gunicorn_handlers() -> None:
    """In a freshly forked child: the default action for the master's signals."""
    for number in GUNICORN_SIGNALS:
        signal.signal(number, signal.SIG_DFL)


def exited(pid: int) -> bool:
    """Whether child ``pid`` has exited (reaping it; gunicorn's own reaping may have done so)."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return reaped == pid


def send_signal(pid: int, number: int) -> None:
    """Signal ``pid``; nothing when it is already gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


def wait_or_kill(pids: Iterable[int], timeout: float, what: str) -> set[int]:
    """Wait up to ``timeout`` seconds for the children to exit (reaping them), then kill the
    rest with ``SIGKILL`` (logged as ``what`` not stopping in time); return the ones killed."""
    left = set(pids)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        left = {pid for pid in left if not exited(pid)}
        if left:
            time.sleep(0.05)
    for pid in left:
        logger.warning("%s %d did not stop in time; killing it", what, pid)
        send_signal(pid, signal.SIGKILL)
        exited(pid)
    return left


def forget_metrics(pid: int) -> None:
    """Drop an exited child's live gauges in prometheus-client's multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
