"""The run store: every run's data, settings, curves, metrics and model, and uploads, per owner, in one database."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import shutil
import threading
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
from sqlalchemy import (Column, Float, Index, Integer, LargeBinary, MetaData, Table, Text, UniqueConstraint, delete,
                        event, insert, select, text)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from forecaster.errors import StoreError
from forecaster.evaluation import LSTM, NAIVE, best_baseline_of
from forecaster.metrics import skill
from forecaster.workspace import LOCAL_OWNER, as_url, default_store_file, store_location

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

_SUMMARY = [c for c in RUNS.c if c.name not in ("predictions", "model")]

TABLE_COLUMNS = ("ID", "Created", "Dataset", "Target", "MAE", "Naive MAE", "Skill vs naive", "Best baseline",
                 "Skill vs best", "RMSE", "Label", "Cell", "Layers", "Units", "Dropout", "Window", "Horizon", "LR",
                 "Batch", "Epochs", "Train s", "Origin")


def default_store_path() -> Path:
    """The studio's default store file: $FORECASTER_HOME/runs.sqlite (Optuna studies live in it too)."""
    return default_store_file()


def storage_url(path: str | Path | None = None) -> str:
    """The SQLAlchemy URL of a store (a file path or a URL; default: the workspace's store), as Optuna takes it."""
    return store_location() if path is None else as_url(path)


def data_fingerprint(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> str:
    """A short content hash of these columns (those present) and their dates: equal hashes, same data."""
    index = frame.index
    if isinstance(index, pd.DatetimeIndex):
        index = index.as_unit("ns")  # the same dates parsed at another resolution hash the same
    digest = hashlib.sha256(np.asarray(index.asi8 if hasattr(index, "asi8") else np.arange(len(index)),
                                       dtype=np.int64).tobytes())
    for column in (c for c in columns if c in frame.columns):
        digest.update(str(column).encode())
        digest.update(np.ascontiguousarray(frame[column].to_numpy(dtype=np.float64)).tobytes())
    return digest.hexdigest()[:16]


def hide_password(location: str) -> str:
    """A store path or database URL as it may be shown: 'postgresql://ann:secret@db/x' -> 'postgresql://ann:***@db/x'."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", location)


def _calibration_record(model: Any) -> dict:
    """{"conformal": validation residuals} for a model fitted in this process; {} for one without its data."""
    from forecaster.intervals import calibration_for

    calibration = calibration_for(model)
    return {} if calibration is None else {"conformal": calibration.to_dict()}


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Run:
    """One recorded training run, as read back from the store."""

    id: int
    owner: str
    created: str
    label: str
    origin: str
    source: str
    dataset: str
    target: str
    features: tuple[str, ...]
    unit: str
    data_start: str | None
    data_end: str | None
    data_rows: int | None
    data_hash: str
    config: dict
    history: dict
    timings: dict
    metrics: dict  # model name -> metric -> value (None where undefined)
    labels: dict  # model name -> display label
    mae: float | None
    naive_mae: float | None
    skill: float | None
    has_model: bool  # whether the model was kept (RunStore.load_model, model_archive)
    predictions: dict | None = field(default=None, repr=False)  # only when asked for (it is the bulky part)

    @classmethod
    def _from_row(cls, row: Any) -> "Run":
        values = dict(row._mapping)
        for name in ("features", "config", "history", "timings", "metrics", "labels", "predictions"):
            if name in values:
                values[name] = json.loads(values[name])
        values["features"] = tuple(values["features"])
        values["has_model"] = bool(values["has_model"])
        return cls(**values)

    @property
    def best_baseline(self) -> str | None:
        """The baseline with the lowest test MAE in the stored metrics (None if none has one)."""
        return best_baseline_of(self.metrics)

    @property
    def skill_vs_best(self) -> float | None:
        """1 - MAE_lstm / MAE of the best baseline, from the stored metrics (None where undefined)."""
        best, mae = self.best_baseline, self.metrics.get(LSTM, {}).get("mae")
        return None if best is None or mae is None else _finite(skill(mae, self.metrics[best]["mae"]))

    def summary(self) -> dict[str, Any]:
        """One flat row for tables: what was trained on what, and how it scored."""
        model, data, train = self.config["model"], self.config["data"], self.config["train"]
        return {"ID": self.id, "Created": self.created[:19].replace("T", " "), "Dataset": self.dataset,
                "Target": self.target, "Label": self.label, "Cell": model["cell"], "Layers": model["layers"],
                "Units": model["units"], "Dropout": model["dropout"], "Window": data["window"],
                "Horizon": data["horizon"], "LR": train["lr"], "Batch": train["batch_size"],
                "Epochs": len(self.history.get("train_loss", [])), "MAE": self.mae, "Naive MAE": self.naive_mae,
                "Skill vs naive": self.skill, "Best baseline": self.labels.get(self.best_baseline, self.best_baseline),
                "Skill vs best": self.skill_vs_best, "RMSE": self.metrics.get("lstm", {}).get("rmse"),
                "Train s": self.timings.get("train_seconds"), "Origin": self.origin}

    def predictions_frame(self) -> pd.DataFrame:
        """The one-step-ahead test forecasts: actual and each model, indexed by date."""
        if self.predictions is None:
            raise StoreError("This run was read without its predictions; read it with RunStore.get(id).")
        columns = {k: v for k, v in self.predictions.items() if k != "date"}
        frame = pd.DataFrame(columns, index=pd.DatetimeIndex(pd.to_datetime(self.predictions["date"]), name="date"))
        return frame.astype(float)


@dataclass(frozen=True)
class Upload:
    """One uploaded file kept in an owner's workspace."""

    name: str
    size: int  # bytes
    created: str  # UTC, ISO 8601


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
        # WAL: readers never block the writer and a killed writer leaves the file consistent.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
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


class RunStore:
    """Runs and uploads of one owner in the store's database (SQLite by default, PostgreSQL for a team)."""

    def __init__(self, location: str | Path | None = None, *, owner: str = LOCAL_OWNER) -> None:
        if not isinstance(owner, str) or not owner:
            raise StoreError("A run store needs an owner: the local user or a signed-in person's identity.")
        self.url = as_url(location if location is not None else store_location())
        self.owner = owner
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

    # ------------------------------------------------------------ connection
    def _absent(self) -> bool:
        """True for a SQLite file not made yet: reading it finds nothing and creates nothing."""
        return self.path is not None and not self.path.exists()

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[Connection]:
        """A short transaction, the schema checked first; database failures become one StoreError sentence."""
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            engine = _engine(self.url)
            with engine.connect() as connection:
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
                leftovers = self._upgrade_from_1(connection)
            elif version == 0:
                _metadata.create_all(connection, tables=[RUNS, UPLOADS] + ([] if self.is_sqlite else [STORE_META]))
            if version < SCHEMA_VERSION:
                self._set_version(connection)
        # After the commit: a crash here leaves stray folders, never a run without its model.
        for folder in leftovers:
            shutil.rmtree(folder, ignore_errors=True)
        if leftovers and self.path is not None:
            try:
                self._legacy_models_dir().rmdir()
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

    def _legacy_models_dir(self) -> Path:
        assert self.path is not None
        return self.path.with_name(f"{self.path.stem}-models")

    def _upgrade_from_1(self, connection: Connection) -> list[Path]:
        """Schema 1 -> 2 (SQLite only): owners (all the local user's), the model folders read into the database.

        Returns the folders to remove once the transaction has committed.
        """
        run = connection.exec_driver_sql
        run("ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
        run("UPDATE runs SET owner = ?", (LOCAL_OWNER,))
        run("ALTER TABLE runs ADD COLUMN model BLOB")
        leftovers = []
        for run_id, folder in run("SELECT id, model_dir FROM runs WHERE model_dir IS NOT NULL").fetchall():
            archive = _zip_folder(Path(folder))
            if archive is not None:
                run("UPDATE runs SET model = ? WHERE id = ?", (archive, run_id))
                if self._owns(folder):
                    leftovers.append(Path(folder))
        run("ALTER TABLE runs DROP COLUMN model_dir")
        _metadata.create_all(connection, tables=[RUNS, UPLOADS])  # the runs table exists: only what is new
        run("CREATE INDEX IF NOT EXISTS runs_owner_dataset ON runs (owner, dataset)")
        return leftovers

    def _owns(self, folder: str) -> bool:
        """Only folders inside the old models folder beside the file are ever deleted."""
        try:
            return Path(folder).resolve().parent == self._legacy_models_dir().resolve()
        except OSError:
            return False

    # ------------------------------------------------------------ writing
    def record(self, model: Any, evaluation: Any, data: Any, *, label: str = "", origin: str = "",
               timings: dict | None = None, keep_model: bool = True, extra: dict | None = None) -> int:
        """Keep a fitted model's run: data, config, curves, test metrics, predictions and (by default) the model.

        `extra` is saved with the model (as in LSTMForecaster.save); by default where the data came from.
        """
        frame = getattr(data, "frame", data)
        columns = [model.target_, *model.config.data.features]
        info = model.data_info_
        metrics = {name: {k: _finite(v) for k, v in values.items()} for name, values in evaluation.metrics.items()}
        step = evaluation.predictions_frame(step=1)
        predictions = {"date": [ts.isoformat() for ts in step.index],
                       **{name: [_finite(v) for v in step[name].to_numpy()] for name in step.columns}}
        history = model.history_
        row = {
            "owner": self.owner, "created": _now(), "label": label, "origin": origin,
            "source": str(getattr(data, "source", "") or info.get("source", "")),
            "dataset": str(getattr(data, "name", "") or info.get("name", "") or "data"),
            "target": model.target_, "features": json.dumps(list(model.config.data.features)),
            "unit": str(getattr(data, "unit", "") or ""),
            "data_start": info.get("start"), "data_end": info.get("end"), "data_rows": info.get("rows"),
            "data_hash": data_fingerprint(frame, columns),
            "config": json.dumps(model.config.to_dict()),
            "history": json.dumps(history.to_dict()),
            "timings": json.dumps({"train_seconds": round(history.seconds, 3), **(timings or {})}),
            "metrics": json.dumps(metrics), "labels": json.dumps(evaluation.labels),
            "mae": metrics["lstm"]["mae"], "naive_mae": metrics["naive"]["mae"], "skill": _finite(evaluation.skill),
            "predictions": json.dumps(predictions), "model": None,
        }
        if keep_model:
            extra = dict(extra) if extra is not None else {"source": row["source"], "unit": row["unit"]}
            if "conformal" not in extra:  # so a reloaded run draws the same bands as Forecast's download
                extra.update(_calibration_record(model))
            row["model"] = model.to_bytes(extra=extra)
        with self._connect(write=True) as connection:
            return int(connection.execute(insert(RUNS).values(**row)).inserted_primary_key[0])

    def delete(self, run_id: int) -> None:
        """Forget one of this owner's runs, and its model with it."""
        if self._absent():
            raise self._missing(run_id)
        with self._connect(write=True) as connection:
            gone = connection.execute(delete(RUNS).where(*self._mine(run_id))).rowcount
        if not gone:
            raise self._missing(run_id)

    def _mine(self, run_id: Any) -> tuple:
        """The WHERE clause of one run of this owner; another owner's id matches nothing, like an unknown one."""
        try:
            number = int(run_id)
        except (TypeError, ValueError):
            raise self._missing(run_id) from None
        return RUNS.c.id == number, RUNS.c.owner == self.owner

    # ------------------------------------------------------------ reading
    def runs(self, dataset: str | None = None) -> list[Run]:
        """This owner's runs, newest first (without predictions), optionally only those on one dataset."""
        if self._absent():
            return []
        query = select(*_SUMMARY, RUNS.c.model.is_not(None).label("has_model")).where(RUNS.c.owner == self.owner)
        if dataset:
            query = query.where(RUNS.c.dataset == dataset)
        with self._connect() as connection:
            rows = connection.execute(query.order_by(RUNS.c.id.desc())).fetchall()
        return [Run._from_row(row) for row in rows]

    def get(self, run_id: int) -> Run:
        """One of this owner's runs, with its test predictions."""
        if self._absent():
            raise self._missing(run_id)
        query = select(*_SUMMARY, RUNS.c.predictions, RUNS.c.model.is_not(None).label("has_model"))
        with self._connect() as connection:
            row = connection.execute(query.where(*self._mine(run_id))).fetchone()
        if row is None:
            raise self._missing(run_id)
        return Run._from_row(row)

    def table(self, dataset: str | None = None) -> pd.DataFrame:
        """This owner's runs as a table indexed by ID, newest first."""
        return pd.DataFrame([run.summary() for run in self.runs(dataset)], columns=TABLE_COLUMNS).set_index("ID")

    def _model_bytes(self, run_id: int) -> bytes:
        if self._absent():
            raise self._missing(run_id)
        with self._connect() as connection:
            row = connection.execute(select(RUNS.c.id, RUNS.c.model).where(*self._mine(run_id))).fetchone()
        if row is None:
            raise self._missing(run_id)
        if row.model is None:
            raise StoreError(f"Run {row.id} was recorded without its model; train it again to forecast with it.")
        return bytes(row.model)

    def load_model(self, run_id: int):
        """The run's saved model, checked like any model file (its `extra_` as it was recorded)."""
        from forecaster.forecaster import LSTMForecaster

        return LSTMForecaster.from_bytes(self._model_bytes(run_id))

    def model_archive(self, run_id: int) -> bytes:
        """The run's model as one .zip, the same file 'Download model' gives (checked by loading it first)."""
        from forecaster.forecaster import LSTMForecaster

        payload = self._model_bytes(run_id)
        LSTMForecaster.from_bytes(payload)  # a damaged or altered archive is refused here, not after download
        return payload

    def _missing(self, run_id: Any) -> StoreError:
        return StoreError(f"There is no run {run_id} in the store {self.location!r}; "
                          "'python -m forecaster runs list' shows the ids.")

    # ------------------------------------------------------------ uploads
    def save_upload(self, name: str, content: bytes) -> None:
        """Keep an uploaded file in this owner's workspace, replacing one of the same name."""
        if not isinstance(name, str) or not name.strip():
            raise StoreError("An upload needs a file name; upload the file again.")
        values = {"owner": self.owner, "name": name, "size": len(content), "created": _now(),
                  "content": bytes(content)}
        with self._connect(write=True) as connection:
            # An upsert, so two sessions saving the same name at once both succeed, the later one kept.
            dialect = connection.dialect.name
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as upsert
            else:
                from sqlalchemy.dialects.sqlite import insert as upsert
            statement = upsert(UPLOADS).values(**values)
            connection.execute(statement.on_conflict_do_update(
                index_elements=[UPLOADS.c.owner, UPLOADS.c.name],
                set_={k: statement.excluded[k] for k in ("size", "created", "content")}))

    def uploads(self) -> list[Upload]:
        """This owner's uploads, by name."""
        if self._absent():
            return []
        query = select(UPLOADS.c.name, UPLOADS.c.size, UPLOADS.c.created).where(UPLOADS.c.owner == self.owner)
        with self._connect() as connection:
            rows = connection.execute(query.order_by(UPLOADS.c.name)).fetchall()
        return [Upload(name=row.name, size=int(row.size), created=row.created) for row in rows]

    def upload(self, name: str) -> bytes:
        """The content of one of this owner's uploads."""
        if self._absent():
            raise self._no_upload(name)
        query = select(UPLOADS.c.content).where(UPLOADS.c.owner == self.owner, UPLOADS.c.name == str(name))
        with self._connect() as connection:
            content = connection.execute(query).scalar()
        if content is None:
            raise self._no_upload(name)
        return bytes(content)

    def delete_upload(self, name: str) -> None:
        """Forget one of this owner's uploads."""
        if self._absent():
            raise self._no_upload(name)
        with self._connect(write=True) as connection:
            gone = connection.execute(delete(UPLOADS).where(UPLOADS.c.owner == self.owner,
                                                            UPLOADS.c.name == str(name))).rowcount
        if not gone:
            raise self._no_upload(name)

    def _no_upload(self, name: Any) -> StoreError:
        return StoreError(f"There is no upload {str(name)!r} in your workspace; upload the file again on the "
                          "Data page.")


def _zip_folder(folder: Path) -> bytes | None:
    """A schema-1 model folder as the archive LSTMForecaster.to_bytes makes; None when it holds no model files.

    The files are copied as they are, unchecked: loading checks them, as it checked the folder before.
    """
    from forecaster.forecaster import MODEL_FILES

    files = [folder / name for name in MODEL_FILES if (folder / name).is_file()]
    if not files:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, arcname=path.name)
    return buffer.getvalue()


# ---------------------------------------------------------------- comparing runs

SETTING_ROWS = (("data", "window", "Window"), ("data", "horizon", "Horizon"), ("data", "scaler", "Scaler"),
                ("data", "transform", "Transform"), ("model", "cell", "Cell"), ("model", "layers", "Layers"),
                ("model", "units", "Units"), ("model", "dropout", "Dropout"), ("model", "residual", "Learn the change"),
                ("train", "lr", "Learning rate"), ("train", "batch_size", "Batch size"), ("train", "epochs", "Max epochs"),
                ("train", "patience", "Patience"), ("train", "loss", "Loss"), ("train", "seed", "Seed"))


def run_name(run: Run) -> str:
    """A short column heading for a run: its id and shape."""
    model = run.config["model"]
    return f"Run {run.id} · {model['cell'].upper()} {model['layers']}×{model['units']}"


def compare_metrics(runs: list[Run]) -> pd.DataFrame:
    """Each run's LSTM test metrics side by side, with the naive forecast's and the best baseline's beside them.

    Runs on the same data share one naive column and one best-baseline column, headed with the
    baseline's label ("Naive (best baseline)" when naive is the best); runs on different data each get their own.
    """
    from forecaster.metrics import METRIC_LABELS

    columns: dict[str, dict] = {run_name(run): run.metrics[LSTM] for run in runs}
    first_on_data: dict[str, Run] = {}
    for run in runs:
        first_on_data.setdefault(run.data_hash, run)
    for run in first_on_data.values():  # after the runs: the naive and best columns of each dataset
        whose = "" if len(first_on_data) == 1 else f" (run {run.id}'s data)"
        best = run.best_baseline
        if best == NAIVE:
            columns[f"Naive (best baseline){whose}"] = run.metrics[NAIVE]
            continue
        columns[f"Naive{whose}"] = run.metrics[NAIVE]
        if best is not None:
            columns[f"Best baseline{whose}: {run.labels.get(best, best)}"] = run.metrics[best]
    frame = pd.DataFrame(columns).rename(index=METRIC_LABELS)
    frame.loc["Skill vs naive"] = pd.Series({run_name(run): run.skill for run in runs})
    frame.loc["Skill vs best"] = pd.Series({run_name(run): run.skill_vs_best for run in runs})
    return frame


def compare_settings(runs: list[Run]) -> pd.DataFrame:
    """The settings of each run side by side, as text (rows are settings, columns runs)."""
    rows = {label: [str(run.config[section][name]) for run in runs] for section, name, label in SETTING_ROWS}
    rows["Epochs run"] = [str(len(run.history.get("train_loss", []))) for run in runs]
    rows["Dataset"] = [f"{run.dataset} ({run.target})" for run in runs]
    return pd.DataFrame(rows, index=[run_name(run) for run in runs]).T


def overlay_frame(runs: list[Run]) -> tuple[pd.DataFrame, list[Run]]:
    """Actual and each run's one-step test forecasts on the dates they share, and the runs left out.

    Only runs on the same data as the first one can share a chart; the others are returned apart.
    """
    if not runs:
        raise StoreError("Pick at least one run to compare.")
    first = runs[0]
    same = [run for run in runs if run.data_hash == first.data_hash and run.target == first.target]
    others = [run for run in runs if run not in same]
    frames = {run.id: run.predictions_frame() for run in same}
    actual = frames[first.id]["actual"]
    columns = {"actual": actual}
    for run in same:
        columns[run_name(run)] = frames[run.id]["lstm"]
    columns["naive"] = frames[first.id]["naive"]
    frame = pd.DataFrame(columns)  # aligned on dates; a run with another window or split has gaps
    return frame, others


def data_for_run(run: Run, candidates: tuple = ()):
    """The run's own data, loaded again from its source or found among `candidates` by content hash.

    Raises StoreError when it cannot be had (an upload whose file is gone, a ticker offline).
    """
    from forecaster.datasets import load_data
    from forecaster.errors import ForecasterError

    columns = [run.target, *run.features]

    def matches(dataset) -> bool:
        frame = getattr(dataset, "frame", None)
        return (frame is not None and all(c in frame.columns for c in columns)
                and data_fingerprint(frame, columns) == run.data_hash)

    for dataset in candidates:
        if matches(dataset):
            return dataset
    if not run.source.startswith("upload:"):
        options: dict = {} if run.source.startswith(("sample:", "ticker:")) else {
            "target": run.target, "features": list(run.features)}
        try:
            dataset = load_data(run.source, **options)
        except (ForecasterError, OSError, TypeError):
            dataset = None
        if dataset is not None and matches(dataset):
            return dataset
    raise StoreError(f"Run {run.id}'s data ({run.source}) cannot be loaded again as it was"
                     + (" (it was an upload); upload the same file on the Data page first."
                        if run.source.startswith("upload:") else "; it has changed or cannot be reached."))
