"""Who goes first when a gevent worker's event loop gives turns: the idle priorities.

``gevent.sleep(0)`` only runs the loop's callbacks. It does not poll the sockets, so a greenlet
that yields with it and then finds its next request already buffered goes on at once; gevent
polls only after 50 callbacks and 5 ms. Measured on the wire (tcpdump at concurrency 4, two
workers): a request sat unread for 10-28 ms while its worker answered the other connection
again and again, and at the start of a batch the leader's ``sleep(0)`` did not let a request that
had arrived join, so a worker's two connections fell out of step (batches of one, 15 % more CPU
an answer).

``gevent.idle(priority)`` waits until the loop has polled and nothing of that priority or higher
is pending. A worker waits at three priorities, highest first: :data:`CONNECTION`,
:data:`BATCH_LEADER`, :data:`BACKGROUND`.
"""

from __future__ import annotations

CONNECTION = 0
"""A connection that has just answered a request, before it reads its next one: every socket
with a request ready is served first, and none is read twice in a row while another waits."""

BATCH_LEADER = -1
"""A batch leader before it takes the queue: the connections above have read their requests and
queued their items, so one model call takes them all."""

BACKGROUND = -2
"""Background work in a worker (shadow copies): only when nothing above is ready."""
