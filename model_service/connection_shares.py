"""How many client connections each worker of one server holds, so that they hold equal shares.

Keep-alive connections stay with the worker that accepted them, and which worker accepts is a race
on the shared listening socket: the one that is idle at that moment wins. Measured here with two
gevent workers, wrk's connections split 3/1 at concurrency 4, 12/4 at 16 and 17/47 at 64, so the
requests of the busier worker queued behind two or three times as many others, and the tail
followed. The workers now publish their connection counts in a small table in shared memory and
a worker stops accepting while it holds more than its share (see
:class:`model_service.workers.ServiceGeventWorker`), which leaves the pending connection to a
worker below its share.

The table is anonymous shared memory made when this module is first imported, which happens in
the gunicorn master (it loads the worker class before forking), so every worker sees the same
pages. Each worker claims a slot when it starts and only it writes that slot's count; the master
frees the slot when the worker exits (:func:`forget_worker`).
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import socket
import struct

SLOTS = 64
"""More than any server's workers, counting the ones being replaced."""
TCP_INFO_LENGTH = 32
TCP_INFO_UNACKED_OFFSET = 24
"""Where ``struct tcp_info`` keeps ``tcpi_unacked``: after eight one-byte fields and four u32."""

_memory = mmap.mmap(-1, SLOTS * 2 * 4)  # MAP_SHARED: (pid, connections) int32 pairs
_table = memoryview(_memory).cast("i")
_claim_lock = multiprocessing.Lock()
_own_slot = -1
"""The slot this process claimed (in a worker), or -1."""


def claim_slot(pid: int) -> int:
    """Take a free slot for the worker ``pid`` (in the worker, once forked) and return it."""
    global _own_slot
    with _claim_lock:
        for slot in range(SLOTS):
            owner = _table[2 * slot]
            if owner in (0, pid) or not process_exists(owner):
                _table[2 * slot], _table[2 * slot + 1] = pid, 0
                _own_slot = slot
                return slot
    raise RuntimeError(f"More than {SLOTS} workers share one connection table.")


def holds_one_connection() -> bool:
    """Whether this process is a worker holding a single client connection (the one it is
    answering): then no other connection of it has a request to read first."""
    return _own_slot >= 0 and _table[2 * _own_slot + 1] <= 1


def forget_worker(pid: int) -> None:
    """Free the slot of an exited worker (in the master, when gunicorn reaps it)."""
    for slot in range(SLOTS):
        if _table[2 * slot] == pid:
            _table[2 * slot], _table[2 * slot + 1] = 0, 0


def add_connections(slot: int, change: int) -> None:
    """Count a connection opened (+1) or closed (-1) by the worker that owns ``slot``."""
    _table[2 * slot + 1] += change


def may_accept(slot: int, listener: socket.socket | None = None) -> bool:
    """Whether the worker of ``slot`` may take one more connection and still hold no more than
    an equal share (rounded up) of every worker's connections, counting those that wait in
    ``listener``'s accept queue (at least the one about to be accepted).

    Counting the queue lets a burst of new connections be split in one turn of each worker: the
    first worker awake takes its half at once instead of one at a time, each waiting for a
    sibling to take one too (measured: 64 connections opened at once took up to 0.5 s to be
    accepted that way). The table is read before the queue, so a connection a sibling accepts
    meanwhile is counted in neither rather than in both, and the share errs on the small side.

    The worker that holds the fewest connections may always accept, so a pending connection is
    always taken by someone.
    """
    workers = total = 0
    for index in range(0, 2 * SLOTS, 2):
        if _table[index]:
            workers += 1
            total += _table[index + 1]
    mine = _table[2 * slot + 1]
    pending = waiting(listener) if listener is not None else 0
    share = -(-(total + max(pending, 1)) // max(workers, 1))
    return mine + 1 <= share


def crowded(slot: int) -> bool:
    """Whether the worker of ``slot`` holds two connections or more above the sibling that
    holds the fewest: one of its connections belongs there.

    The share check at accept cannot always prevent it. A client that connects and closes at
    once (wrk checks its target that way before each run) is still counted while the rest of
    its burst is shared, and the worker that held it ends up one short (3/1 at concurrency 4 in
    4 of 15 back-to-back runs). A worker alone never is.
    """
    mine = _table[2 * slot + 1]
    fewest = None
    for index in range(0, 2 * SLOTS, 2):
        if _table[index] and index != 2 * slot:
            count = _table[index + 1]
            fewest = count if fewest is None else min(fewest, count)
    return fewest is not None and mine >= fewest + 2


def waiting(listener: socket.socket) -> int:
    """How many connections wait in ``listener``'s accept queue (0 when it cannot tell).

    Linux reports it for a listening TCP socket in ``TCP_INFO``'s ``tcpi_unacked`` (the field
    ``ss`` shows as Recv-Q); a Unix socket has no TCP_INFO.
    """
    try:
        info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LENGTH)
    except OSError:
        return 0
    return int(struct.unpack_from("=I", info, TCP_INFO_UNACKED_OFFSET)[0])


def process_exists(pid: int) -> bool:
    """Whether a process with this id exists (a zombie not yet reaped counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
