"""V2 paths for the OpenAPI document (issue 7 fills this in)."""

from typing import Any


def add_v2_paths(spec: Any, served_models: list[Any]) -> None:
    """Add the ``/v2`` paths and schemas of ``served_models`` to the apispec ``spec``."""
