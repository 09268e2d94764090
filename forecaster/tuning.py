"""Hyperparameter search with Optuna: the validation loss chooses, the test part never does."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import socket
import sqlite3
import threading
import time
import warnings
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import optuna
import pandas as pd
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, TrialState

from forecaster.config import CELLS, MAX_BATCH_SIZE, MAX_LAYERS, MAX_UNITS, MAX_WINDOW, MIN_UNITS, ForecasterConfig
from forecaster.errors import ConfigError, ForecasterError
from forecaster.forecaster import LSTMForecaster, _frame_of
from forecaster.runs import data_fingerprint
from forecaster.training import EpochReport
from forecaster.workspace import LOCAL_OWNER, store_location

optuna.logging.set_verbosity(optuna.logging.WARNING)  # one INFO line per trial is noise in a library

PARAMS = ("layers", "units", "dropout", "window", "lr", "batch_size", "cell")
_SECTION = {"layers": "model", "units": "model", "dropout": "model", "cell": "model",
            "window": "data", "lr": "train", "batch_size": "train"}
MAX_TRIALS = 10_000
# Trials that hold a place in the study's budget: finished ones and those a worker is running. (A queued
# trial takes its place when a worker starts it.)
_RESERVED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
_SETTINGS = ("forecaster_space", "forecaster_base", "forecaster_data")  # study user attrs, set by its creator
_OWNER, _NAME = "forecaster_owner", "forecaster_name"  # study user attrs: whose it is, and its name as they gave it
PRUNER_STARTUP_TRIALS = 3  # completed trials before anything is pruned: the median needs a few
PRUNER_WARMUP_EPOCHS = 3  # the first two epochs are noisy: no trial is judged on them
JOIN_WAIT_S = 30.0  # how long a joining worker waits for the creator to record the study's settings
# A running trial writes a heartbeat every minute; one silent for five is a killed worker's, and is failed
# and queued again with the same values (at most STALE_RETRIES times, so a setting that kills its worker
# every time does not loop for ever).
HEARTBEAT_INTERVAL_S, HEARTBEAT_GRACE_S = 60, 300
STALE_RETRIES = 2


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_range(name: str, value: Any, low: float, high: float, integer: bool, note: str) -> tuple:
    kind_ok = _is_int if integer else _is_number
    if not (isinstance(value, tuple) and len(value) == 2 and all(kind_ok(v) for v in value)
            and low <= value[0] <= value[1] <= high):
        raise ConfigError(f"{name} range must be two {'whole numbers' if integer else 'numbers'} low,high with "
                          f"{note}; got {value!r}.")
    return value


def _check_choices(name: str, value: Any, ok: Callable[[Any], bool], note: str) -> tuple:
    if not (isinstance(value, tuple) and value and all(ok(v) for v in value) and len(set(value)) == len(value)):
        raise ConfigError(f"{name} choices must be {note}, each listed once; got {value!r}.")
    return value


@dataclass(frozen=True)
class SearchSpace:
    """What a search may change; None keeps the base config's value."""

    layers: tuple[int, int] | None = None  # low, high
    units: tuple[int, int] | None = None  # low, high; sampled on a log scale (16..32 as likely as 64..128)
    dropout: tuple[float, float] | None = None  # low, high
    window: tuple[int, int] | None = None  # low, high
    lr: tuple[float, float] | None = None  # low, high; sampled on a log scale
    batch_size: tuple[int, ...] | None = None  # choices
    cell: tuple[str, ...] | None = None  # choices from CELLS

    def __post_init__(self) -> None:
        for name in PARAMS:  # JSON and argparse give lists; a lone cell name is one choice, not letters
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            if isinstance(value, list):
                value = tuple(value)
            object.__setattr__(self, name, value)
        if self.layers is not None:
            _check_range("layers", self.layers, 1, MAX_LAYERS, True, f"1 <= low <= high <= {MAX_LAYERS}")
        if self.units is not None:
            _check_range("units", self.units, MIN_UNITS, MAX_UNITS, True,
                         f"{MIN_UNITS} <= low <= high <= {MAX_UNITS}")
        if self.dropout is not None:
            _check_range("dropout", self.dropout, 0.0, math.nextafter(1.0, 0.0), False, "0 <= low <= high < 1")
        if self.window is not None:
            _check_range("window", self.window, 2, MAX_WINDOW, True, f"2 <= low <= high <= {MAX_WINDOW}")
        if self.lr is not None:
            _check_range("learning rate", self.lr, math.nextafter(0.0, 1.0), 1.0, False, "0 < low <= high <= 1")
        if self.batch_size is not None:
            _check_choices("batch size", self.batch_size, lambda v: _is_int(v) and 1 <= v <= MAX_BATCH_SIZE,
                           f"whole numbers from 1 to {MAX_BATCH_SIZE}")
        if self.cell is not None:
            _check_choices("cell", self.cell, lambda v: v in CELLS, f"from {', '.join(CELLS)}")

    @property
    def searched(self) -> tuple[str, ...]:
        """Names of the parameters this space changes, in a fixed order."""
        return tuple(name for name in PARAMS if getattr(self, name) is not None)

    def to_dict(self) -> dict[str, list]:
        """JSON-ready dict of the searched parameters only."""
        return {name: list(getattr(self, name)) for name in self.searched}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "SearchSpace":
        """Rebuild and re-validate a space; unknown names are refused."""
        if not isinstance(raw, dict):
            raise ConfigError(f"a search space must be an object of parameter ranges; got {raw!r}.")
        unknown = sorted(set(raw) - set(PARAMS))
        if unknown:
            raise ConfigError(f"the search space has unknown parameters {unknown}; known: {', '.join(PARAMS)}.")
        return cls(**{name: tuple(value) if isinstance(value, list) else value for name, value in raw.items()})

    def contains(self, config: ForecasterConfig) -> bool:
        """Whether every searched parameter's value in `config` lies inside this space."""
        for name, value in searchable_values(config).items():
            bounds = getattr(self, name)
            if bounds is None:
                continue
            if name in ("batch_size", "cell"):
                if value not in bounds:
                    return False
            elif not bounds[0] <= value <= bounds[1]:
                return False
        return True


DEFAULT_SPACE = SearchSpace(layers=(1, 2), units=(16, 128), dropout=(0.0, 0.4), window=(7, 60),
                            lr=(1e-4, 1e-2), batch_size=(16, 32, 64))

# Window ranges that span a few cycles' worth of context for each frequency (daily: a week to two months).
_WINDOW_RANGES = {"D": (7, 60), "B": (5, 60), "C": (5, 60), "h": (12, 168), "H": (12, 168), "W": (4, 52),
                  "MS": (3, 24), "M": (3, 24), "ME": (3, 24), "QS": (2, 12), "Q": (2, 12), "QE": (2, 12),
                  "min": (10, 120), "T": (10, 120)}


def default_space(freq: str | None, n_rows: int, *, split: tuple[float, float, float] = (0.7, 0.15, 0.15),
                  horizon: int = 1) -> SearchSpace:
    """DEFAULT_SPACE with a window range suited to the frequency and short enough for the series."""
    low, high = _WINDOW_RANGES.get((freq or "").lstrip("0123456789").split("-")[0], DEFAULT_SPACE.window)
    train_rows = int(round(n_rows * split[0]))
    # prepare() needs window + horizon + 2 training rows (one more with a transform); capping at half the
    # training part also leaves the network at least as many training windows as steps in a window.
    high = min(high, train_rows // 2, train_rows - horizon - 3)
    window = (min(low, high), high) if high >= 2 else None
    return dataclasses.replace(DEFAULT_SPACE, window=window)


def searchable_values(config: ForecasterConfig) -> dict[str, Any]:
    """The values of every searchable parameter in `config`."""
    return {"layers": config.model.layers, "units": config.model.units, "dropout": config.model.dropout,
            "window": config.data.window, "lr": config.train.lr, "batch_size": config.train.batch_size,
            "cell": config.model.cell}


def apply_params(base: ForecasterConfig, params: dict[str, Any]) -> ForecasterConfig:
    """`base` with a trial's sampled values put in their sections."""
    sections: dict[str, dict[str, Any]] = {}
    for name, value in params.items():
        sections.setdefault(_SECTION[name], {})[name] = value
    return base.replace(**sections)


def _sample(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    suggest = {
        "layers": lambda r: trial.suggest_int("layers", *r),
        "units": lambda r: trial.suggest_int("units", *r, log=True),
        "dropout": lambda r: trial.suggest_float("dropout", *r),
        "window": lambda r: trial.suggest_int("window", *r),
        "lr": lambda r: trial.suggest_float("lr", *r, log=True),
        "batch_size": lambda r: trial.suggest_categorical("batch_size", list(r)),
        "cell": lambda r: trial.suggest_categorical("cell", list(r)),
    }
    return {name: suggest[name](getattr(space, name)) for name in space.searched}


# ---------------------------------------------------------------- storage and study


def _mask(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: nothing recognisable to hide, but never echo a secret
        return re.sub(r"://[^@/]*@", "://***@", url)


# Modules SQLAlchemy imports for a URL, and the pip package that provides each. SQLAlchemy 2.1 reads
# postgresql:// with psycopg 3; postgresql+psycopg2:// asks for psycopg2.
_DRIVERS = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
            "pymysql": "PyMySQL"}


def _wal(path: str) -> None:
    """Put a SQLite file in WAL mode: readers and one writer work at once, and a killed writer leaves it whole."""
    for delay in (0.1, 0.2, 0.4, 0.8, 1.6, 0):
        try:
            # The 30 s timeout makes writers queue, not fail.
            with closing(sqlite3.connect(path, timeout=30)) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            # Switching to WAL needs the file to itself and SQLite does not wait for that: two workers
            # starting on a new file at once can meet here, and the later one tries again.
            if "locked" not in str(error) or not delay:
                raise
            time.sleep(delay)


def open_storage(url: str | None = None) -> optuna.storages.RDBStorage:
    """Optuna's storage for a database URL (default: the run store's, FORECASTER_STORE), ready for several workers."""
    from sqlalchemy.exc import SQLAlchemyError

    if url is None:
        url = store_location()
    url = str(url).strip()
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///").split("?")[0]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                _wal(path)
            except (OSError, sqlite3.Error) as error:
                raise ConfigError(f"Cannot open the study database {path!r} ({error}); give a writable file, "
                                  "e.g. --storage sqlite:///studies.sqlite.") from None
        engine_kwargs = {"connect_args": {"timeout": 30}}
    try:
        return _rdb_storage(url, engine_kwargs)
    except ImportError as error:
        missing = getattr(error.__cause__, "name", None) or getattr(error, "name", None) or ""
        package = _DRIVERS.get(missing.split(".")[0], "the driver for that database")
        raise ConfigError(f"The database driver for {_mask(url)} is not installed (no module {missing!r}); "
                          f"install it with pip install {package}.") from None
    except (SQLAlchemyError, ValueError, RuntimeError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise ConfigError(f"Cannot use the study storage {_mask(url)} ({reason}); give a database URL such as "
                          "sqlite:///studies.sqlite or postgresql://user:password@host/db.") from None


def _rdb_storage(url: str, engine_kwargs: dict[str, Any]) -> optuna.storages.RDBStorage:
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    # Workers that start together on a new database race to create its tables; the loser retries (on
    # PostgreSQL as "already exists"). Only SQLite's locking errors are retried otherwise: an unreachable
    # server should fail at once.
    retried = (IntegrityError, OperationalError) if url.startswith("sqlite") else (IntegrityError, ProgrammingError)

    def storage() -> optuna.storages.RDBStorage:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=STALE_RETRIES)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                              heartbeat_interval=HEARTBEAT_INTERVAL_S,
                                              grace_period=HEARTBEAT_GRACE_S, heartbeat_stale_trial_callback=retry)

    for delay in (0.5, 1.5):
        try:
            return storage()
        except retried:
            time.sleep(delay)
    return storage()


def default_study_name(data_name: str, target: str) -> str:
    """e.g. seattle-weather-temp_max-20261122-153000."""
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", f"{data_name}-{target}").strip("-") or "study"
    return f"{slug}-{datetime.now():%Y%m%d-%H%M%S}"


def stored_name(name: str, owner: str = LOCAL_OWNER) -> str:
    """The name a study is kept under: its owner (quoted, so it holds no ':') and the name they gave it.

    Two owners may each have a study called "sales"; neither can reach the other's by any name.
    """
    return f"{quote(owner, safe='@')}:{name}"


def _legacy(attrs: dict[str, Any]) -> bool:
    """A study this studio made before workspaces: search settings, no owner (the local user's, then)."""
    return _OWNER not in attrs and all(key in attrs for key in _SETTINGS)


def _find(rdb: optuna.storages.RDBStorage, name: str, owner: str) -> str | None:
    """The stored name of `owner`'s study `name`, or None when they have none of that name."""
    stored = stored_name(name, owner)
    for candidate in (stored, name) if owner == LOCAL_OWNER else (stored,):
        try:
            attrs = rdb.get_study_user_attrs(rdb.get_study_id_from_name(candidate))
        except KeyError:
            continue
        if candidate == stored and attrs.get(_OWNER, owner) == owner:  # no owner yet: its creator is recording it
            return candidate
        if candidate != stored and _legacy(attrs):
            return candidate
    return None


def _no_study(name: str) -> ConfigError:
    return ConfigError(f"There is no study {name!r} in that storage; check the --study name.")


def load_study(study_name: str, storage: str | None = None, *, owner: str = LOCAL_OWNER) -> optuna.Study:
    """One of `owner`'s studies by the name they gave it, e.g. to show its trials; another owner's is unknown."""
    rdb = open_storage(storage)
    stored = _find(rdb, study_name, owner)
    if stored is None:
        raise _no_study(study_name)
    return optuna.load_study(study_name=stored, storage=rdb)


def study_label(study: optuna.Study) -> str:
    """The name the study's owner gave it (the stored name carries the owner too)."""
    return str(study.user_attrs.get(_NAME, study.study_name))


@dataclass(frozen=True)
class StudyInfo:
    """One of an owner's studies, as list_studies gives it."""

    name: str
    started: datetime | None  # when its first trial started; None before any did
    n_trials: int


def list_studies(storage: str | None = None, *, owner: str = LOCAL_OWNER) -> list[StudyInfo]:
    """`owner`'s studies in the storage, newest first; no other owner's appear."""
    rdb = open_storage(storage)
    studies = []
    for summary in optuna.get_all_study_summaries(rdb, include_best_trial=False):
        attrs = summary.user_attrs
        mine = attrs.get(_OWNER) == owner if _OWNER in attrs else owner == LOCAL_OWNER and _legacy(attrs)
        if mine:
            studies.append(StudyInfo(name=str(attrs.get(_NAME, summary.study_name)), started=summary.datetime_start,
                                     n_trials=summary.n_trials))
    return sorted(studies, key=lambda s: (s.started is not None, s.started or datetime.min), reverse=True)


def _join(rdb: optuna.storages.RDBStorage, stored: str, settings: dict[str, Any], name: str,
          **kwargs: Any) -> optuna.Study:
    study = optuna.load_study(study_name=stored, storage=rdb, **kwargs)
    deadline = time.monotonic() + JOIN_WAIT_S
    while not all(key in study.user_attrs for key in _SETTINGS):  # its creator may still be recording them
        if time.monotonic() > deadline:
            raise ConfigError(f"The study {name!r} was not started by this studio's search (it records no search "
                              "settings); use another --study name.")
        time.sleep(0.2)
    attrs = study.user_attrs
    differ = [label for key, label in zip(_SETTINGS, ("search space", "base settings", "data"))
              if attrs[key] != settings[key]]
    if differ:
        raise ConfigError(f"The study {name!r} was started with other settings (its {', '.join(differ)} "
                          "differ); use another --study name, or the same data and settings to join it.")
    return study


def _open_study(rdb, name: str, owner: str, settings: dict[str, Any], base_values: dict[str, Any] | None,
                seed: int) -> optuna.Study:
    pruner = optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS,
                                         n_warmup_steps=PRUNER_WARMUP_EPOCHS)
    # A joining worker draws other random numbers, so two workers do not try the same values.
    joining = optuna.samplers.TPESampler(seed=(seed + os.getpid()) % 2**32)
    existing = _find(rdb, name, owner)
    if existing is not None:
        return _join(rdb, existing, settings, name, sampler=joining, pruner=pruner)
    stored = stored_name(name, owner)
    try:
        study = optuna.create_study(storage=rdb, study_name=stored, direction="minimize", pruner=pruner,
                                    sampler=optuna.samplers.TPESampler(seed=seed))
    except optuna.exceptions.DuplicatedStudyError:
        return _join(rdb, stored, settings, name, sampler=joining, pruner=pruner)
    study.set_user_attr(_OWNER, owner)  # first: a joiner waits for the settings, recorded after these
    study.set_user_attr(_NAME, name)
    if base_values is not None:
        study.enqueue_trial(base_values, user_attrs={"base": True})
    for key in _SETTINGS:  # recorded last: a joining worker waits for them, so it never runs before the base
        study.set_user_attr(key, settings[key])
    return study


# ---------------------------------------------------------------- the search


@dataclass(frozen=True)
class TrialSummary:
    """One finished trial, as on_trial receives it."""

    number: int
    state: str  # complete, pruned, failed, or stopped (cut short by the stop event; Optuna counts it pruned)
    value: float | None  # complete: best validation loss; pruned: the last one reported; failed: None
    params: dict[str, Any]
    epochs: int
    seconds: float
    worker: str
    error: str | None = None


@dataclass(frozen=True)
class TuneResult:
    """What a search found; `trials` has one row per trial of the whole study, from every worker."""

    study_name: str
    storage: str  # URL with any password masked
    best_config: ForecasterConfig | None  # None when no trial completed
    best_value: float | None
    best_trial: int | None
    default_value: float | None  # the base config's validation loss (trial 0), when it completed
    n_complete: int
    n_pruned: int
    n_failed: int
    trials: pd.DataFrame
    stopped: bool  # the stop event ended the search
    owner: str = LOCAL_OWNER  # whose study it is


_STATE_NAMES = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.FAIL: "failed",
                TrialState.RUNNING: "running", TrialState.WAITING: "waiting"}


class _Surplus(Exception):
    """Another worker took the study's last trial first; this one is dropped unrun."""


def _summary(trial: FrozenTrial) -> TrialSummary:
    attrs = trial.user_attrs
    state = "stopped" if attrs.get("stopped") else _STATE_NAMES[trial.state]
    return TrialSummary(number=trial.number, state=state, value=trial.value,
                        params=dict(trial.params), epochs=int(attrs.get("epochs", 0)),
                        seconds=float(attrs.get("seconds", 0.0)), worker=str(attrs.get("worker", "")),
                        error=attrs.get("error"))


def _counted(study: optuna.Study) -> list[FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if not t.user_attrs.get("surplus")]


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, val_loss, each searched parameter, epochs, seconds, worker, error."""
    trials = _counted(study)
    searched = study.user_attrs.get("forecaster_space", {})
    names = [n for n in PARAMS if n in searched or any(n in t.params for t in trials)]
    rows = []
    for trial in sorted(trials, key=lambda t: t.number):
        summary = _summary(trial)
        rows.append({"number": summary.number, "state": summary.state, "val_loss": summary.value,
                     **{name: trial.params.get(name) for name in names}, "epochs": summary.epochs,
                     "seconds": round(summary.seconds, 2), "worker": summary.worker, "error": summary.error})
    columns = ["number", "state", "val_loss", *names, "epochs", "seconds", "worker", "error"]
    return pd.DataFrame(rows, columns=columns)


def best_config(study: optuna.Study, base: ForecasterConfig) -> ForecasterConfig:
    """`base` with the best completed trial's values."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise ConfigError(f"No trial of the study {study_label(study)!r} has completed yet, so there is no best "
                          "configuration; run more trials.")
    return apply_params(base, min(complete, key=lambda t: t.value).params)


def _objective(data: Any, base: ForecasterConfig, space: SearchSpace, trials: int, worker: str,
               stop_event: threading.Event,
               on_epoch: Callable[[int, EpochReport], None] | None = None) -> Callable[[optuna.Trial], float]:
    def objective(trial: optuna.Trial) -> float:
        # Two workers may both start a trial when one place is left; the later-numbered one steps back.
        earlier = [t for t in trial.study.get_trials(deepcopy=False, states=_RESERVED) if t.number < trial.number]
        if len(earlier) >= trials:
            trial.set_user_attr("surplus", True)
            trial.study.stop()
            raise _Surplus(f"the study already has its {trials} trials")
        config = apply_params(base, _sample(trial, space))
        trial.set_user_attr("worker", worker)
        last: list[EpochReport] = []

        def progress(report: EpochReport) -> None:
            last[:] = [report]
            if on_epoch is not None:
                on_epoch(trial.number, report)
            trial.report(report.val_loss, report.epoch)
            if trial.should_prune():  # propagates out of fit before the model is kept: no state is left behind
                raise optuna.TrialPruned(f"validation loss {report.val_loss:.4g} at epoch {report.epoch} is "
                                         "worse than the median of earlier trials")

        started = time.perf_counter()
        try:
            model = LSTMForecaster(config).fit(data, progress=progress, stop_event=stop_event)
        except ForecasterError as error:
            trial.set_user_attr("error", str(error))
            raise
        finally:
            trial.set_user_attr("epochs", last[0].epoch if last else 0)
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
        if stop_event.is_set():  # a half-trained model's loss would mislead: record the trial as pruned
            trial.set_user_attr("stopped", True)  # shown as "stopped", not as the pruner's verdict
            trial.study.stop()
            raise optuna.TrialPruned("stopped by the user")
        history = model.history_
        # best_epoch is 0 when no epoch beat the untrained network, whose weights were then kept.
        return history.best_val_loss if history.best_epoch else last[-1].best_val_loss

    return objective


def tune(data: Any, base: ForecasterConfig, space: SearchSpace, *, trials: int, timeout: float | None = None,
         storage: str | None = None, study_name: str | None = None,
         on_trial: Callable[[TrialSummary], None] | None = None, stop_event: threading.Event | None = None,
         seed: int = 0, on_epoch: Callable[[int, EpochReport], None] | None = None,
         owner: str = LOCAL_OWNER) -> TuneResult:
    """Search `space` around `base`, minimising the best validation loss, until the study has `trials` trials.

    `trials` counts finished (complete or pruned) trials of the whole study, over every worker that
    joins it with the same storage and study name. No new trial starts after `timeout` seconds; the
    one running then finishes. Setting `stop_event` stops the running trial (recorded as pruned) and
    the search. `on_trial` receives each finished trial of this worker; `on_epoch` receives the trial
    number and the report of every epoch of this worker's running trial. The study belongs to `owner`:
    only their workers join it, and another owner may use the same name for a study of their own.
    A trial whose worker died (no heartbeat for HEARTBEAT_GRACE_S) is failed and run again.
    """
    if not isinstance(base, ForecasterConfig) or not isinstance(space, SearchSpace):
        raise ConfigError("tune needs a ForecasterConfig as base and a SearchSpace.")
    if not space.searched:
        raise ConfigError("The search space searches nothing; give a range for at least one parameter.")
    if not (_is_int(trials) and 1 <= trials <= MAX_TRIALS):
        raise ConfigError(f"trials must be a whole number from 1 to {MAX_TRIALS}; got {trials!r}.")
    if timeout is not None and not (_is_number(timeout) and timeout > 0):
        raise ConfigError(f"timeout must be a number of seconds above 0; got {timeout!r}.")
    frame, default_target, _, info = _frame_of(data)
    target = base.data.target or default_target or (str(frame.columns[0]) if len(frame.columns) else "target")
    base = base.replace(data={"target": target})
    name = study_name or default_study_name(info.get("name") or "data", target)
    settings = {"forecaster_space": space.to_dict(), "forecaster_base": json.loads(json.dumps(base.to_dict())),
                "forecaster_data": data_fingerprint(frame, (target, *base.data.features))}
    base_values = ({n: v for n, v in searchable_values(base).items() if n in space.searched}
                   if space.contains(base) else None)  # trial 0 shows what the defaults reach
    rdb = open_storage(storage)
    study = _open_study(rdb, name, owner, settings, base_values, seed)

    stop_event = stop_event if stop_event is not None else threading.Event()
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def after_trial(study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.user_attrs.get("surplus"):
            return
        if on_trial is not None:
            on_trial(_summary(trial))
        failed = sum(t.state == TrialState.FAIL for t in _counted(study))
        # Failures do not count towards `trials`; stop before a broken setting loops for ever.
        if stop_event.is_set() or failed >= trials:
            study.stop()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a killed worker's trial must not hold its place for ever
    if len(study.get_trials(deepcopy=False, states=_RESERVED)) < trials and not stop_event.is_set():
        study.optimize(_objective(data, base, space, trials, worker, stop_event, on_epoch), timeout=timeout,
                       catch=(ForecasterError, _Surplus),
                       # Counting other workers' running trials too keeps them from overshooting the total.
                       callbacks=[MaxTrialsCallback(trials, states=_RESERVED), after_trial])
    return _result(study, base, rdb.url, stop_event.is_set(), name, owner)


def _result(study: optuna.Study, base: ForecasterConfig, url: str, stopped: bool, name: str,
            owner: str) -> TuneResult:
    trials = _counted(study)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = min(complete, key=lambda t: t.value) if complete else None
    default = next((t for t in complete if t.user_attrs.get("base")), None)
    return TuneResult(study_name=name, storage=_mask(url), owner=owner,
                      best_config=apply_params(base, best.params) if best else None,
                      best_value=best.value if best else None, best_trial=best.number if best else None,
                      default_value=default.value if default else None, n_complete=len(complete),
                      n_pruned=sum(t.state == TrialState.PRUNED and not t.user_attrs.get("stopped") for t in trials),
                      n_failed=sum(t.state == TrialState.FAIL for t in trials),
                      trials=trials_frame(study), stopped=stopped)
