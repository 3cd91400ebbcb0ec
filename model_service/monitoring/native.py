"""Run blocking database work off gevent's event loop.

Under gunicorn's gevent worker, ``threading`` and ``time`` are monkey-patched: a ``Thread`` is a
greenlet, so a database call in it would stall every request of the worker. The capture writer
therefore runs in a real OS thread (gevent's original ``start_new_thread``), and request handlers
that query the store hand the query to gevent's thread pool. Without gevent these are the plain
standard-library functions.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import select
import threading
from collections.abc import Callable
from typing import Any, TypeVar

Result = TypeVar("Result")


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return False
    return bool(monkey.is_module_patched("threading"))


def start_os_thread(target: Callable[[], None]) -> None:
    """Start ``target`` in a real OS thread, even when ``threading`` is monkey-patched."""
    if _gevent_patched():
        from gevent import monkey

        monkey.get_original("_thread", "start_new_thread")(target, ())
    else:
        _thread.start_new_thread(target, ())


def os_select(
    readable: list[int], writable: list[int], timeout: float
) -> tuple[list[int], list[int]]:
    """The system's ``select`` on file descriptors, even where gevent patched the module (its
    version would start an event loop in the calling OS thread)."""
    function: Any = select.select
    if _gevent_patched():
        from gevent import monkey

        function = monkey.get_original("select", "select")
    ready_to_read, ready_to_write, _ = function(readable, writable, [], timeout)
    return list(ready_to_read), list(ready_to_write)


def lower_thread_priority(niceness: int) -> None:
    """Give the calling OS thread a lower CPU priority (a higher nice value), if the system
    lets it; Linux takes a thread id where POSIX says process."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


def idle_scheduling() -> None:
    """Run the calling OS thread (and the threads it starts later) only on CPU time no other
    thread wants: Linux's ``SCHED_IDLE``, which a waking thread of normal priority preempts at
    once; nothing changes where the system has no such policy."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


class Wakeup:
    """Wakes one OS thread that waits for it, from any thread or greenlet.

    The waiting thread blocks in the lock's C code without holding the GIL, so, unlike a thread
    that polls with short sleeps, it takes nothing from the request thread until it is set: a
    writer polling every 50 ms made the request thread hand it the GIL 20 times a second.
    Built on a real (unpatched) lock, which is held while the wakeup is not set.
    """

    def __init__(self) -> None:
        if _gevent_patched():
            from gevent import monkey

            allocate = monkey.get_original("_thread", "allocate_lock")
        else:
            allocate = _thread.allocate_lock
        self._lock = allocate()
        self._lock.acquire()

    def set(self) -> None:
        """Wake the waiting thread (or the next one to wait); setting twice is setting once."""
        with contextlib.suppress(RuntimeError):  # already set: the lock is free
            self._lock.release()

    def wait(self, timeout: float) -> bool:
        """Wait until set or for ``timeout`` seconds; True when it was set (and is now clear)."""
        return bool(self._lock.acquire(timeout=max(timeout, 0.0)))


def off_event_loop(function: Callable[..., Result], *args: Any) -> Result:
    """Call ``function(*args)``; under gevent in the hub's thread pool, so that only the calling
    greenlet waits for it."""
    if not _gevent_patched():
        return function(*args)
    import gevent

    result: Result = gevent.get_hub().threadpool.apply(function, args)
    return result
