"""Run blocking database work off gevent's event loop.

Under gunicorn's gevent worker, ``threading`` and ``time`` are monkey-patched: a ``Thread`` is a
greenlet, so a database call in it would stall every request of the worker. The capture writer
therefore runs in a real OS thread (gevent's original ``start_new_thread``), and request handlers
that query the store hand the query to gevent's thread pool. Without gevent these are the plain
standard-library functions.
"""

from __future__ import annotations

import _thread
import time
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


def os_sleep(seconds: float) -> None:
    """Sleep the calling OS thread (the unpatched ``time.sleep``)."""
    if _gevent_patched():
        from gevent import monkey

        monkey.get_original("time", "sleep")(seconds)
    else:
        time.sleep(seconds)


def off_event_loop(function: Callable[..., Result], *args: Any) -> Result:
    """Call ``function(*args)``; under gevent in the hub's thread pool, so that only the calling
    greenlet waits for it."""
    if not _gevent_patched():
        return function(*args)
    import gevent

    result: Result = gevent.get_hub().threadpool.apply(function, args)
    return result
