"""The ``model-service`` command line."""

from __future__ import annotations

import multiprocessing

import click

from model_service.openapi import openapi_command
from model_service.scaffold import new_model_command
from model_service.server import ModelServiceApplication


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "MODEL_SERVICE"}
)
def main() -> None:
    """Serve machine-learning models over REST, the V2 protocol and a web UI."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers", default=multiprocessing.cpu_count(), show_default="one per core", type=int
)
@click.option(
    "--threads", default=8, show_default=True, type=int, help="Threads per worker (gthread)."
)
@click.option(
    "--worker-class",
    default="gthread",
    show_default=True,
    type=click.Choice(["sync", "gthread", "gevent"]),
)
@click.option("--settings", default=None, help="Settings class, e.g. config.ProductionConfig.")
def serve(
    host: str, port: int, workers: int, threads: int, worker_class: str, settings: str | None
) -> None:
    """Serve every configured model with gunicorn."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": worker_class,
        "preload_app": True,
    }
    ModelServiceApplication(options, settings).run()


main.add_command(new_model_command)
main.add_command(openapi_command)
