"""URL matching that remembers its answers, so that routing a request makes no garbage.

werkzeug's matcher (``StateMachineMatcher.match``) defines a recursive function inside each call,
and that function refers to itself through a closure cell: every request it routes leaves a
reference cycle of 8 objects (the function, 5 cells, a set and a tuple) that reference counting
cannot free. Under load those cycles are what triggered the young garbage collections in a
worker: one every 1,300 requests at 4 connections, each collecting about 10,000 of those objects
and taking 3 ms on average, up to 10 ms; the whole worker (every request of a gevent worker)
stands still meanwhile.

:class:`RememberingMap` matches a path once and afterwards answers from a bounded table keyed by
everything the match depends on (host or subdomain, path, method, websocket). Only successful
matches are kept; a path that raises (not found, wrong method, a redirect) is matched afresh
each time, exactly as before. Adding a rule or changing ``merge_slashes`` forgets every answer.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from flask import Flask
from werkzeug.routing import Map, Rule, RuleFactory
from werkzeug.routing.matcher import StateMachineMatcher

MATCHES_REMEMBERED = 1024
"""Distinct successful matches kept per process. A service serves a few dozen paths; a client
naming made-up models (``/api/models/<anything>/predict`` is a match) only makes the table start
over when it is full, and the cost of a forgotten match is one ordinary match."""

_MatchKey = tuple[str, str, str, bool]


class RememberingMatcher(StateMachineMatcher):
    """A :class:`StateMachineMatcher` that answers a match it made before from memory."""

    def __init__(self, merge_slashes: bool, capacity: int = MATCHES_REMEMBERED) -> None:
        self._remembered: dict[_MatchKey, tuple[Rule, dict[str, Any]]] = {}
        self.capacity = capacity
        super().__init__(merge_slashes)

    @property
    def merge_slashes(self) -> bool:
        return self._merge_slashes

    @merge_slashes.setter
    def merge_slashes(self, value: bool) -> None:
        self._merge_slashes = value
        self.forget()

    def update(self) -> None:
        # the map calls this before its next match after any rule was added
        self.forget()
        super().update()

    def forget(self) -> None:
        """Drop every remembered match (the rules changed)."""
        self._remembered = {}

    def match(
        self, domain: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, MutableMapping[str, Any]]:
        key = (domain, path, method, websocket)
        remembered = self._remembered.get(key)
        if remembered is not None:
            return remembered[0], dict(remembered[1])  # the caller may change its copy
        rule, values = super().match(domain, path, method, websocket)
        table = self._remembered
        if len(table) >= self.capacity:
            # a new table rather than clear(): a thread reading the old one is not disturbed
            table = self._remembered = {}
        table[key] = (rule, dict(values))
        return rule, values


class RememberingMap(Map):
    """A werkzeug :class:`Map` whose matcher is a :class:`RememberingMatcher`."""

    def __init__(
        self, rules: Iterable[RuleFactory] | None = None, *args: Any, **options: Any
    ) -> None:
        super().__init__(None, *args, **options)
        self._matcher = RememberingMatcher(self._matcher.merge_slashes)
        for rule_factory in rules or ():
            self.add(rule_factory)


class ServiceFlask(Flask):
    """The service's Flask app: routes through a :class:`RememberingMap`."""

    url_map_class = RememberingMap
