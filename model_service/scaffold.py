"""``model-service new-model``: scaffold a model package that serves after ``pip install -e``.

The package is rendered from the files under ``scaffold_template/``: ``{name}`` in a path and
``$name``-style placeholders in a file are replaced, and the ``.tmpl`` suffix (which keeps the
templates away from linters and test collection) is dropped. The result is an ordinary package: a
``pyproject.toml`` with the ``model_service.models`` entry point, an :class:`MLModel` subclass with
its schemas, a training script on data that ships with scikit-learn, a test and a README.
"""

from __future__ import annotations

import importlib.util
import keyword
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

import click

from model_service.ml_model import QUALIFIED_NAME_PATTERN

TEMPLATE_SUFFIX = ".tmpl"
NAME_PLACEHOLDER = "{name}"


def check_package_name(name: str) -> str:
    """Return ``name`` when it can be both a Python package and a model's qualified name.

    :raises click.BadParameter: with what is wrong and an example of a good name.
    """
    if not QUALIFIED_NAME_PATTERN.match(name) or keyword.iskeyword(name):
        raise click.BadParameter(
            f"{name!r} cannot name a model package: use a lower-case Python identifier (letters, "
            "digits and '_', starting with a letter, at most 63 characters), e.g. 'churn_model'.",
            param_hint="NAME",
        )
    if importlib.util.find_spec(name) is not None:
        raise click.BadParameter(
            f"{name!r} is already an importable module in this environment; the package would "
            f"clash with it. Choose another name, e.g. 'my_{name}'.",
            param_hint="NAME",
        )
    return name


def template_values(name: str) -> dict[str, str]:
    """The placeholders of the templates, derived from the package name."""
    import sklearn

    words = name.split("_")
    class_name = "".join(word.capitalize() for word in words)
    if not class_name.endswith("Model"):
        class_name += "Model"
    return {
        "name": name,
        "distribution": name.replace("_", "-"),
        "class_name": class_name,
        "display_name": " ".join(words).capitalize(),
        # the artifact records the training version and the service checks it at load
        "sklearn_version": sklearn.__version__,
    }


def _template_files(folder: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for entry in folder.iterdir():
        if entry.is_dir():
            found += _template_files(entry, (*prefix, entry.name))
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            found.append((*prefix, entry.name))
    return sorted(found)


def create_model_package(name: str, directory: Path) -> list[Path]:
    """Write the package ``directory/name`` from the templates; return the files written.

    :raises click.ClickException: when ``directory/name`` already exists (nothing is overwritten).
    """
    target = directory / name
    if target.exists():
        raise click.ClickException(
            f"{target} already exists; new-model never overwrites files. Choose another name or "
            "--directory, or remove the folder first."
        )
    values = template_values(name)
    template_root = files("model_service").joinpath("scaffold_template")
    written: list[Path] = []
    for parts in _template_files(template_root):
        source = template_root.joinpath(*parts)
        relative = Path(*parts).with_suffix("")
        destination = target / str(relative).replace(NAME_PLACEHOLDER, name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(Template(source.read_text()).substitute(values))
        written.append(destination)
    return written


@click.command("new-model")
@click.argument("name")
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder in which to create the package folder NAME.",
)
def new_model_command(name: str, directory: Path) -> None:
    """Create a model package NAME: an MLModel subclass, a training script, a test, a README.

    NAME is the Python package and the model's qualified name, e.g. churn_model.
    """
    check_package_name(name)
    written = create_model_package(name, directory)
    target = directory / name
    click.echo(f"Created {target} ({len(written)} files). Next:")
    for step in (
        f"cd {target}",
        "pip install -e .",
        f"python -m {name}.train",
        "pytest tests",
        "model-service serve",
    ):
        click.echo(f"  {step}")
