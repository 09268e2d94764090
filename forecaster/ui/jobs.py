"""Training in a background thread that reports through the progress callback, never through st.*."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from forecaster.config import ForecasterConfig
from forecaster.errors import ForecasterError

# Statuses a job moves through: queued -> running -> done | stopped | failed.
RUNNING_STATES = ("queued", "running")

# Training runs of every session in this server process: torch's threads are shared among them.
_active_lock = threading.Lock()
_active_runs = 0


def _share_threads(change: int) -> None:
    """Count a run in or out and split the CPU threads among the runs now active."""
    global _active_runs
    from forecaster.training import configure_threads

    with _active_lock:
        _active_runs = max(0, _active_runs + change)
        configure_threads(sharing=max(1, _active_runs))


def active_runs() -> int:
    return _active_runs


@dataclass
class TrainingJob:
    """One training run of one session: its thread, stop flag, progress and outcome."""

    config: ForecasterConfig
    dataset: Any  # forecaster.datasets.Dataset
    label: str = ""
    status: str = "queued"
    reports: list = field(default_factory=list)  # EpochReport per finished epoch (appends are atomic)
    model: Any = None
    evaluation: Any = None
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> "TrainingJob":
        self.started = time.time()
        self.status = "running"
        self.thread = threading.Thread(target=self._run, name=f"train-{self.label}", daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        from forecaster.evaluation import evaluate
        from forecaster.forecaster import LSTMForecaster

        _share_threads(+1)
        try:
            model = LSTMForecaster(self.config).fit(self.dataset, progress=self.reports.append,
                                                    stop_event=self.stop_event)
            self.evaluation = evaluate(model, unit=getattr(self.dataset, "unit", ""))
            self.model = model
            self.status = "stopped" if model.history_.stopped_by_user else "done"
        except ForecasterError as error:  # the user's data or settings: show the sentence as it is
            self.error, self.status = str(error), "failed"
        except Exception as error:  # a bug of ours: say so plainly, keep the session alive
            self.error = f"Training failed unexpectedly ({type(error).__name__}: {error}); try other settings."
            self.status = "failed"
        finally:
            self.finished = time.time()
            _share_threads(-1)

    def stop(self) -> None:
        """Ask the loop to end after the current batch; the best weights so far are kept."""
        self.stop_event.set()

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATES

    @property
    def latest(self):
        return self.reports[-1] if self.reports else None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started if self.started else 0.0

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (tests and the CLI); True if it has."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running
