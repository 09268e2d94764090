"""Compare cells: train the same settings with lstm, gru and peephole, one after another in one thread."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from forecaster.config import CELL_NAMES, CELLS, ForecasterConfig
from forecaster.ui.jobs import BackgroundJob, TrainingJob


@dataclass
class CompareJob(BackgroundJob):
    """One background thread running a TrainingJob per cell in turn; stoppable between and within fits."""

    config: ForecasterConfig
    dataset: Any  # forecaster.datasets.Dataset
    cells: tuple[str, ...] = CELLS
    runs: dict = field(default_factory=dict)  # cell -> TrainingJob (finished or running)
    current: str | None = None
    cluster: str | None = None  # a Dask scheduler address: one task per cell, side by side; None: one by one here
    # Asked every few seconds: False once the browser session is gone, which stops every cell.
    alive: Any = None

    def __post_init__(self) -> None:
        if self.alive is not None:
            from forecaster.ui.tune_job import SessionStop

            self.stop_event = SessionStop(self.alive)

    def _thread_name(self) -> str:
        return "compare-cells"

    what = "Comparing cells"

    def _work(self) -> None:
        if self.cluster:
            self._work_on_cluster()
            return
        for cell in self.cells:
            if self.stop_event.is_set():
                break
            run = TrainingJob(config=self.config.replace(model={"cell": cell}), dataset=self.dataset,
                              label=f"compare-{cell}", stop_event=self.stop_event)
            run.started, run.status = time.time(), "running"
            self.runs[cell], self.current = run, cell
            run._run()  # in this thread: the three fits run one after another, never side by side
            if run.status == "failed":
                self.error, self.status = f"{CELL_NAMES.get(cell, cell)}: {run.error}", "failed"
                return
        self.status = "stopped" if self.stop_event.is_set() else "done"

    def _work_on_cluster(self) -> None:
        """Every cell as its own task on the cluster at once; each followed by its own thread."""
        for cell in self.cells:
            self.runs[cell] = TrainingJob(config=self.config.replace(model={"cell": cell}), dataset=self.dataset,
                                          label=f"compare-{cell}", stop_event=self.stop_event,
                                          cluster=self.cluster).start()
        self.current = self.cells[0]
        for run in self.runs.values():
            run.wait()
        failed = [(cell, run) for cell, run in self.runs.items() if run.status == "failed"]
        if failed:
            cell, run = failed[0]
            self.error, self.status = f"{CELL_NAMES.get(cell, cell)}: {run.error}", "failed"
            return
        self.status = "stopped" if self.stop_event.is_set() else "done"

    def _cleanup(self) -> None:
        self.current = None

    @property
    def progress(self) -> float:
        """Share of the work done, counting the running fit's epochs."""
        done = 0.0
        for run in self.runs.values():
            if not run.running:
                done += 1.0
            elif run.latest is not None:
                done += run.latest.epoch / run.config.train.epochs
        return min(1.0, done / max(1, len(self.cells)))

    @property
    def elapsed_text(self) -> str:
        return f"{self.elapsed:.0f}s elapsed"

    def table(self) -> pd.DataFrame:
        """One row per finished cell: test MAE, RMSE, skill vs naive, epochs and training seconds."""
        rows = []
        for cell, run in self.runs.items():
            if run.running or run.model is None or run.evaluation is None:
                continue
            metrics, history = run.evaluation.metrics, run.model.history_
            rows.append({"Cell": CELL_NAMES.get(cell, cell), "MAE": metrics["lstm"]["mae"],
                         "RMSE": metrics["lstm"]["rmse"], "Skill vs naive": run.evaluation.skill,
                         "Epochs": history.epochs_run, "Seconds": round(history.seconds, 2),
                         "Naive MAE": metrics["naive"]["mae"]})
        columns = ["Cell", "MAE", "RMSE", "Skill vs naive", "Epochs", "Seconds", "Naive MAE"]
        return pd.DataFrame(rows, columns=columns).set_index("Cell")
