"""A hyperparameter search in a background thread: trials arrive in a list the page redraws every second."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from forecaster.config import ForecasterConfig
from forecaster.ui.jobs import BackgroundJob, _share_threads, session_gone


class SessionStop(threading.Event):
    """A stop flag that also reads as set once the browser session that started the search is gone.

    Training asks it after every batch, so the session is looked up at most once per `every` seconds.
    """

    def __init__(self, alive: Callable[[], bool], every: float = 2.0) -> None:
        super().__init__()
        self.alive, self.every, self.checked = alive, every, time.monotonic()
        self.orphaned = False

    def is_set(self) -> bool:
        if not super().is_set() and time.monotonic() - self.checked >= self.every:
            self.checked = time.monotonic()
            if session_gone(self.alive):
                self.orphaned = True
                self.set()
        return super().is_set()


@dataclass
class TuneJob(BackgroundJob):
    """One Optuna search of one session; stoppable, its trials readable while it runs."""

    base: ForecasterConfig
    dataset: Any  # forecaster.datasets.Dataset
    space: Any  # forecaster.tuning.SearchSpace
    trials: int = 20
    timeout: float | None = None
    seed: int = 0
    summaries: list = field(default_factory=list)  # TrialSummary per finished trial (appends are atomic)
    trial_started: float = 0.0  # when the trial now running began
    trial_epoch: Any = None  # the running trial's last EpochReport, None before its first epoch ends
    result: Any = None  # forecaster.tuning.TuneResult once done
    owner: str | None = None  # whose workspace the study belongs to; None: the local, single-user one
    cluster: str | None = None  # a Dask scheduler address: `workers` Optuna workers on it; None: this thread
    workers: int = 1  # Optuna workers sharing the study on the cluster
    # Asked every few seconds: False once the browser session that started the search is gone, which
    # stops it so an abandoned tab does not keep the CPU busy. None (tests) means nobody is watching.
    alive: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        if self.alive is not None:
            self.stop_event = SessionStop(self.alive)

    what = "The search"

    def _thread_name(self) -> str:
        return "tune"

    def _on_trial(self, summary) -> None:
        self.summaries.append(summary)
        self.trial_epoch = None
        self.trial_started = time.time()

    def _on_epoch(self, number: int, report) -> None:
        self.trial_epoch = report

    def _work(self) -> None:
        if self.cluster:
            from forecaster.remote_tune import tune_on_cluster

            self.trial_started = time.time()
            self.result = tune_on_cluster(self.cluster, self.dataset, self.base, self.space, trials=self.trials,
                                          workers=self.workers, timeout=self.timeout, seed=self.seed,
                                          on_trial=self._on_trial, on_epoch=self._on_epoch, stop_event=self.stop_event,
                                          **({} if self.owner is None else {"owner": self.owner}))
            self.status = "stopped" if self.result.stopped else "done"
            return
        from forecaster.tuning import tune

        _share_threads(+1)
        try:
            self.trial_started = time.time()
            self.result = tune(self.dataset, self.base, self.space, trials=self.trials, timeout=self.timeout,
                               on_trial=self._on_trial, stop_event=self.stop_event, seed=self.seed,
                               on_epoch=self._on_epoch, **({} if self.owner is None else {"owner": self.owner}))
        finally:
            _share_threads(-1)
        self.status = "stopped" if self.result.stopped else "done"

    def table(self) -> pd.DataFrame:
        """The finished trials so far: number, state, validation loss, the searched values, epochs, seconds."""
        rows = [{"Trial": s.number, "State": s.state, "Validation loss": s.value, **s.params, "Epochs": s.epochs,
                 "Seconds": round(s.seconds, 1)} for s in list(self.summaries)]
        columns = ["Trial", "State", "Validation loss", *self.space.searched, "Epochs", "Seconds"]
        return pd.DataFrame(rows, columns=columns).set_index("Trial").sort_index()
