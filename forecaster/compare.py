"""Comparing recorded runs side by side, and reopening one: its model, its own data, its evaluation again."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecaster.config import option_names
from forecaster.errors import ForecasterError, StoreError
from forecaster.evaluation import LSTM, NAIVE
from forecaster.metrics import METRIC_LABELS

if TYPE_CHECKING:  # runs imports this module: the names below are only annotations here
    from forecaster.runs import Run, RunStore

# How each option is headed in the settings table; an option not named here is headed by its name.
SETTING_LABELS = {"window": "Window", "horizon": "Horizon", "split": "Split", "missing": "Missing values",
                  "outliers": "Outliers", "resample": "Resample", "scaler": "Scaler", "transform": "Transform",
                  "calendar": "Calendar inputs", "cell": "Cell", "layers": "Layers", "units": "Units",
                  "dropout": "Dropout", "residual": "Learn the change", "relative": "Relative windows",
                  "skip": "Linear skip", "lr": "Learning rate", "batch_size": "Batch size", "epochs": "Max epochs",
                  "weight_decay": "Weight decay", "patience": "Patience", "loss": "Loss", "clip_norm": "Gradient clip",
                  "seed": "Seed", "device": "Device", "lr_schedule": "LR schedule"}
# Every option of every section, but the columns: the "Dataset" row names them.
SETTING_ROWS = tuple((section, name, SETTING_LABELS.get(name, name)) for section in ("data", "model", "train")
                     for name in option_names(section) if name not in ("target", "features"))


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


def run_name(run: Run) -> str:
    """A short column heading for a run: its id and shape."""
    model = run.config["model"]
    return f"Run {run.id} · {model['cell'].upper()} {model['layers']}×{model['units']}"


def compare_metrics(runs: list[Run]) -> pd.DataFrame:
    """Each run's LSTM test metrics side by side, with the naive forecast's and the best baseline's beside them.

    Runs on the same data share one naive column and one best-baseline column, headed with the
    baseline's label ("Naive (best baseline)" when naive is the best); runs on different data each get their own.
    """
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
    """The settings of each run side by side, as text (rows are settings, columns runs).

    An option that a run's config does not have (it was recorded before the option existed) shows as "—".
    """
    rows = {label: [str(run.config.get(section, {}).get(name, "—")) for run in runs]
            for section, name, label in SETTING_ROWS}
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


def kept_upload(store: RunStore, run: Run) -> tuple:
    """The run's uploaded file as the owner's workspace keeps it (per-user mode keeps uploads); () if it has none."""
    from forecaster.csv_reader import read_csv

    if not run.source.startswith("upload:"):
        return ()
    name = run.source.removeprefix("upload:")
    try:
        return (read_csv(store.upload(name), name=name, target=run.target, features=list(run.features)),)
    except ForecasterError:  # gone, or never kept: data_for_run says what to do
        return ()


@dataclass(frozen=True)
class Reopened:
    """A recorded run made usable again: its model, with its own data and evaluation when those can be had."""

    model: Any  # the run's LSTMForecaster, as recorded
    dataset: Any | None  # the run's own data (checked by content hash); None when it cannot be had
    evaluation: Any | None  # the model judged on that data's test part again; None without the data
    reason: str = ""  # why there is no data or evaluation: one sentence saying what to do


def reopen_run(store: RunStore, run: Run, candidates: tuple = ()) -> Reopened:
    """The run's model (StoreError if it was not kept) with its data, from `candidates`, its source or the workspace.

    Data that cannot be found or evaluated is not an error: the model still forecasts, and `reason` says why.
    """
    from forecaster.evaluation import evaluate

    model = store.load_model(run.id)
    try:
        dataset = data_for_run(run, candidates=(*candidates, *kept_upload(store, run)))
        evaluation = evaluate(model, model.prepare(dataset), unit=dataset.unit)
    except ForecasterError as error:
        return Reopened(model=model, dataset=None, evaluation=None, reason=str(error))
    return Reopened(model=model, dataset=dataset, evaluation=evaluation)
