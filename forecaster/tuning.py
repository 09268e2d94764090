"""Hyperparameter search with Optuna: the validation loss chooses, the test part never does."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import optuna
import pandas as pd
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, TrialState

from forecaster.config import ForecasterConfig
from forecaster.errors import ConfigError, ForecasterError
from forecaster.estimator import LSTMForecaster, _frame_of
from forecaster.runs import data_fingerprint

# The search space and the studies live in their own modules; their names are re-exported (noqa) from here,
# where callers imported them before.
from forecaster.search_space import (  # noqa: F401
    DEFAULT_SPACE,
    PARAMS,
    SearchSpace,
    _is_int,
    _is_number,
    apply_params,
    default_space,
    searchable_values,
)
from forecaster.studies import (  # noqa: F401
    HEARTBEAT_GRACE_S,
    HEARTBEAT_INTERVAL_S,
    JOIN_WAIT_S,
    PRUNER_STARTUP_TRIALS,
    PRUNER_WARMUP_EPOCHS,
    STALE_RETRIES,
    StudyInfo,
    _mask,
    _open_study,
    default_study_name,
    list_studies,
    load_study,
    open_storage,
    stored_name,
    study_label,
)
from forecaster.training import EpochReport
from forecaster.workspace import LOCAL_OWNER

optuna.logging.set_verbosity(optuna.logging.WARNING)  # one INFO line per trial is noise in a library

MAX_TRIALS = 10_000
# Trials that hold a place in the study's budget: finished ones and those a worker is running. (A queued
# trial takes its place when a worker starts it.)
_RESERVED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)


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


def study_result(data: Any, base: ForecasterConfig, study_name: str, *, storage: str | None = None,
                 owner: str = LOCAL_OWNER, stopped: bool = False) -> TuneResult:
    """What the study `study_name` of `owner` has found so far, over every worker (e.g. tasks on a cluster)."""
    frame, default_target, _, _ = _frame_of(data)
    target = base.data.target or default_target or (str(frame.columns[0]) if len(frame.columns) else "target")
    rdb = open_storage(storage)
    study = load_study(study_name, rdb.url, owner=owner)
    return _result(study, base.replace(data={"target": target}), rdb.url, stopped, study_name, owner)


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
