"""The run store: every training run's data, settings, curves, metrics and model, in one SQLite file."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from forecaster.datasets import studio_home
from forecaster.errors import StoreError
from forecaster.evaluation import LSTM, NAIVE, best_baseline_of
from forecaster.metrics import skill

STORE_FILE = "runs.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's transaction before giving up

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,           -- UTC, ISO 8601
    label TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '', -- cli, app, compare, ...
    source TEXT NOT NULL,            -- how to load the data again: sample:NAME, ticker:SYM, a path, upload:NAME
    dataset TEXT NOT NULL,           -- display name
    target TEXT NOT NULL,
    features TEXT NOT NULL,          -- JSON list
    unit TEXT NOT NULL DEFAULT '',
    data_start TEXT, data_end TEXT, data_rows INTEGER,
    data_hash TEXT NOT NULL,         -- sha256 of the target and feature values and their dates
    config TEXT NOT NULL,            -- JSON ForecasterConfig
    history TEXT NOT NULL,           -- JSON loss curves and how training ended
    timings TEXT NOT NULL,           -- JSON seconds
    metrics TEXT NOT NULL,           -- JSON model -> metric -> value, LSTM and every baseline
    labels TEXT NOT NULL,            -- JSON model -> display label
    mae REAL, naive_mae REAL, skill REAL,  -- copies for sorting and filtering
    predictions TEXT NOT NULL,       -- JSON one-step-ahead test forecasts: dates, actual, each model
    model_dir TEXT                   -- the saved model folder (owned by the store), NULL if not kept
);
CREATE INDEX IF NOT EXISTS runs_dataset ON runs (dataset);
"""
SUMMARY_COLUMNS = ("id", "created", "label", "origin", "source", "dataset", "target", "features", "unit",
                   "data_start", "data_end", "data_rows", "data_hash", "config", "history", "timings", "metrics",
                   "labels", "mae", "naive_mae", "skill", "model_dir")

TABLE_COLUMNS = ("ID", "Created", "Dataset", "Target", "MAE", "Naive MAE", "Skill vs naive", "Best baseline",
                 "Skill vs best", "RMSE", "Label", "Cell", "Layers", "Units", "Dropout", "Window", "Horizon", "LR",
                 "Batch", "Epochs", "Train s", "Origin")


def default_store_path() -> Path:
    """The studio's one store file: $FORECASTER_HOME/runs.sqlite (Optuna studies live in it too)."""
    return studio_home() / STORE_FILE


def storage_url(path: str | Path | None = None) -> str:
    """The SQLAlchemy URL of a store file, as Optuna's storage takes it."""
    return f"sqlite:///{Path(path) if path is not None else default_store_path()}"


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


@dataclass(frozen=True)
class Run:
    """One recorded training run, as read back from the store."""

    id: int
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
    model_dir: str | None
    predictions: dict | None = field(default=None, repr=False)  # only when asked for (it is the bulky part)

    @classmethod
    def _from_row(cls, row: sqlite3.Row) -> "Run":
        values = dict(row)
        for name in ("features", "config", "history", "timings", "metrics", "labels", "predictions"):
            if name in values:
                values[name] = json.loads(values[name])
        values["features"] = tuple(values["features"])
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


class RunStore:
    """Runs in one SQLite file (WAL mode, safe for several sessions and processes) plus their model folders."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        # Model folders live beside the file, so a store moved or copied keeps its models.
        self.models_dir = self.path.with_name(f"{self.path.stem}-models")

    # ------------------------------------------------------------ connection
    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A short-lived connection: one per operation, so threads and processes never share one."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (sqlite3.Error, OSError) as error:
            raise StoreError(f"The run store {str(self.path)!r} cannot be opened ({error}); "
                             "check the folder exists and is writable, or pass another --store.") from None
        connection.row_factory = sqlite3.Row
        try:
            self._prepare(connection)
            if write:
                connection.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway through
            yield connection
            if write:
                connection.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise StoreError(f"The run store {str(self.path)!r} is damaged or is not a run store ({error}); "
                             "move it aside and a new, empty one is made.") from None
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    @staticmethod
    def _prepare(connection: sqlite3.Connection) -> None:
        # WAL: readers never block the writer and a killed writer leaves the file consistent.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"The run store was written by a newer version of the studio (schema {version}); "
                             "update the studio or use another --store.")
        if version < SCHEMA_VERSION:
            connection.executescript(_SCHEMA)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "label": label, "origin": origin,
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
            "predictions": json.dumps(predictions), "model_dir": None,
        }
        if keep_model:
            extra = dict(extra) if extra is not None else {"source": row["source"], "unit": row["unit"]}
            if "conformal" not in extra:  # so a reloaded run draws the same bands as Forecast's download
                extra.update(_calibration_record(model))
            row["model_dir"] = str(self._save_model(model, extra))
        try:
            with self._connect(write=True) as connection:
                cursor = connection.execute(
                    f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
                return int(cursor.lastrowid)
        except BaseException:
            if row["model_dir"]:  # the run was not kept, so neither is its model
                shutil.rmtree(row["model_dir"], ignore_errors=True)
            raise

    def _save_model(self, model: Any, extra: dict) -> Path:
        """Save under a temporary name, then rename: a folder with the final name is always complete."""
        final = self.models_dir / f"run-{uuid.uuid4().hex[:12]}"
        partial = final.with_name(final.name + ".partial")
        try:
            model.save(partial, extra=extra)
            os.replace(partial, final)
        except OSError as error:
            shutil.rmtree(partial, ignore_errors=True)
            raise StoreError(f"The model could not be saved in {str(self.models_dir)!r} ({error.strerror or error}); "
                             "free some disk space or pass another --store.") from None
        return final

    def delete(self, run_id: int) -> None:
        """Forget a run and delete its model folder."""
        with self._connect(write=True) as connection:
            row = connection.execute("SELECT model_dir FROM runs WHERE id = ?", (int(run_id),)).fetchone()
            if row is None:
                raise self._missing(run_id)
            connection.execute("DELETE FROM runs WHERE id = ?", (int(run_id),))
        # After the commit: a crash here leaves a stray folder, never a run without its model.
        if row["model_dir"] and self._owns(row["model_dir"]):
            shutil.rmtree(row["model_dir"], ignore_errors=True)

    def _owns(self, folder: str) -> bool:
        """Only folders inside the store's models folder are ever deleted."""
        try:
            return Path(folder).resolve().parent == self.models_dir.resolve()
        except OSError:
            return False

    # ------------------------------------------------------------ reading
    def runs(self, dataset: str | None = None) -> list[Run]:
        """Every run, newest first (without predictions), optionally only those on one dataset."""
        if not self.path.exists():
            return []
        query = f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM runs"
        params: tuple = ()
        if dataset:
            query, params = query + " WHERE dataset = ?", (dataset,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY id DESC", params).fetchall()
        return [Run._from_row(row) for row in rows]

    def get(self, run_id: int) -> Run:
        """One run with its test predictions."""
        if not self.path.exists():
            raise self._missing(run_id)
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM runs WHERE id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise self._missing(run_id)
        return Run._from_row(row)

    def table(self, dataset: str | None = None) -> pd.DataFrame:
        """The runs as a table indexed by ID, newest first."""
        return pd.DataFrame([run.summary() for run in self.runs(dataset)], columns=TABLE_COLUMNS).set_index("ID")

    def load_model(self, run_id: int):
        """The run's saved model, checked like any model file."""
        from forecaster.forecaster import LSTMForecaster

        run = self.get(run_id)
        if not run.model_dir:
            raise StoreError(f"Run {run.id} was recorded without its model; train it again to forecast with it.")
        return LSTMForecaster.load(run.model_dir)

    def model_archive(self, run_id: int) -> bytes:
        """The run's model as one .zip, the same file 'Download model' gives (checked by loading it first)."""
        model = self.load_model(run_id)
        return model.to_bytes(extra=getattr(model, "extra_", {}))

    def _missing(self, run_id: Any) -> StoreError:
        return StoreError(f"There is no run {run_id} in the store {str(self.path)!r}; "
                          "'python -m forecaster runs list' shows the ids.")


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
