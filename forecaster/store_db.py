"""The run store's database: its tables, one engine per URL, short transactions, the schema made or upgraded."""

from __future__ import annotations

import re
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    delete,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from forecaster.errors import StoreError
from forecaster.store_legacy import legacy_models_dir, upgrade_from_1
from forecaster.workspace import as_url, default_store_file, store_location

SCHEMA_VERSION = 2  # 1: one SQLite file, no owners, models in folders beside it; 2: owners, models and uploads inside
BUSY_TIMEOUT_S = 30.0  # how long a SQLite writer waits for another process's transaction before giving up
CONNECT_TIMEOUT_S = 10  # how long to wait for a database server before saying it cannot be reached
_SCHEMA_LOCK = 7_241_015  # PostgreSQL advisory lock key: one process at a time creates or upgrades the schema

_metadata = MetaData()
RUNS = Table(
    "runs", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", Text, nullable=False),  # whose workspace: LOCAL_OWNER, or issuer#subject after sign-in
    Column("created", Text, nullable=False),  # UTC, ISO 8601
    Column("label", Text, nullable=False, default=""),
    Column("origin", Text, nullable=False, default=""),  # cli, app, compare, ...
    Column("source", Text, nullable=False),  # how to load the data again: sample:NAME, ticker:SYM, a path, upload:NAME
    Column("dataset", Text, nullable=False),  # display name
    Column("target", Text, nullable=False),
    Column("features", Text, nullable=False),  # JSON list
    Column("unit", Text, nullable=False, default=""),
    Column("data_start", Text), Column("data_end", Text), Column("data_rows", Integer),
    Column("data_hash", Text, nullable=False),  # sha256 of the target and feature values and their dates
    Column("config", Text, nullable=False),  # JSON ForecasterConfig
    Column("history", Text, nullable=False),  # JSON loss curves and how training ended
    Column("timings", Text, nullable=False),  # JSON seconds
    Column("metrics", Text, nullable=False),  # JSON model -> metric -> value, LSTM and every baseline
    Column("labels", Text, nullable=False),  # JSON model -> display label
    Column("mae", Float), Column("naive_mae", Float), Column("skill", Float),  # copies for sorting and filtering
    Column("predictions", Text, nullable=False),  # JSON one-step-ahead test forecasts: dates, actual, each model
    # The model as its checked .zip (LSTMForecaster.to_bytes), NULL if not kept. In the database, not in
    # folders: every app replica and CLI that reaches the database reaches the model too, a run and its
    # model are written and deleted in one transaction, and a model is small (tens of kB to a few MB).
    Column("model", LargeBinary),
    sqlite_autoincrement=True,  # ids are never reused: a link to a deleted run never opens another
)
Index("runs_owner_dataset", RUNS.c.owner, RUNS.c.dataset)
UPLOADS = Table(
    "uploads", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("created", Text, nullable=False),  # UTC, ISO 8601
    Column("content", LargeBinary, nullable=False),
    UniqueConstraint("owner", "name", name="uploads_owner_name"),
)
# PostgreSQL keeps the schema version here (SQLite keeps it in PRAGMA user_version, which older builds read).
STORE_META = Table("store_meta", _metadata, Column("key", Text, primary_key=True),
                   Column("value", Text, nullable=False))


def set_wal(connection: Any) -> None:
    """Put a SQLite connection's file in WAL mode: readers never block the writer, a killed writer leaves it whole."""
    for delay in (0.1, 0.2, 0.4, 0.8, 1.6, 0):
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            # Switching to WAL needs the file to itself and SQLite does not wait for that (the busy timeout
            # does not apply): two processes starting on a new file at once can meet here; the later retries.
            if "locked" not in str(error) or not delay:
                raise
            time.sleep(delay)


def wal_file(path: str | Path) -> None:
    """Put the SQLite file at `path` in WAL mode (made if absent), as every store and study database is."""
    connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    try:
        set_wal(connection)
    finally:
        connection.close()


# ---------------------------------------------------------------- engines

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine(url: str) -> Engine:
    """One engine per URL and process: PostgreSQL connections are pooled, SQLite ones opened per operation."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = _make_engine(url)
        return engine


def _make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    if make_url(url).get_backend_name() != "sqlite":
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {}
        # pre_ping: a connection the server dropped (restart, idle timeout) is replaced, not handed out.
        return create_engine(url, pool_size=2, max_overflow=8, pool_pre_ping=True, pool_recycle=1800,
                             connect_args=connect_args)
    # A connection per operation, as before SQLAlchemy: threads and processes never share one.
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event below starts transactions, not the driver
        set_wal(dbapi_connection)
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the lock at BEGIN: a deferred transaction that reads and then writes can fail at
        # once with "database is locked" when another process writes first, whatever the busy timeout.
        write = connection.get_execution_options().get("write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def close_engines() -> None:
    """Close every pooled database connection of this process (tests dropping databases; a shutdown)."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def _reason(error: BaseException) -> str:
    """The first line of a database error, without SQLAlchemy's traceback-like decoration."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


class StoreDatabase:
    """Where a store lives (a SQLite file or a database URL) and short transactions on it, the schema made first."""

    def __init__(self, location: str | Path | None = None) -> None:
        self.url = as_url(location if location is not None else store_location())
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise StoreError(f"The run store {hide_password(self.url)!r} is not a file or database URL the store can "
                             "use; give a SQLite file or a URL such as postgresql+psycopg://user:pw@host/db.") from None
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        database = parsed.database or ""
        # The SQLite file, or None for a server database (and an in-memory SQLite one).
        self.path: Path | None = Path(database) if self.is_sqlite and database and database != ":memory:" else None
        self.location = str(self.path) if self.path is not None else parsed.render_as_string(hide_password=True)

    def _absent(self) -> bool:
        """True for a SQLite file not made yet: reading it finds nothing and creates nothing."""
        return self.path is not None and not self.path.exists()

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[Connection]:
        """A short transaction, the schema checked first; database failures become one StoreError sentence."""
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with _engine(self.url).connect() as connection:
                self._prepare(connection)
                connection.execution_options(write=write)
                with connection.begin():
                    yield connection
        except OSError as error:
            raise StoreError(f"The run store {self.location!r} cannot be opened ({error.strerror or error}); "
                             "check the folder exists and is writable, or pass another --store.") from None
        except (ImportError, NoSuchModuleError) as error:
            raise StoreError(f"The database driver for {self.location} is not installed ({error}); install the "
                             "studio's requirements (pip install -r requirements.txt), which include "
                             "psycopg.") from None
        except ArgumentError as error:
            raise StoreError(f"The run store {self.location!r} cannot be used ({error}); give a SQLite file or a URL "
                             "such as postgresql+psycopg://user:pw@host/db.") from None
        except DBAPIError as error:
            raise self._database_error(error) from None
        except SQLAlchemyError as error:
            raise StoreError(f"The run store {self.location!r} failed ({_reason(error)}); try again, "
                             "or pass another --store.") from None

    def _database_error(self, error: DBAPIError) -> StoreError:
        reason = _reason(error)
        if self.is_sqlite:
            if "locked" in reason or "busy" in reason:
                return StoreError(f"The run store {self.location!r} stayed busy with another process's write for "
                                  f"{BUSY_TIMEOUT_S:.0f} s ({reason}); try again.")
            if "unable to open" in reason:
                return StoreError(f"The run store {self.location!r} cannot be opened ({reason}); check the folder "
                                  "exists and is writable, or pass another --store.")
            return StoreError(f"The run store {self.location!r} is damaged or is not a run store ({reason}); "
                              "move it aside and a new, empty one is made.")
        if error.connection_invalidated or isinstance(error.orig, OSError) or type(error).__name__ in (
                "OperationalError", "InterfaceError"):
            return StoreError(f"The run store {self.location} cannot be reached ({reason}); check that the database "
                              "server is running and that the host, port, user and password in FORECASTER_STORE "
                              "(or --store) are right.")
        return StoreError(f"The run store {self.location} refused the operation ({reason}); check that the user in "
                          "the URL may create and write tables in that database.")

    # ------------------------------------------------------------ schema
    def _version(self, connection: Connection) -> int:
        if self.is_sqlite:
            return int(connection.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        if not connection.execute(text("SELECT to_regclass('store_meta') IS NOT NULL")).scalar():
            return 0
        value = connection.execute(select(STORE_META.c.value).where(STORE_META.c.key == "schema_version")).scalar()
        return int(value or 0)

    def _prepare(self, connection: Connection) -> None:
        """Refuse a newer schema; create the tables, or upgrade an older store in place, once."""
        version = self._version(connection)
        connection.rollback()  # the read above began a transaction; each operation begins its own
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise self._newer(version)
        leftovers: list[Path] = []
        connection.execution_options(write=True)
        with connection.begin():
            if not self.is_sqlite:  # other processes wait here, then find the schema made
                connection.execute(text(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})"))
            version = self._version(connection)  # again, inside the lock: another process may have done it
            if version > SCHEMA_VERSION:
                raise self._newer(version)
            if version == 1:
                leftovers = upgrade_from_1(connection, self.path)
                _metadata.create_all(connection, tables=[RUNS, UPLOADS])  # the runs table exists: only what is new
                connection.exec_driver_sql("CREATE INDEX IF NOT EXISTS runs_owner_dataset ON runs (owner, dataset)")
            elif version == 0:
                _metadata.create_all(connection, tables=[RUNS, UPLOADS] + ([] if self.is_sqlite else [STORE_META]))
            if version < SCHEMA_VERSION:
                self._set_version(connection)
        # After the commit: a crash here leaves stray folders, never a run without its model.
        for folder in leftovers:
            shutil.rmtree(folder, ignore_errors=True)
        if leftovers and self.path is not None:
            try:
                legacy_models_dir(self.path).rmdir()
            except OSError:  # not empty: something else was put there; left alone
                pass

    def _set_version(self, connection: Connection) -> None:
        if self.is_sqlite:
            connection.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        else:
            connection.execute(delete(STORE_META).where(STORE_META.c.key == "schema_version"))
            connection.execute(insert(STORE_META).values(key="schema_version", value=str(SCHEMA_VERSION)))

    def _newer(self, version: int) -> StoreError:
        return StoreError(f"The run store was written by a newer version of the studio (schema {version}); "
                          "update the studio or use another --store.")


def default_store_path() -> Path:
    """The studio's default store file: $FORECASTER_HOME/runs.sqlite (Optuna studies live in it too)."""
    return default_store_file()


def storage_url(path: str | Path | None = None) -> str:
    """The SQLAlchemy URL of a store (a file path or a URL; default: the workspace's store), as Optuna takes it."""
    return store_location() if path is None else as_url(path)


def hide_password(location: str) -> str:
    """A store path or database URL as it may be shown: postgresql://ann:secret@db/x -> postgresql://ann:***@db/x."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", location)
