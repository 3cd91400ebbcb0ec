"""``model-service new-model``: scaffold a model package (issue 4 fills this in)."""

import click


@click.command("new-model")
@click.argument("name")
def new_model_command(name: str) -> None:
    """Create a new model package NAME."""
    raise click.ClickException("new-model is not available yet.")
