"""Request ids, one log line per request, and the service's logging set-up.

Every request gets an id (the client's ``X-Request-ID`` when it is an acceptable token, else a new
one); the response returns it and every log line about the request carries it. Each request is
logged once, after the response is built, with its method, path, status, duration and the model
and version it addressed; never with its body, which may hold personal data.

``LOG_FORMAT`` chooses ``text`` (for people) or ``json`` (one object per line, for collectors) and
``LOG_LEVEL`` the level. Logging is configured once per process: by the launcher, which shares
gunicorn's error-log handlers (``--error-logfile``) so that gunicorn's lines and ours go to the
same place in the same format, or else by the first app created (``flask run``, tests, the CLI),
which logs to standard error.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TextIO

from flask import Flask, Request, Response, request

from model_service.errors import ServingError
from model_service.flask_locals import current_globals, current_request, environ_key
from model_service.json_provider import dumps_bytes
from model_service.routing import MODEL_VERSION_HEADER
from model_service.runtime import current_runtime

if TYPE_CHECKING:
    from flask.ctx import _AppCtxGlobals  # the type of ``g``

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_ENVIRON = environ_key(REQUEST_ID_HEADER)
SERVICE_LOGGER = "model_service"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_REQUEST_FIELDS = ("request_id", "model", "version", "status", "duration_ms")
_TEXT_FIELDS = ("request_id", "model", "version")
"""The text line's message already shows the status and duration."""
TEXT_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
"""gunicorn's own error-log format, so its lines and ours line up."""
TEXT_DATE_FORMAT = "[%Y-%m-%d %H:%M:%S %z]"

logger = logging.getLogger("model_service.requests")
_NO_MODEL = SimpleNamespace(qualified_name="", version="")
"""Remembered for a request that named no loaded model."""
_installed_handlers: list[logging.Handler] = []


# --- formats ------------------------------------------------------------------------------------


class TextFormatter(logging.Formatter):
    """gunicorn's line format, followed by the request's fields as ``key=value`` when present.

    The time has no fraction of a second, so it is formatted once per second (``strftime`` cost
    a few microseconds of every request's line).
    """

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, TEXT_DATE_FORMAT)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        cached = self._second  # one read: another thread may replace it meanwhile
        if cached[0] != second:
            cached = (second, super().formatTime(record, datefmt))
            self._second = cached
        return cached[1]

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{name}={getattr(record, name)}"
            for name in _TEXT_FIELDS
            if getattr(record, name, None) not in (None, "")
        ]
        return f"{line} {' '.join(fields)}" if fields else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, message, request fields, exception.

    The time is UTC with milliseconds; its date and second are formatted once per second.
    """

    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")

    def utc_time(self, created: float) -> str:
        """``created`` as ISO 8601 in UTC to the millisecond, exactly as ``datetime.isoformat``
        gives it (rounded to the microsecond, then truncated)."""
        fraction, whole = math.modf(created)
        second, micro = int(whole), round(fraction * 1e6)
        if micro >= 1_000_000:
            second, micro = second + 1, micro - 1_000_000
        cached = self._second  # one read: another thread may replace it meanwhile
        if cached[0] != second:
            cached = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
            self._second = cached
        return f"{cached[1]}.{micro // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for name in _REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value not in (None, ""):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return dumps_bytes(entry).decode()


def make_formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``LOG_FORMAT`` (``text`` or ``json``)."""
    if log_format.lower() == "json":
        return JsonFormatter()
    return TextFormatter()


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record.

    pytest and click's test runner swap ``sys.stderr``; a handler holding the stream it was
    created with would write to a closed capture once they restore it.
    """

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """Ignored: the stream is always the current standard error."""


def configure_logging(
    level: str, log_format: str, handlers: Sequence[logging.Handler] | None = None
) -> None:
    """Send the ``model_service`` loggers to ``handlers`` (default: standard error).

    Replaces what an earlier call installed, so the launcher can call it again when gunicorn
    re-creates its handlers (on ``SIGHUP``). The records still propagate to the root logger, so
    test tools that listen there see them.

    :param level: a level name such as ``INFO``.
    :param log_format: ``text`` or ``json``.
    :param handlers: handlers that already carry their formatter (the launcher passes gunicorn's
        error-log handlers); when omitted, one handler to standard error is made.
    """
    service_logger = logging.getLogger(SERVICE_LOGGER)
    for handler in _installed_handlers:
        service_logger.removeHandler(handler)
    if handlers is None:
        stderr = StderrHandler()
        stderr.setFormatter(make_formatter(log_format))
        handlers = [stderr]
    _installed_handlers[:] = handlers
    for handler in handlers:
        service_logger.addHandler(handler)
    service_logger.setLevel(level.upper())


def logging_configured() -> bool:
    """Whether :func:`configure_logging` already ran in this process."""
    return bool(_installed_handlers)


# --- per request --------------------------------------------------------------------------------


def request_model() -> tuple[str, str]:
    """The loaded model and version the current request addressed, or ``("", "")``.

    Only a model the service actually serves is named (an unversioned request gets its default
    version), so a client probing made-up names cannot grow the label sets of the metrics.
    """
    return model_of(current_globals(), current_request())


def model_of(state: _AppCtxGlobals, current: Request) -> tuple[str, str]:
    """:func:`request_model` from the request's ``g`` and the request itself.

    The after-request hooks take both once and pass them on: each read through Flask's
    ``request`` or ``g`` proxy costs about 1 us on the benchmark machine (taking the object
    itself 0.1 us), and a prediction made 37 such reads before (counted by wrapping werkzeug's
    proxy look-up), 12 now, Flask's own.
    """
    served = state.get("served_model")
    if served is None:
        view_args = current.view_args or {}
        name = view_args.get("name")
        if not name:
            return ("", "")
        try:  # a view that failed before resolving its model, or one that does not resolve it
            served = current_runtime().get_model(name, view_args.get("version"))
        except ServingError:
            state.served_model = served = _NO_MODEL
    return (served.qualified_name, served.version)


def seconds_of(state: _AppCtxGlobals) -> float:
    """Seconds since the request whose ``g`` is ``state`` started."""
    started: float = state.get("started", time.perf_counter())
    return time.perf_counter() - started


def new_request_id() -> str:
    """32 hex digits: the time in milliseconds (12 digits), then 80 random bits (20 digits).

    Like a UUIDv7 the ids sort by creation time, so the monitoring store's index on request ids
    grows at its end instead of at random places: with random ids an insert cost 14 instead of
    6 microseconds of CPU a row once the table held 100,000 rows. 80 random bits keep the ids
    unguessable and unique (a collision needs ~10^12 ids in one millisecond).
    """
    return f"{time.time_ns() // 1_000_000:012x}{_id_randomness.take().hex()}"


ID_POOL = 256
"""Request ids' random parts drawn from the system at once."""


class RandomBytes:
    """Bytes from the operating system's random source, drawn :data:`ID_POOL` ids at a time.

    One ``getrandom`` call per request id cost 18-19 microseconds inside a request on this
    machine (0.35 in a loop of them: the system call is slow when the caches are full of the
    model's work), about 2 % of a one-row prediction. Drawing 2,560 bytes at once makes it one
    call per 256 ids. The pool is emptied in a forked child (gunicorn's workers), so no two
    processes hand out the same bytes; a lock keeps threads (the ``gthread`` worker) apart.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._pool = b""
        self._next = 0

    def take(self) -> bytes:
        """The next ``size`` random bytes (never handed out before in this process)."""
        with self._lock:
            if self._next >= len(self._pool):
                self._pool, self._next = os.urandom(self.size * ID_POOL), 0
            start = self._next
            self._next += self.size
            return self._pool[start : self._next]

    def forget(self) -> None:
        """Drop the bytes drawn so far (in a child after ``fork``: they are the parent's)."""
        self._lock = threading.Lock()
        self._pool, self._next = b"", 0


_id_randomness = RandomBytes(10)
os.register_at_fork(after_in_child=_id_randomness.forget)


def request_id_from(incoming: str | None) -> str:
    """The client's request id when it is acceptable (1-128 letters, digits and ``._:-``), else
    a new one (:func:`new_request_id`)."""
    return incoming if incoming and _ACCEPTABLE_REQUEST_ID.match(incoming) else new_request_id()


def _start_request() -> None:
    state = current_globals()
    state.request_id = request_id_from(request.environ.get(REQUEST_ID_ENVIRON))
    state.started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    state, current = current_globals(), current_request()
    headers = response.headers
    headers[REQUEST_ID_HEADER] = state.get("request_id", "")
    route = state.get("route")
    status = response.status_code
    if route is not None and status < 400:
        headers[MODEL_VERSION_HEADER] = route.served.version
    if logger.isEnabledFor(logging.INFO):
        duration_ms = round(seconds_of(state) * 1000, 2)
        model, version = model_of(state, current)
        # the record is made and handled as Logger.info would, with its source line given
        # rather than looked up on the stack (findCaller cost ~10 % of the line)
        logger.handle(
            logger.makeRecord(
                logger.name,
                logging.INFO,
                __file__,
                _LOG_LINE,
                "%s %s %s %.1fms",
                (current.method, current.path, status, duration_ms),
                None,
                "_finish_request",
                {
                    "request_id": state.get("request_id"),
                    "model": model,
                    "version": version,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
        )
    return response


_LOG_LINE = _finish_request.__code__.co_firstlineno
"""The source line request log records name (``%(lineno)d``)."""


def init_app(app: Flask) -> None:
    """Give every request an id and log it once; configure logging if nothing did yet."""
    if not logging_configured():
        configure_logging(app.config.get("LOG_LEVEL", "INFO"), app.config.get("LOG_FORMAT", "text"))
    app.before_request(_start_request)
    app.after_request(_finish_request)
