"""The run store: every run's data, settings, curves, metrics and model, and uploads, per owner, in one database."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, select

from forecaster.compare import data_fingerprint
from forecaster.errors import StoreError
from forecaster.evaluation import LSTM, best_baseline_of
from forecaster.metrics import finite_or_none, skill
from forecaster.store_db import (  # noqa: F401 - re-exported: callers imported these here before store_db.py
    RUNS,
    SCHEMA_VERSION,
    UPLOADS,
    StoreDatabase,
    close_engines,
    default_store_path,
    hide_password,
    storage_url,
)
from forecaster.workspace import LOCAL_OWNER

_SUMMARY = [c for c in RUNS.c if c.name not in ("predictions", "model")]

TABLE_COLUMNS = ("ID", "Created", "Dataset", "Target", "MAE", "Naive MAE", "Skill vs naive", "Best baseline",
                 "Skill vs best", "RMSE", "Label", "Cell", "Layers", "Units", "Dropout", "Window", "Horizon", "LR",
                 "Batch", "Epochs", "Train s", "Origin")


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
        return None if best is None or mae is None else finite_or_none(skill(mae, self.metrics[best]["mae"]))

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


class RunStore(StoreDatabase):
    """Runs and uploads of one owner in the store's database (SQLite by default, PostgreSQL for a team)."""

    def __init__(self, location: str | Path | None = None, *, owner: str = LOCAL_OWNER) -> None:
        if not isinstance(owner, str) or not owner:
            raise StoreError("A run store needs an owner: the local user or a signed-in person's identity.")
        super().__init__(location)
        self.owner = owner

    # ------------------------------------------------------------ writing
    def record(self, model: Any, evaluation: Any, data: Any, *, label: str = "", origin: str = "",
               timings: dict | None = None, keep_model: bool = True, extra: dict | None = None) -> int:
        """Keep a fitted model's run: data, config, curves, test metrics, predictions and (by default) the model.

        `extra` is saved with the model (as in LSTMForecaster.save); by default where the data came from.
        """
        frame = getattr(data, "frame", data)
        columns = [model.target_, *model.config.data.features]
        info = model.data_info_
        metrics = {name: {k: finite_or_none(v) for k, v in values.items()}
                   for name, values in evaluation.metrics.items()}
        step = evaluation.predictions_frame(step=1)
        predictions = {"date": [ts.isoformat() for ts in step.index],
                       **{name: [finite_or_none(v) for v in step[name].to_numpy()] for name in step.columns}}
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
            "mae": metrics["lstm"]["mae"], "naive_mae": metrics["naive"]["mae"],
            "skill": finite_or_none(evaluation.skill),
            "predictions": json.dumps(predictions), "model": None,
        }
        if keep_model:
            extra = dict(extra) if extra is not None else {"source": row["source"], "unit": row["unit"]}
            if "conformal" not in extra:  # so a reloaded run draws the same bands as Forecast's download
                from forecaster.intervals import calibration_for

                calibration = calibration_for(model)  # None for a model without its validation data
                if calibration is not None:
                    extra["conformal"] = calibration.to_dict()
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
        from forecaster.estimator import LSTMForecaster

        return LSTMForecaster.from_bytes(self._model_bytes(run_id))

    def model_archive(self, run_id: int) -> bytes:
        """The run's model as one .zip, the same file 'Download model' gives (checked by loading it first)."""
        from forecaster.estimator import LSTMForecaster

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

