"""Adaptive micro-batching of concurrent predictions (issue 10 fills this in)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Route the app's predictions through a batcher when ``BATCHING_ENABLED`` is set."""
