"""A small, bounded load generator for the fault tests: threads send requests until a time or
count limit and tally what came back (status codes, and connection errors by type)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

CLIENT_TIMEOUT_S = 15.0


@dataclass
class LoadReport:
    """What the clients saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int | None, error: str | None = None) -> None:
        with self._lock:
            if error is not None:
                self.errors[error] += 1
            if status is not None:
                self.statuses[status] += 1

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def failed(self) -> int:
        """Requests that got no answer or an answer other than 2xx."""
        bad = sum(count for status, count in self.statuses.items() if status >= 300)
        return bad + sum(self.errors.values())

    def summary(self) -> str:
        outcomes = {**dict(self.statuses), **dict(self.errors)}
        return f"{self.total} requests, {self.failed} failed: {outcomes}"


Send = Callable[[], requests.Response]


def post_json(url: str, body: object, timeout: float = CLIENT_TIMEOUT_S) -> Send:
    """A request on a new connection each time (``Connection: close``): a worker that stops
    gracefully finishes it, so a failure is the server's, not a reused dead socket's."""
    headers = {"Connection": "close"}
    return lambda: requests.post(url, json=body, headers=headers, timeout=timeout)


def run_load(
    send: Send,
    *,
    threads: int = 8,
    seconds: float = 4.0,
    max_requests: int = 50_000,
    during: Callable[[], None] | None = None,
    check: Callable[[requests.Response], bool] | None = None,
) -> LoadReport:
    """Send with ``threads`` clients for ``seconds`` (at most ``max_requests``); call ``during``
    from this thread meanwhile (e.g. kill a worker); return the tally.

    :param check: a response that fails this counts as an error named ``unexpected``.
    """
    report = LoadReport()
    stop = threading.Event()
    budget = iter(range(max_requests))
    budget_lock = threading.Lock()

    def client() -> None:
        while not stop.is_set():
            with budget_lock:
                if next(budget, None) is None:
                    return
            try:
                response = send()
            except requests.RequestException as error:
                report.record(None, type(error).__name__)
                continue
            ok = check is None or check(response)
            report.record(response.status_code, None if ok else "unexpected")

    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    deadline = time.monotonic() + seconds
    for worker in workers:
        worker.start()
    if during is not None:
        during()
    stop.wait(max(0.0, deadline - time.monotonic()))
    stop.set()
    for worker in workers:
        worker.join(CLIENT_TIMEOUT_S + 5)
    return report


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, interval: float = 0.1) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
