"""A walk-forward backtest in a background thread, reporting through the progress callback, never through st.*."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from forecaster.config import ForecasterConfig
from forecaster.errors import ForecasterError
from forecaster.ui.jobs import RUNNING_STATES


@dataclass
class BacktestJob:
    """One backtest of one session: its thread, stop flag, latest progress and outcome."""

    config: ForecasterConfig
    dataset: Any  # forecaster.datasets.Dataset
    folds: int = 5
    mode: str = "expanding"
    season: int | None = None
    status: str = "queued"  # queued -> running -> done | stopped | failed
    latest: Any = None  # the last BacktestProgress
    finished_folds: list = field(default_factory=list)  # FoldResult per finished fold (appends are atomic)
    result: Any = None  # BacktestResult
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> "BacktestJob":
        self.started = time.time()
        self.status = "running"
        self.thread = threading.Thread(target=self._run, name="backtest", daemon=True)
        self.thread.start()
        return self

    def _progress(self, report) -> None:
        self.latest = report
        if report.result is not None:
            self.finished_folds.append(report.result)

    def _run(self) -> None:
        from forecaster.backtest import backtest

        try:
            self.result = backtest(self.dataset, self.config, folds=self.folds, mode=self.mode, season=self.season,
                                   progress=self._progress, stop_event=self.stop_event)
            self.status = "stopped" if self.result.stopped else "done"
        except ForecasterError as error:  # the user's data or settings: show the sentence as it is
            self.error, self.status = str(error), "failed"
        except Exception as error:  # a bug of ours: say so plainly, keep the session alive
            self.error = f"The backtest failed unexpectedly ({type(error).__name__}: {error}); try other settings."
            self.status = "failed"
        finally:
            self.finished = time.time()

    def stop(self) -> None:
        """End the current fold's training now; finished folds are kept."""
        self.stop_event.set()

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATES

    @property
    def fraction(self) -> float:
        return 1.0 if self.status == "done" else (self.latest.fraction if self.latest is not None else 0.0)

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started if self.started else 0.0

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (tests); True if it has."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running
