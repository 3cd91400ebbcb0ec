"""The gevent worker of ``model-service serve``: gunicorn's, with three changes for tail latency.

* **Equal shares of the connections.** Keep-alive connections stay with the worker that accepted
  them, and the idle worker wins every accept race, so one worker could hold three times the
  connections of the other (measured: 17/47 at concurrency 64). Each worker counts its
  connections in :mod:`model_service.connection_shares` and stops accepting while it holds more
  than its share; it looks again after :data:`ACCEPT_RETRY_S`. Within its share a worker accepts
  every pending connection at once (gunicorn takes one per loop turn, which made a burst of new
  connections wait up to a second).
* **A turn for the other connections after each request.** A keep-alive connection whose next
  request is already in the socket buffer is read without yielding to the event loop, so under
  gevent a busy client is served again and again while the other connections wait; measured on
  this service, that one cause took the p90 at concurrency 4 from 3 to 15 ms. After each request
  the connection waits until the loop has polled its sockets and served every one with a request
  ready (``gevent.idle``, see :mod:`model_service.loop_turns`; ``gevent.sleep(0)`` does not poll,
  and left requests unread for 10-28 ms). A worker holding that one connection, with none
  waiting to be accepted, skips the turn, as its batch leader does (see
  :mod:`model_service.batching`): they served nobody. Without both turns, at concurrency 1:
  p50 0.04-0.05 ms and p99 0.13-0.26 ms lower, 3-4 % more requests/s (medians of 40 paired
  one-second wrk runs, twice, the two servers side by side).
* **Connections handed back when the shares drift.** A worker two connections or more above its
  least busy sibling at two checks in a row (:data:`SHARE_CHECK_S` apart, so not while a sibling
  is still accepting its half of a burst) answers one request with ``Connection: close``; the
  client reconnects, and the share check at accept gives the new connection to the sibling (see
  :func:`model_service.connection_shares.crowded`).
* **Settings read as plain attributes.** gunicorn reads its settings through
  ``Config.__getattr__`` (a dictionary look-up and a method call each time), a dozen times per
  request: 2.5 % of a loaded worker's time. A worker never changes its settings (a reload starts
  new workers), so :func:`freeze_settings` copies them onto the config once, after the fork.
* **One write per response.** gunicorn sends a response's head and its body with two ``sendall``
  calls, so every small JSON answer costs two system calls and leaves in two TCP segments (the
  listening socket sets ``TCP_NODELAY``). :class:`HeadWithBodySocket` holds the head back until the
  first body bytes and sends both at once.

gunicorn still parses every request and owns every socket: nothing here reads or frames HTTP.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from functools import partial
from typing import Any

import gevent
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn.config import Config
from gunicorn.workers.ggevent import GeventWorker

from model_service import connection_shares, loop_turns

ACCEPT_RETRY_S = 0.002
"""How soon a worker that stopped accepting (over its share) looks at the shares again."""

MAX_ACCEPT = 100
"""Connections a worker may accept in one turn of its loop (each still within its share)."""

SHARE_CHECK_S = 0.1
"""How often, at most, a worker checks whether it holds too many connections (it checks when a
request starts)."""


def freeze_settings(cfg: Config) -> None:
    """Make every setting of ``cfg`` an ordinary attribute holding its current value.

    Attribute look-up finds it before ``Config.__getattr__`` is consulted; a property of the
    same name (``worker_class``, ``is_ssl``...) still takes precedence, as it does now. Only for
    a config nothing changes any more: a later ``cfg.set`` would not be seen.
    """
    for name, setting in cfg.settings.items():
        if not hasattr(type(cfg), name):
            object.__setattr__(cfg, name, setting.get())


class HeadWithBodySocket:
    """A connected socket whose first ``sendall`` (the response head) waits for the next one.

    gunicorn writes a response as ``sendall(head)`` then ``sendall(body)`` (or body chunks, or a
    ``sendfile``). The head is kept until the first body write and sent with it; any other use of
    the socket (``sendfile``, ``fileno``, ``shutdown``, ``close``...) sends it first, so bytes never
    leave out of order, and :meth:`flush` sends a head that no body followed (204, ``HEAD``).
    """

    __slots__ = ("_head", "_socket")

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self._head: bytes | None = None  # None: nothing held; b"": the head has been sent

    def sendall(self, data: bytes) -> None:
        if self._head is None:
            self._head = bytes(data)
            return
        if self._head:
            data, self._head = self._head + data, b""
        self._socket.sendall(data)

    def flush(self) -> None:
        """Send a head still held (a response without body bytes)."""
        if self._head:
            head, self._head = self._head, b""
            self._socket.sendall(head)

    def __getattr__(self, name: str) -> Any:
        self.flush()
        return getattr(self._socket, name)


class SharedStreamServer(StreamServer):
    """gevent's stream server, counting each connection in the worker's share slot as soon as it
    is accepted.

    Counting when the handler greenlet starts was too late: gevent accepts a burst of pending
    connections in one loop turn and starts their handlers afterwards, so the share check saw
    none of them and one worker took the whole burst (measured: wrk's 4 connections all on one
    worker in 2 runs of 5, which halved throughput at concurrency 4).
    """

    def __init__(self, listener: socket.socket, slot: int, pool: Pool, **options: Any) -> None:
        """:param slot: this worker's slot in :mod:`model_service.connection_shares`.
        :param pool: runs the connection handlers, kept as :attr:`connections`. gevent gets its
            bound ``spawn``, not the pool itself: given a pool, gevent re-arms a refused accept
            as soon as the pool has room, so a worker over its share would spin through its loop
            until a sibling took the pending connection (the worker's accept test schedules the
            next look instead), and gevent's own ``pool`` attribute stays None.
        """
        super().__init__(listener, spawn=pool.spawn, **options)
        self.slot = slot
        self.connections = pool

    def do_read(self) -> Any:
        accepted = super().do_read()
        if accepted:
            connection_shares.add_connections(self.slot, 1)
        return accepted

    def do_close(self, *accepted: Any) -> None:
        """gevent calls this once for every accepted connection, when its handler returns or
        could not be started."""
        try:
            super().do_close(*accepted)
        finally:
            connection_shares.add_connections(self.slot, -1)


class ServiceGeventWorker(GeventWorker):
    """gunicorn's gevent worker, sharing connections evenly with its siblings, writing each
    response once and yielding after each request."""

    slot = -1
    next_share_check = 0.0
    was_crowded = False

    def init_process(self) -> None:
        self.slot = connection_shares.claim_slot(os.getpid())
        freeze_settings(self.cfg)
        super().init_process()

    def run(self) -> None:
        if self.cfg.is_ssl:  # the launcher serves plain HTTP; keep gunicorn's own loop for TLS
            super().run()
            return
        servers = [self._start_server(listener) for listener in self.sockets]
        while self.alive:
            self.notify()
            gevent.sleep(1.0)
        self._drain(servers)

    def _start_server(self, listener: socket.socket) -> SharedStreamServer:
        listener.setblocking(True)
        server = SharedStreamServer(
            listener,
            self.slot,
            Pool(self.worker_connections),
            handle=partial(self.handle, listener),
        )
        # gunicorn accepts one connection per loop turn when there are several workers, so that
        # one worker does not take them all; the share check does that now, and accepting one a
        # turn made a burst of new connections wait: at concurrency 64 the first requests of
        # the last connections accepted waited 0.5-1 s (p99 715-740 ms; with gevent's default
        # of 100 a turn, 46-58 ms).
        server.max_accept = MAX_ACCEPT
        server.full = partial(self._full, server)
        server.start()
        return server

    def _full(self, server: SharedStreamServer) -> bool:
        """gevent's accept test: the pool is full, or this worker holds more than its share;
        then stop accepting and look again in :data:`ACCEPT_RETRY_S` (another worker's
        connections may have changed the shares, or a connection of this one closed)."""
        if not server.connections.full() and connection_shares.may_accept(self.slot, server.socket):
            return False
        gevent.spawn_later(ACCEPT_RETRY_S, self._accept_again, server)
        return True

    @staticmethod
    def _accept_again(server: StreamServer) -> None:
        if server.started:
            server.start_accepting()

    def _drain(self, servers: list[SharedStreamServer]) -> None:
        """Stop accepting, let in-flight requests finish for up to the graceful timeout, then
        stop what is left."""
        for server in servers:
            server.close()
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < deadline:
            if all(
                server.connections.free_count() == server.connections.size for server in servers
            ):
                return
            self.notify()
            gevent.sleep(0.1)
        self.log.warning("Worker graceful timeout (pid:%s)", self.pid)
        for server in servers:
            server.connections.kill(timeout=1)
            server.stop(timeout=1)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> None:
        now = time.monotonic()
        if now >= self.next_share_check:
            self.next_share_check = now + SHARE_CHECK_S
            crowded = connection_shares.crowded(self.slot)
            if crowded and self.was_crowded:  # for a while: not a burst the sibling is taking
                req.must_close = True  # "Connection: close": the client reconnects to a sibling
                crowded = False
            self.was_crowded = crowded
        writer = HeadWithBodySocket(sock)
        try:
            super().handle_request(listener_name, req, writer, addr)
        finally:
            with contextlib.suppress(OSError):  # the client left; gunicorn closes the connection
                writer.flush()
        if not self._alone():
            gevent.idle(loop_turns.CONNECTION)

    def _alone(self) -> bool:
        """Whether this worker holds no connection but the one that just answered and none
        waits to be accepted: then a turn of the loop serves nobody else, and the connection
        reads its next request at once."""
        return connection_shares.holds_one_connection() and not any(
            connection_shares.waiting(listener) for listener in self.sockets
        )
