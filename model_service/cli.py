"""The ``model-service`` command line: serve, list the models, predict from a file.

Every ``serve`` option can also be given as an environment variable, named on the option in
``--help`` (``MODEL_SERVICE_PORT``...). Click's automatic names (``MODEL_SERVICE_SERVE_PORT``)
work too, after the explicit ones.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from model_service.captures_cli import captures_command
from model_service.openapi import openapi_command
from model_service.scaffold import new_model_command


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "MODEL_SERVICE"}
)
def main() -> None:
    """Serve machine-learning models over REST, the V2 protocol and a web UI."""
    # As with gunicorn and flask run: settings or model modules beside the deployment import.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def _option(*names: str, envvar: str, **kwargs: Any) -> Any:
    """A click option read from ``MODEL_SERVICE_<envvar>`` too, shown in ``--help``."""
    return click.option(*names, envvar=f"MODEL_SERVICE_{envvar}", show_envvar=True, **kwargs)


mlflow_model_option = _option(
    "--mlflow-model",
    "mlflow_models",
    envvar="MLFLOW_MODEL",
    multiple=True,
    metavar="PATH",
    help="An MLflow model directory (or file:, runs:/, models:/ URI) to serve as it is, besides "
    "the configured models; repeat for more. Needs the mlflow extra.",
)

settings_option = _option(
    "--settings",
    envvar="SETTINGS",
    default=None,
    metavar="IMPORT.PATH",
    help="Settings class, e.g. config.ProductionConfig [default: $APP_SETTINGS, else "
    "config.DevelopmentConfig].",
)


def _default_workers() -> int:
    from model_service.server import default_workers

    return default_workers()


@main.command(
    epilog="Signals: TERM stops gracefully (requests in flight get --graceful-timeout seconds); "
    "HUP starts new workers and retires the old ones. With preloading the new workers fork from "
    "the master's loaded models; use --no-preload to have them load the models afresh."
)
@_option(
    "--host",
    envvar="HOST",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; 0.0.0.0 for every interface (containers).",
)
@_option(
    "--port",
    envvar="PORT",
    default=5000,
    show_default=True,
    type=int,
    help="TCP port to listen on.",
)
@_option(
    "--workers",
    envvar="WORKERS",
    default=_default_workers,
    show_default="one per core",
    type=click.IntRange(min=1),
    help="Worker processes.",
)
@_option(
    "--worker-class",
    envvar="WORKER_CLASS",
    default="gevent",
    show_default=True,
    type=click.Choice(["gevent", "gthread", "sync"]),
    help="gevent: many requests per worker at little cost (fastest with batching); "
    "gthread: a thread per request; sync: one request at a time.",
)
@_option(
    "--threads",
    envvar="THREADS",
    default=8,
    show_default=True,
    type=click.IntRange(min=1),
    help="Threads per worker (gthread only).",
)
@_option(
    "--timeout",
    envvar="TIMEOUT",
    default=60,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds a silent worker may take before it is killed and replaced.",
)
@_option(
    "--graceful-timeout",
    envvar="GRACEFUL_TIMEOUT",
    default=30,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seconds requests in flight get to finish on stop or reload.",
)
@_option(
    "--preload/--no-preload",
    envvar="PRELOAD",
    default=True,
    show_default=True,
    help="Load the models once before forking the workers (shared copy-on-write), or in "
    "each worker (models that cannot cross a fork).",
)
@settings_option
@mlflow_model_option
@_option(
    "--log-level",
    envvar="LOG_LEVEL",
    default=None,
    type=click.Choice(["debug", "info", "warning", "error", "critical"], case_sensitive=False),
    help="Level of gunicorn's and the service's logs [default: the settings' LOG_LEVEL].",
)
@_option(
    "--access-logfile",
    envvar="ACCESS_LOGFILE",
    default=None,
    metavar="FILE",
    help="gunicorn's access log, '-' for stdout [default: off; the service logs every "
    "request itself].",
)
@_option(
    "--error-logfile",
    envvar="ERROR_LOGFILE",
    default="-",
    show_default=True,
    metavar="FILE",
    help="Where gunicorn's and the service's logs go, '-' for stderr.",
)
@_option(
    "--forwarded-allow-ips",
    envvar="FORWARDED_ALLOW_IPS",
    default=None,
    metavar="IPS",
    help="Proxies trusted to set X-Forwarded-* headers, comma-separated or '*' "
    "[default: 127.0.0.1,::1].",
)
@_option(
    "--daemon",
    envvar="DAEMON",
    is_flag=True,
    default=False,
    help="Detach from the terminal (give --error-logfile to keep the logs).",
)
@_option(
    "--grpc-port",
    envvar="GRPC_PORT",
    type=click.IntRange(0, 65535),
    default=None,
    help="Also serve the V2 inference protocol over gRPC on this port (KServe uses 8081) "
    "[default: off].",
)
@_option(
    "--debug",
    envvar="DEBUG",
    is_flag=True,
    default=False,
    help="Development: one worker, debug logs, restart when code or templates change.",
)
def serve(**options: Any) -> None:
    """Serve every configured model with gunicorn."""
    from model_service.server import ServeOptions, run

    run(ServeOptions(**options))


@main.command()
@settings_option
@mlflow_model_option
def models(settings: str | None, mlflow_models: tuple[str, ...]) -> None:
    """List the configured models and whether each one loads.

    Loads every model that configuration and entry points name, in this process, and prints its
    name, version, source and status (or error). Exits with status 1 when any fails to load.
    """
    rows, failed = _load_report(settings, mlflow_models)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())
    if failed:
        sys.exit(1)


@main.command()
@click.argument("name")
@click.option(
    "--version",
    "version",
    default=None,
    help="Model version [default: the pinned or highest loaded].",
)
@click.option(
    "--input",
    "input_file",
    type=click.File("rb"),
    default="-",
    show_default=True,
    help="JSON or CSV file to predict, '-' for standard input.",
)
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["json", "csv"]),
    default=None,
    help="Format of the input [default: csv for a .csv file, else json].",
)
@settings_option
def predict(
    name: str,
    version: str | None,
    input_file: Any,
    input_format: str | None,
    settings: str | None,
) -> None:
    """Predict with model NAME in this process; print the JSON result.

    The input is what the REST API takes: a JSON object (one result), a JSON list or
    {"instances": [...]} (a list of results), or CSV with a header row. Invalid input prints
    every problem and exits with status 1.
    """
    if input_format is None:
        suffix = Path(getattr(input_file, "name", "-")).suffix.lower()
        input_format = "csv" if suffix == ".csv" else "json"
    ok, text = _predict_in_process(name, version, input_file.read(), input_format, settings)
    click.echo(text, err=not ok)
    if not ok:
        sys.exit(1)


def _load_report(
    settings: str | None, mlflow_models: tuple[str, ...] = ()
) -> tuple[list[tuple[str, ...]], bool]:
    """Rows of (name, version, source, status) for every model, and whether any failed."""
    from model_service.model_manager import ModelManager, version_key
    from model_service.settings import load_settings, model_entries

    resolved = load_settings(settings)
    resolved["MLFLOW_MODELS"] = [*resolved["MLFLOW_MODELS"], *mlflow_models]
    manager = ModelManager(strict=False, default_versions=resolved["DEFAULT_VERSIONS"])
    manager.load(model_entries(resolved), discover_entry_points=resolved["LOAD_ENTRY_POINTS"])
    rows: list[tuple[str, ...]] = [("NAME", "VERSION", "SOURCE", "STATUS")]
    served_models = sorted(
        manager.served_models(), key=lambda s: (s.qualified_name, version_key(s.version))
    )
    for served in served_models:
        status = f"loaded in {served.load_seconds:.2f} s"
        rows.append((served.qualified_name, served.version, served.source, status))
    for failure in manager.failures:
        rows.append(
            (failure.qualified_name or "?", "-", failure.source, f"failed: {failure.error}")
        )
    return rows, bool(manager.failures)


def _predict_in_process(
    name: str, version: str | None, body: bytes, input_format: str, settings: str | None
) -> tuple[bool, str]:
    """Send ``body`` through the app's own predict endpoint, without a server.

    Going through the endpoint gives the command exactly the API's parsing, validation, limits
    and error messages. Returns whether it succeeded and the text to print.
    """
    from model_service import create_app

    if settings:
        os.environ["APP_SETTINGS"] = settings
    app = create_app({"LOG_LEVEL": "WARNING"})
    path = f"/api/models/{name}/predict"
    if version is not None:
        path = f"/api/models/{name}/versions/{version}/predict"
    content_type = "text/csv" if input_format == "csv" else "application/json"
    response = app.test_client().post(path, data=body, content_type=content_type)
    document = response.get_json(silent=True) or {}
    if response.status_code == 200:
        return True, json.dumps(document, indent=2)
    return False, _describe_error(response.status_code, document.get("error", {}))


def _describe_error(status: int, error: dict[str, Any]) -> str:
    """An API error body as lines a person reads: the message, then each problem at its path."""
    lines = [f"Error {status} ({error.get('type', 'error')}): {error.get('message', '')}"]
    for detail in error.get("details", []):
        where = ".".join(str(part) for part in detail.get("path", [])) or "(input)"
        lines.append(f"  {where}: {detail.get('message', '')}")
    return "\n".join(lines)


main.add_command(new_model_command)
main.add_command(openapi_command)
main.add_command(captures_command)
