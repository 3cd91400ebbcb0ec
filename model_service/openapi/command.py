"""``model-service openapi``: write the document for the configured models to a file."""

from __future__ import annotations

from pathlib import Path

import click

from model_service.openapi.document import build_document
from model_service.openapi.views import to_yaml


def write_document(output: Path, settings: str | None = None) -> Path:
    """Build the app with ``settings`` (default: ``APP_SETTINGS``) and write its YAML document.

    :return: the path written.
    """
    from model_service import create_app

    app = create_app(settings)
    output.write_text(to_yaml(build_document(app)), encoding="utf-8")
    return output


@click.command("openapi")
@click.option(
    "--output",
    default="openapi.yaml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the document.",
)
@click.option("--settings", default=None, help="Settings class, e.g. config.ProductionConfig.")
def openapi_command(output: Path, settings: str | None) -> None:
    """Write the OpenAPI document for the configured models (YAML, stable key order)."""
    written = write_document(output, settings)
    click.echo(f"Wrote {written}")
