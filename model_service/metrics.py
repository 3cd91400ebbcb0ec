"""Prometheus metrics (issue 11 fills this in)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Serve ``/metrics`` and count requests, latencies and predictions."""
