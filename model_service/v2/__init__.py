"""Open Inference Protocol (V2) blueprint (issue 7 fills this in)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the ``/v2`` blueprint on ``app``."""
