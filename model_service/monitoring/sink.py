"""The capture writer process: under the launcher, one process writes every worker's captures.

Why a process of its own: a writer thread inside each worker shared that worker's GIL. Whenever
the request thread let the GIL go (a socket call, the log line's write), the writer took it and
held it for its inserts while the answer waited: at concurrency 1 the p99 was 1.6-2.0 ms with
capture on against 1.2-1.3 with capture off. Now a worker only encodes its rows and hands them
to this process in one non-blocking datagram; the process queues and inserts them as the writer
thread did (same batches, same retries, same drop counting), runs the periodic jobs (retention,
gauges) that a worker used to run, and is the database's only writer on this machine.

* :class:`CaptureProcess` (in the master): makes the socket pair before the workers fork (they
  inherit the sending end), starts the process, restarts it when it dies (datagrams already sent
  wait in the socket meanwhile), restarts it on ``SIGHUP`` and stops it after the workers, so
  their last captures are written.
* :func:`current_sender` (in a worker): the sending end, or ``None`` where captures stay
  in-process (``flask run``, tests, the writer process itself).
* :func:`serve` (in the process): receive, queue, write; told to stop by the master (or finding
  the master gone) it reads what is left in the socket, writes everything and exits.

A worker never waits for the process. The process reads its socket only while its own queue has
room for a batch; when it is behind, the socket fills, a worker keeps its batch for the next
interval (without encoding it again), and its queue drops and counts new rows before they are
encoded (``model_service_capture_dropped_total``), as when the database is slow.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from flask import Flask

from model_service import child_processes
from model_service.monitoring.native import idle_scheduling, lower_thread_priority, os_select
from model_service.monitoring.store import CaptureRow, Row

logger = logging.getLogger(__name__)

SOCKET_BUFFER_BYTES = 8 * 1024 * 1024
"""Asked for both ends (the system caps it at ``net.core.wmem_max``/``rmem_max``, then doubles
it). Only the bytes bound what waits in the socket: Linux does not apply
``net.unix.max_dgram_qlen`` to the two ends of a pair (6,554 datagrams of 400 bytes were queued
here with it at 10), and a worker sends only while the socket is writable, which Linux reports
while less than a quarter of the buffer is in use: with 8 MiB granted, about 11 datagrams of 500
iris rows (5,500 rows) wait there when the writer process cannot write, besides the queues."""
RECEIVE_BYTES = 1024 * 1024
"""Larger than any datagram a worker can send (a datagram is at most the send buffer)."""
RECEIVE_TIMEOUT_S = 0.5
"""How often an idle process looks whether the master is gone."""
FULL_RECHECK_S = 0.05
"""How often a process whose queue is full looks whether its writer made room."""
PROCESS_NAME = "capture-writer"
"""The process's name as ``ps -o comm``, ``top`` and ``/proc/<pid>/comm`` show it."""
STOP_SIGNAL = signal.SIGUSR1
"""What the master sends the process, after the workers exited, to make it write and exit."""
IGNORED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
"""A stop sent to the whole process group (``kill -TERM -<pgid>``, systemd, a terminal's
Ctrl-C) reaches the process as it reaches the workers; it keeps receiving until the master,
once the workers' last captures are sent, tells it to stop."""

_sender: CaptureSender | None = None


def current_sender() -> CaptureSender | None:
    """Where this process sends its captures: the writer process's socket, or ``None`` (no
    writer process, or this is it) when they are queued and written in-process."""
    return _sender


class CaptureSender:
    """A worker's end of the socket: the worker's writer thread sends each batch it takes from
    its queue as one datagram (or several, when a batch is larger than a datagram can be),
    never waiting."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(
        self, captures: Sequence[CaptureRow], errors: Sequence[Row] = ()
    ) -> tuple[int, list[CaptureRow], list[Row]]:
        """Hand the rows to the writer process.

        :returns: how many rows were dropped (a single row larger than a datagram can be), and
            the rows not sent because the socket is full (the process is behind or restarting),
            in order, for the caller to keep and send again later.
        """
        if not _writable(self.sock):  # full: hand everything back without encoding it
            return 0, list(captures), list(errors)
        pieces = [(list(captures), list(errors))]
        dropped = 0
        while pieces:
            piece_captures, piece_errors = pieces.pop(0)
            if not piece_captures and not piece_errors:
                continue
            try:
                self.sock.send(orjson.dumps([piece_captures, piece_errors]), socket.MSG_DONTWAIT)
            except BlockingIOError:
                for later_captures, later_errors in pieces:
                    piece_captures += later_captures
                    piece_errors += later_errors
                return dropped, piece_captures, piece_errors
            except OSError as error:
                count = len(piece_captures) + len(piece_errors)
                if error.errno == errno.EMSGSIZE and count > 1:  # send each half on its own
                    half_c, half_e = len(piece_captures) // 2, len(piece_errors) // 2
                    pieces[0:0] = [
                        (piece_captures[:half_c], piece_errors[:half_e]),
                        (piece_captures[half_c:], piece_errors[half_e:]),
                    ]
                    continue
                logger.warning("Could not hand %d row(s) to the writer process: %s", count, error)
                dropped += count
        return dropped, [], []


def _writable(sock: socket.socket) -> bool:
    """Whether the socket takes a datagram now (Linux: less than a quarter of its send buffer is
    taken by datagrams not yet read)."""
    return bool(os_select([], [sock.fileno()], 0)[1])


def decode(datagram: bytes) -> tuple[list[CaptureRow], list[Row]]:
    """The rows of one datagram (capture rows are tuples again, as the store takes them)."""
    captures, errors = orjson.loads(datagram)
    return [tuple(row) for row in captures], list(errors)


# --- in the master ------------------------------------------------------------------------------


class CaptureProcess:
    """The master's view of the capture writer process.

    :param load_app: returns the Flask app (the preloaded one, or a fresh one without
        preloading); called in the process, whose monitor writes the rows.
    """

    def __init__(self, load_app: Callable[[], Flask]) -> None:
        self.load_app = load_app
        self.pid: int | None = None
        self.stopping = False
        self.receiver: socket.socket | None = None

    def start(self) -> None:
        """Make the socket pair (before the workers fork: they inherit the sending end) and
        start the process."""
        global _sender
        receiver, sending = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        for end, option in ((sending, socket.SO_SNDBUF), (receiver, socket.SO_RCVBUF)):
            with contextlib.suppress(OSError):
                end.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER_BYTES)
        sending.setblocking(False)
        self.receiver = receiver
        _sender = CaptureSender(sending)
        self._spawn()

    def _spawn(self) -> None:
        receiver = self.receiver
        if receiver is None:
            raise RuntimeError("start() makes the socket before the first process")
        master = os.getpid()
        self.pid = child_processes.fork_child(
            lambda: serve(receiver, self.load_app(), master), "Capture writer process"
        )
        logger.info("Capture writer process %d started", self.pid)

    def maintain(self) -> None:
        """Start another process when it exited (called from the master's loop)."""
        if self.pid is not None and child_processes.exited(self.pid):
            child_processes.forget_metrics(self.pid)
            if not self.stopping:
                logger.warning("Capture writer process %d exited; starting another", self.pid)
                self._spawn()
            else:
                self.pid = None

    def restart(self) -> None:
        """On reload (``SIGHUP``): the running process writes what it holds and exits, a new
        one (with the reloaded settings) takes over the socket."""
        if self.pid is not None and not self.stopping:  # maintain() starts the next one
            child_processes.send_signal(self.pid, STOP_SIGNAL)

    def stop(self, timeout: float) -> None:
        """Tell the process to write what it holds and exit; kill it after ``timeout`` s."""
        self.stopping = True
        if self.pid is None:
            return
        child_processes.send_signal(self.pid, STOP_SIGNAL)
        child_processes.wait_or_kill([self.pid], timeout, "Capture writer process")
        child_processes.forget_metrics(self.pid)
        self.pid = None


# --- in the process -----------------------------------------------------------------------------


def serve(receiver: socket.socket, app: Flask, master: int) -> None:
    """Receive the workers' rows and write them with the app's monitor until the master's
    :data:`STOP_SIGNAL` or its exit; then read what is left in the socket, write everything and
    return."""
    from model_service.monitoring_app import MONITOR_KEY

    global _sender
    _sender = None  # the process writes what it receives; it sends nothing
    _name_process(PROCESS_NAME)
    stop = threading.Event()
    child_processes.drop_gunicorn_handlers()
    for number in IGNORED_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    signal.signal(STOP_SIGNAL, lambda *_: stop.set())
    monitor = app.extensions[MONITOR_KEY]
    writer = monitor.writer
    # the whole process yields to the workers when the CPU is saturated: it then falls behind,
    # its socket fills and the workers drop rows before encoding them, where it costs least
    lower_thread_priority(writer.niceness)
    if monitor.settings.writer_idle:  # and gives a core back the moment a request wants it
        idle_scheduling()
    # the stop signal wakes the wait at once (its handler runs only between bytecodes)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    receiver.setblocking(False)
    logger.info("Capture writer process %d writing the workers' captures", os.getpid())
    while not stop.is_set():
        # read only what the writer's queue takes: when the database (or the CPU) cannot keep
        # up, the socket fills and the workers drop rows before encoding them, not after
        if writer.room() >= _batch_room(writer):
            ready, _ = os_select([receiver.fileno(), wake_read], [], RECEIVE_TIMEOUT_S)
        else:
            ready, _ = os_select([wake_read], [], FULL_RECHECK_S)
        if wake_read in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_read, 512)
        if receiver.fileno() in ready:
            _receive_all(receiver, writer)
        elif os.getppid() != master:
            logger.warning("Capture writer process %d: the master is gone", os.getpid())
            break
    _receive_all(receiver, writer, until_full=False)  # what the workers sent before they exited
    left = writer.close()
    if left:
        logger.warning("Monitoring capture lost %d queued item(s) at exit", left)


def _name_process(name: str) -> None:
    """Set the calling thread's (here: the process's) name on Linux, where operators see it."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)


PR_SET_NAME = 15


def _receive_all(receiver: socket.socket, writer: Any, until_full: bool = True) -> None:
    """Queue the datagrams waiting in the socket: all of them, or (``until_full``) until the
    writer's queue has no room for another batch."""
    while not until_full or writer.room() >= _batch_room(writer):
        try:
            datagram = receiver.recv(RECEIVE_BYTES)
        except BlockingIOError:
            return
        _submit(writer, datagram)


def _batch_room(writer: Any) -> int:
    """The room the writer's queue needs before another datagram is read (a worker's batch)."""
    return int(min(writer.batch_size, writer.queue_size))


def _submit(writer: Any, datagram: bytes) -> None:
    try:
        captures, errors = decode(datagram)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        logger.exception("Capture writer process: an unreadable datagram was dropped")
        return
    writer.submit(captures, errors)
