"""Where captured predictions live: SQLAlchemy 2 Core over SQLite (default) or PostgreSQL.

SQLite is one file in ``MONITORING_STATE_DIR``, in WAL mode so that the workers of one machine
write while others read. ``MONITORING_DATABASE_URL`` (``postgresql+psycopg://...``) names a
PostgreSQL database that several replicas share. The schema is created and upgraded by Alembic
(:func:`migrate`) when the service starts: one process migrates while the others wait on a lock
(a file lock beside the SQLite file, an advisory lock on PostgreSQL).

A :class:`Store` makes its engine lazily in each process, so workers forked by gunicorn never
share the master's connections.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from model_service.monitoring.tables import captures, prediction_errors

SQLITE_FILE = "monitoring.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ADVISORY_LOCK_KEY = 0x6D6F6E69  # "moni": PostgreSQL's lock id for the migration
Row = dict[str, Any]
CaptureRow = tuple[str, str, float, str, int, str, str, str, float, str]
"""One captured item as it is queued and inserted, in :data:`CAPTURE_COLUMNS` order: a plain
tuple of strings and numbers (inputs and prediction already JSON text), so the rows waiting in a
worker's queue hold nothing the garbage collector has to walk."""
CAPTURE_COLUMNS = (
    "model",
    "version",
    "created",
    "request_id",
    "item_index",
    "entry_point",
    "inputs",
    "prediction",
    "latency_ms",
    "decision",
)
SQLITE_ROWS_PER_INSERT = 64
"""Rows per multi-row INSERT on SQLite: 640 parameters, far below SQLite's limit of 32,766."""


def database_url(configured: str | None, state_directory: Path) -> str:
    """The configured URL, or a SQLite file in ``state_directory`` (created when missing)."""
    if configured:
        return configured
    state_directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{state_directory / SQLITE_FILE}"


def _json_text(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _driver_order(statement: sa.engine.Compiled) -> bool:
    """Whether the compiled insert takes positional parameters in :data:`CAPTURE_COLUMNS`
    order, so that queued rows are already what its driver takes (SQLite's ``?``)."""
    return tuple(statement.positiontup or ()) == CAPTURE_COLUMNS  # type: ignore[attr-defined]


def _insert_multirow(connection: sa.Connection, insert: str, rows: Sequence[CaptureRow]) -> None:
    """Insert ``rows`` with a few multi-row statements built from the one-row ``insert``.

    Chunks are powers of two (at most :data:`SQLITE_ROWS_PER_INSERT`), so the driver's
    statement cache holds a handful of texts rather than one per batch length.
    """
    head, _, values = insert.partition(" VALUES ")
    start = 0
    while start < len(rows):
        size = SQLITE_ROWS_PER_INSERT
        while size > len(rows) - start:
            size //= 2
        chunk = rows[start : start + size]
        text = f"{head} VALUES {', '.join([values] * size)}"
        connection.exec_driver_sql(text, tuple(chain.from_iterable(chunk)))
        start += size


def _driver_parameters(statement: sa.engine.Compiled, rows: Sequence[CaptureRow]) -> list[Any]:
    """``rows`` as the compiled statement's driver takes them: tuples in its order (SQLite's
    ``?``) or mappings by name (psycopg's ``%(name)s``)."""
    if statement.positiontup:  # type: ignore[attr-defined]
        if _driver_order(statement):
            return list(rows)  # already in the driver's order: no tuple to rebuild
        order = [CAPTURE_COLUMNS.index(name) for name in statement.positiontup]  # type: ignore[attr-defined]
        return [tuple(row[index] for index in order) for row in rows]
    return [dict(zip(CAPTURE_COLUMNS, row, strict=True)) for row in rows]


def capture_row(
    model: str,
    version: str,
    created: float,
    request_id: str,
    item_index: int,
    entry_point: str,
    inputs: Any,
    prediction: Any,
    latency_ms: float,
    decision: str = "primary",
) -> CaptureRow:
    """A :data:`CaptureRow` (inputs and prediction encoded as the JSON columns store them);
    ``decision`` says how routing chose the version (``primary``, ``canary``, ``shadow``,
    ``direct``)."""
    return (
        model,
        version,
        created,
        request_id,
        item_index,
        entry_point,
        _json_text(inputs),
        _json_text(prediction),
        latency_ms,
        decision,
    )


def _json_value(stored: Any) -> Any:
    # SQLite's numeric affinity hands a JSON number (a regression's actual) back as a number
    return stored if isinstance(stored, (int, float)) else orjson.loads(stored)


def _on_sqlite_connect(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with orjson for JSON columns (and WAL on SQLite)."""
    options: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": _json_value}
    if url.startswith("postgresql"):
        options.update(pool_pre_ping=True, pool_size=2, max_overflow=2, pool_timeout=5)
        options["connect_args"] = {"connect_timeout": 3}
    engine = sa.create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _on_sqlite_connect)
    return engine


class Store:
    """Reads and writes the monitoring tables.

    :param url: a SQLAlchemy URL (see :func:`database_url`).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.Engine | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._schema_ready = False

    @property
    def engine(self) -> sa.Engine:
        """This process's engine (a forked worker makes its own)."""
        with self._lock:
            if self._engine is None or self._pid != os.getpid():
                if self._engine is not None:
                    self._engine.dispose(close=False)  # the parent's connections stay its own
                self._engine = make_engine(self.url)
                self._pid = os.getpid()
            return self._engine

    def dispose(self) -> None:
        """Close this process's connections (tests, the export command)."""
        with self._lock:
            if self._engine is not None and self._pid == os.getpid():
                self._engine.dispose()
            self._engine = None

    # --- schema -------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the latest revision; concurrent callers wait for the first."""
        with self._migration_lock() as connection:
            config = AlembicConfig()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        self._schema_ready = True

    @contextmanager
    def _migration_lock(self) -> Iterator[sa.Connection]:
        engine = self.engine
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.execute(
                    sa.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
                connection.commit()
                try:
                    yield connection
                finally:
                    connection.execute(
                        sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                    connection.commit()
            return
        lock_path = _sqlite_lock_path(engine)
        with open(lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with engine.connect() as connection:
                    yield connection
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # --- writing ------------------------------------------------------------------------------

    def insert(self, capture_rows: Sequence[CaptureRow], error_rows: Sequence[Row] = ()) -> None:
        """Insert captured items and failed requests in one transaction (migrating first when
        the database was unreachable at start).

        Captured items go to the driver as they are, their JSON already encoded: SQLAlchemy's
        per-row processing cost as much as the insert itself. On SQLite they go as multi-row
        ``INSERT ... VALUES (...), (...)`` statements of up to :data:`SQLITE_ROWS_PER_INSERT`
        rows: ``executemany`` steps once per row, and each step gives the GIL up and takes it
        back, so a writer thread inserting 500 rows beside a busy request thread waited for the
        GIL 500 times (about 1 ms a row, measured) and interrupted that thread as often.
        """
        if not self._schema_ready:
            self.migrate()
        with self.engine.begin() as connection:
            if capture_rows:
                statement = captures.insert().compile(
                    dialect=connection.dialect, column_keys=list(CAPTURE_COLUMNS)
                )
                if _driver_order(statement) and connection.dialect.name == "sqlite":
                    _insert_multirow(connection, str(statement), capture_rows)
                else:
                    connection.exec_driver_sql(
                        str(statement), _driver_parameters(statement, capture_rows)
                    )
            if error_rows:
                connection.execute(prediction_errors.insert(), list(error_rows))

    def known_predictions(
        self, model: str, keys: Iterable[tuple[str, int]]
    ) -> set[tuple[str, int]]:
        """Which ``(request_id, index)`` pairs were captured for ``model``."""
        keys = list(keys)
        request_ids = {request_id for request_id, _ in keys}
        if not request_ids:
            return set()
        query = sa.select(captures.c.request_id, captures.c.item_index).where(
            captures.c.model == model, captures.c.request_id.in_(request_ids)
        )
        with self.engine.connect() as connection:
            found = {(row.request_id, row.item_index) for row in connection.execute(query)}
        return found & set(keys)

    def set_actuals(self, model: str, labels: Sequence[tuple[str, int, Any]], now: float) -> None:
        """Record the actual value of each ``(request_id, index, actual)`` (later ones win)."""
        statement = (
            captures.update()
            .where(
                captures.c.model == model,
                captures.c.request_id == sa.bindparam("key_request_id"),
                captures.c.item_index == sa.bindparam("key_index"),
            )
            .values(actual=sa.bindparam("new_actual"), labelled=now)
        )
        parameters = [
            {"key_request_id": request_id, "key_index": index, "new_actual": actual}
            for request_id, index, actual in labels
        ]
        with self.engine.begin() as connection:
            connection.execute(statement, parameters)

    def delete_before(self, cutoff: float, model: str | None = None) -> int:
        """Delete captures and errors older than ``cutoff`` (of one model, or all); return the
        number of captured items deleted."""
        deleted = 0
        with self.engine.begin() as connection:
            for table in (captures, prediction_errors):
                condition = table.c.created < cutoff
                if model is not None:
                    condition = sa.and_(condition, table.c.model == model)
                result = connection.execute(table.delete().where(condition))
                if table is captures:
                    deleted = result.rowcount
        return deleted

    # --- reading ------------------------------------------------------------------------------

    def counts(self, model: str, version: str, start: float | None) -> tuple[int, int]:
        """(captured items, failed requests) of one model version since ``start``."""
        with self.engine.connect() as connection:
            predictions = connection.scalar(
                sa.select(sa.func.count()).where(*_window(captures, model, version, start))
            )
            errors = connection.scalar(
                sa.select(sa.func.count()).where(*_window(prediction_errors, model, version, start))
            )
        return int(predictions or 0), int(errors or 0)

    def window_rows(
        self, model: str, version: str, start: float | None, limit: int, columns: Sequence[str]
    ) -> list[sa.Row[Any]]:
        """The latest ``limit`` captures of one model version since ``start`` (given columns)."""
        query = (
            sa.select(*(captures.c[name] for name in columns))
            .where(*_window(captures, model, version, start))
            .order_by(captures.c.created.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query))

    def labelled_rows(
        self, model: str, version: str, start: float | None, limit: int
    ) -> list[sa.Row[Any]]:
        """``(created, prediction, actual)`` of the latest labelled captures since ``start``."""
        query = (
            sa.select(captures.c.created, captures.c.prediction, captures.c.actual)
            .where(*_window(captures, model, version, start), captures.c.labelled.is_not(None))
            .order_by(captures.c.created.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query))

    def error_times(self, model: str, version: str, start: float | None) -> list[float]:
        """When each failed prediction request of one model version since ``start`` happened."""
        query = sa.select(prediction_errors.c.created).where(
            *_window(prediction_errors, model, version, start)
        )
        with self.engine.connect() as connection:
            return [row.created for row in connection.execute(query)]

    def decision_counts(self, model: str, start: float | None) -> dict[tuple[str, str], int]:
        """Captured items of every version of ``model`` since ``start`` per ``(version,
        decision)``."""
        conditions = [captures.c.model == model]
        if start is not None:
            conditions.append(captures.c.created >= start)
        query = (
            sa.select(captures.c.version, captures.c.decision, sa.func.count())
            .where(*conditions)
            .group_by(captures.c.version, captures.c.decision)
        )
        with self.engine.connect() as connection:
            return {
                (version, decision): int(count)
                for version, decision, count in connection.execute(query)
            }

    def error_counts(self, model: str, start: float | None) -> dict[str, int]:
        """Failed prediction requests of every version of ``model`` since ``start``."""
        conditions = [prediction_errors.c.model == model]
        if start is not None:
            conditions.append(prediction_errors.c.created >= start)
        query = (
            sa.select(prediction_errors.c.version, sa.func.count())
            .where(*conditions)
            .group_by(prediction_errors.c.version)
        )
        with self.engine.connect() as connection:
            return {version: int(count) for version, count in connection.execute(query)}

    def shadow_pairs(
        self,
        model: str,
        version: str,
        primary: str,
        start: float | None,
        limit: int,
        max_gap_s: float,
    ) -> tuple[int, list[tuple[Any, Any]]]:
        """The latest ``limit`` shadow items of ``version`` since ``start`` joined to the answer
        ``primary`` gave the same item (same request id and index, at most ``max_gap_s`` apart).

        :returns: how many shadow items were read, and ``(shadow prediction, primary
            prediction)`` of those that found their answer (each shadow item once).
        """
        shadow = (
            sa.select(
                captures.c.id,
                captures.c.request_id,
                captures.c.item_index,
                captures.c.created,
                captures.c.prediction,
            )
            .where(*_window(captures, model, version, start), captures.c.decision == "shadow")
            .order_by(captures.c.created.desc())
            .limit(limit)
            .subquery()
        )
        answer = captures.alias("answer")
        query = (
            sa.select(shadow.c.id, shadow.c.prediction, answer.c.prediction.label("answered"))
            .select_from(shadow)
            .outerjoin(
                answer,
                sa.and_(
                    answer.c.model == model,
                    answer.c.request_id == shadow.c.request_id,
                    answer.c.item_index == shadow.c.item_index,
                    # The version as an expression and the time as a distance, so that no index
                    # but the request id's can serve the answer: without statistics (a fresh
                    # store; SQLite never gathers them) both planners otherwise scanned the
                    # primary's rows for every shadow item (minutes for 20,000 pairs).
                    answer.c.version.concat("") == primary,
                    answer.c.decision != "shadow",
                    sa.func.abs(answer.c.created - shadow.c.created) <= max_gap_s,
                ),
            )
        )
        read: set[int] = set()
        pairs: list[tuple[Any, Any]] = []
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                if row.answered is not None and row.id not in read:
                    pairs.append((row.prediction, row.answered))
                read.add(row.id)
        return len(read), pairs

    def raw_rows(self, model: str, since: float | None, limit: int) -> list[Row]:
        """Captured rows of every version of ``model`` from ``since`` on, oldest first."""
        query = sa.select(captures).where(captures.c.model == model)
        if since is not None:
            query = query.where(captures.c.created >= since)
        query = query.order_by(captures.c.created, captures.c.id).limit(limit)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]


def export_rows(store: Store, model: str, since: float | None, page: int = 1000) -> Iterator[Row]:
    """Every captured row of ``model`` from ``since`` on, in insertion order, read a page at a
    time (for the export command: memory stays flat however many rows there are)."""
    last_id = 0
    while True:
        query = sa.select(captures).where(captures.c.model == model, captures.c.id > last_id)
        if since is not None:
            query = query.where(captures.c.created >= since)
        with store.engine.connect() as connection:
            rows = [
                dict(row._mapping)
                for row in connection.execute(query.order_by(captures.c.id).limit(page))
            ]
        yield from rows
        if len(rows) < page:
            return
        last_id = rows[-1]["id"]


def _window(table: sa.Table, model: str, version: str, start: float | None) -> list[Any]:
    conditions = [table.c.model == model, table.c.version == version]
    if start is not None:
        conditions.append(table.c.created >= start)
    return conditions


def _sqlite_lock_path(engine: sa.Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        return os.devnull
    return f"{database}.migrate.lock"
