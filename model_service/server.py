"""The production launcher: gunicorn's own ``BaseApplication`` serving :func:`create_app`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class ModelServiceApplication(BaseApplication):
    """gunicorn application whose WSGI app is built by :func:`model_service.create_app`.

    :param options: gunicorn settings (``bind``, ``workers``, ``worker_class``, ``preload_app``...).
    :param settings: passed to :func:`create_app` (a settings class or its import path).
    """

    def __init__(self, options: Mapping[str, Any], settings: str | None = None) -> None:
        self.options = dict(options)
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None and key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        from model_service import create_app

        return create_app(self.settings)
