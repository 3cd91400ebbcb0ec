"""``model-service captures export NAME``: captured rows of a model for offline analysis.

Reads the monitoring database the settings name (the service need not run, and no model is
loaded) and writes CSV (inputs, prediction and actual as JSON text in their columns) or JSON
lines. Parquet is not offered: pyarrow, the maintained writer, is a dependency of well over
100 MB for one export format; ``pandas.read_csv`` or DuckDB turn the CSV into Parquet.
"""

from __future__ import annotations

import csv
import datetime
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import click
import orjson

Row = dict[str, Any]

COLUMNS = (
    "id",
    "model",
    "version",
    "created",
    "request_id",
    "item_index",
    "entry_point",
    "decision",
    "latency_ms",
    "inputs",
    "prediction",
    "actual",
)
JSON_COLUMNS = {"inputs", "prediction", "actual"}


def _iso(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).isoformat()


def _json_text(value: Any) -> str:
    return "" if value is None else orjson.dumps(value).decode()


def write_csv(rows: Iterable[Row], output: TextIO) -> int:
    """Write ``rows`` as CSV with a header; return how many."""
    writer = csv.writer(output)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        cells = [
            _json_text(row[name])
            if name in JSON_COLUMNS
            else _iso(row[name])
            if name == "created"
            else row[name]
            for name in COLUMNS
        ]
        writer.writerow(cells)
        count += 1
    return count


def write_json_lines(rows: Iterable[Row], output: TextIO) -> int:
    """Write ``rows`` as one JSON object a line; return how many."""
    count = 0
    for row in rows:
        record = {name: row[name] for name in COLUMNS}
        record["created"] = _iso(row["created"])
        output.write(orjson.dumps(record).decode() + "\n")
        count += 1
    return count


@click.group("captures")
def captures_command() -> None:
    """Captured predictions (the monitoring store)."""


@captures_command.command("export")
@click.argument("name")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
    help="CSV (JSON text in the inputs/prediction/actual columns) or JSON lines.",
)
@click.option("--output", type=click.File("w"), default="-", help="File to write, '-': stdout.")
@click.option("--since", default=None, help="Only rows from this ISO 8601 time on (UTC).")
@click.option("--settings", default=None, help="Settings class, e.g. config.ProductionConfig.")
def export_command(
    name: str, output_format: str, output: TextIO, since: str | None, settings: str | None
) -> None:
    """Write every captured row of model NAME (all versions), oldest first."""
    # imported here: the monitoring package defines metrics, which `serve` must not see early
    from model_service.monitoring.settings import MonitoringSettings
    from model_service.monitoring.store import Store, database_url, export_rows
    from model_service.settings import load_settings

    start = None
    if since is not None:
        try:
            moment = datetime.datetime.fromisoformat(since)
        except ValueError:
            raise click.BadParameter("expected an ISO 8601 time", param_hint="--since") from None
        start = (moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)).timestamp()
    configured = MonitoringSettings.from_settings(load_settings(settings))
    store = Store(database_url(configured.database_url, configured.state_directory))
    store.migrate()
    write = write_csv if output_format == "csv" else write_json_lines
    count = write(export_rows(store, name, start), output)
    store.dispose()
    click.echo(f"Exported {count} captured row(s) of {name}", err=True)
    if output is not sys.stdout:
        output.close()
