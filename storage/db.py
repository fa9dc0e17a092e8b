"""The database behind conversations and feedback: a SQLite file by default, PostgreSQL when a URL is set.

Both backends go through SQLAlchemy Core. A `Database` turns every driver error into a `StoreError` whose
message names the database (the password hidden) and says what to check, so no traceback or secret reaches a
user or a log.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Double, Engine, MetaData, Table, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.schema import CreateTable
from sqlalchemy.types import TypeEngine

from errors import ConfigError, StoreError

SETTING = "ASSISTANT_DATABASE_URL"
SQLITE_BUSY_SECONDS = 10  # how long a SQLite writer waits for another one before giving up
CONNECT_TIMEOUT_SECONDS = 10  # how long to wait for a PostgreSQL server that does not answer
# A `time.time()` column: REAL as in the first SQLite files; double precision in PostgreSQL, whose REAL would
# round it to minutes.
SECONDS: TypeEngine[float] = Double().with_variant(sqlite.REAL(), "sqlite")
_SCHEMA_LOCK = 7_361_522  # PostgreSQL advisory lock: instances starting together create the tables one at a time


class Database:
    """An engine for conversations and feedback, with errors that hide the password and say what to do."""

    def __init__(self, engine: Engine, hint: str) -> None:
        self.engine = engine
        self.hint = hint

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server."""
        database = self.engine.url.database
        return Path(database) if self.backend == "sqlite" and database else None

    @property
    def location(self) -> str:
        """Where the data lives, safe to show: the file, or the URL with its password hidden."""
        return str(self.path) if self.path else self.engine.url.render_as_string(hide_password=True)

    def ping(self) -> None:
        """Return when the database answers; `StoreError` when it does not."""
        with self.connect("reach the database") as connection:
            connection.execute(text("SELECT 1"))

    @contextlib.contextmanager
    def connect(self, action: str) -> Iterator[Connection]:
        """A connection for reading; failures become `StoreError` ("cannot <action> (<where>): <why>; <hint>")."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as err:
            raise self.error(action, err) from err

    @contextlib.contextmanager
    def begin(self, action: str, *, conflicts: bool = False) -> Iterator[Connection]:
        """A transaction, committed at the end; failures become `StoreError`. With `conflicts`, an
        `IntegrityError` (e.g. a key another instance took first) is left to the caller to retry or explain."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except IntegrityError as err:
            if conflicts:
                raise
            raise self.error(action, err) from err
        except SQLAlchemyError as err:
            raise self.error(action, err) from err

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT with the backend's `on_conflict_do_nothing` / `on_conflict_do_update`."""
        if self.backend == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def create(self, metadata: MetaData, added_columns: dict[str, dict[str, str]] | None = None) -> None:
        """Create the missing tables, then add `added_columns` ({table: {column: DDL type}}) to tables created
        before those columns existed."""
        with self.begin("create the tables") as connection:
            if self.backend == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            for table in metadata.sorted_tables:
                connection.execute(CreateTable(table, if_not_exists=True))
            for name, columns in (added_columns or {}).items():
                present = {column["name"] for column in inspect(connection).get_columns(name)}
                for column, kind in columns.items():
                    if column not in present:
                        connection.execute(text(f"ALTER TABLE {name} ADD COLUMN {column} {kind}"))

    def error(self, action: str, err: BaseException) -> StoreError:
        """A `StoreError` for `err`: what failed, where, the driver's reason (first line), what to check."""
        return StoreError(f"cannot {action} ({self.location}): {self._reason(err)}; {self.hint}")

    def _reason(self, err: BaseException) -> str:
        cause = err.orig if isinstance(err, DBAPIError) and err.orig is not None else err
        lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
        reason = lines[0] if lines else type(cause).__name__
        password = self.engine.url.password
        if password:
            reason = reason.replace(str(password), "***")
        return reason[:300]

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.location})"


def open_database(url: str | URL | Path) -> Database:
    """The database at `url`: `postgresql://...` (driver psycopg), `sqlite:///file`, or a `Path` to a SQLite file.

    Nothing connects yet; `ConfigError` for a URL that is not one of these."""
    if isinstance(url, Path):
        return _sqlite(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as err:
        # The text may hold a password: never repeat it.
        raise ConfigError(
            f"{SETTING} is not a database URL; use postgresql://user:password@host:5432/name or unset it"
        ) from err
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return _postgresql(parsed.set(drivername="postgresql+psycopg"))
    if backend == "sqlite" and driver in ("", "pysqlite") and parsed.database and parsed.database != ":memory:":
        return _sqlite(Path(parsed.database))
    shown = parsed.render_as_string(hide_password=True)
    raise ConfigError(
        f"{SETTING}={shown} is not supported; use postgresql://user:password@host:5432/name (or sqlite:///file), "
        "or unset it to keep SQLite files in the data directory"
    )


def _sqlite(path: Path) -> Database:
    hint = f"check ASSISTANT_DATA_DIR (or {SETTING})"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"cannot create the folder {path.parent} for {path.name}: {err}; {hint}") from err
    engine = create_engine(URL.create("sqlite", database=str(path)), connect_args={"timeout": SQLITE_BUSY_SECONDS})

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        # Readers do not block the writer, and a crash never leaves a half-written file. Switching a new file
        # to WAL fails at once ("database is locked", no busy wait) while another connection does the same.
        deadline = time.monotonic() + SQLITE_BUSY_SECONDS
        while True:
            try:
                dbapi_connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    return Database(engine, hint)


def _postgresql(url: URL) -> Database:
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    try:
        # pool_pre_ping: connections that died with a server restart are replaced at checkout, so the service
        # recovers by itself once the server is back.
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except ImportError as err:
        raise ConfigError(f"{SETTING} needs the PostgreSQL driver: pip install 'psycopg[binary]>=3.3,<4'") from err
    return Database(engine, f"check that PostgreSQL is running and {SETTING}")


class TableStore:
    """The opening and closing every store shares: its tables in a SQLite file (a `Path`, opened and closed by
    the store) or in a shared `Database` (left open for its other users); safe across threads."""

    def __init__(
        self, database: Database | Path, metadata: MetaData, added_columns: dict[str, dict[str, str]] | None = None
    ) -> None:
        self._owns_database = isinstance(database, Path)
        self.database = open_database(database) if isinstance(database, Path) else database
        try:
            self.database.create(metadata, added_columns)
        except StoreError:
            self.close()
            raise

    def ping(self) -> None:
        """Return when the database answers; `StoreError` when it does not."""
        self.database.ping()

    def close(self) -> None:
        """Close the database if this store opened it (a shared `Database` stays open)."""
        if self._owns_database:
            self.database.close()
