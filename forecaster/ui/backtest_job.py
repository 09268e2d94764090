"""A walk-forward backtest in a background thread, reporting through the progress callback, never through st.*."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from forecaster.config import ForecasterConfig
from forecaster.ui.jobs import BackgroundJob


@dataclass
class BacktestJob(BackgroundJob):
    """One backtest of one session: its thread, stop flag, latest progress and outcome."""

    config: ForecasterConfig
    dataset: Any  # forecaster.datasets.Dataset
    folds: int = 5
    mode: str = "expanding"
    season: int | None = None
    latest: Any = None  # the last BacktestProgress
    finished_folds: list = field(default_factory=list)  # FoldResult per finished fold (appends are atomic)
    result: Any = None  # BacktestResult
    cluster: str | None = None  # a Dask scheduler address: one task per fold on its workers; None: this thread
    # Asked every few seconds: False once the browser session that started it is gone, which stops it
    # (and its folds on the cluster). None (tests, the CLI) means nobody is watching.
    alive: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        if self.alive is not None:
            from forecaster.ui.tune_job import SessionStop

            self.stop_event = SessionStop(self.alive)

    def _thread_name(self) -> str:
        return "backtest"

    def _progress(self, report) -> None:
        self.latest = report
        if report.result is not None:
            self.finished_folds.append(report.result)

    what = "The backtest"

    def _work(self) -> None:
        from forecaster.backtest import backtest

        self.result = backtest(self.dataset, self.config, folds=self.folds, mode=self.mode, season=self.season,
                               progress=self._progress, stop_event=self.stop_event,
                               cluster=self.cluster)
        self.status = "stopped" if self.result.stopped else "done"

    @property
    def fraction(self) -> float:
        return 1.0 if self.status == "done" else (self.latest.fraction if self.latest is not None else 0.0)

