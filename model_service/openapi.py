"""OpenAPI document and Swagger UI (issue 5 fills this in)."""

import click
from flask import Flask


def init_app(app: Flask) -> None:
    """Serve ``/api/openapi.json``, ``/api/openapi.yaml`` and the Swagger UI at ``/api/docs``."""


@click.command("openapi")
@click.option("--output", default="openapi.yaml", help="Where to write the document.")
def openapi_command(output: str) -> None:
    """Write the OpenAPI document for the configured models."""
    raise click.ClickException("openapi is not available yet.")
