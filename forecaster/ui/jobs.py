"""Training in a background thread that reports through the progress callback, never through st.*."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from forecaster.config import ForecasterConfig
from forecaster.errors import ForecasterError

log = logging.getLogger(__name__)

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
        if _active_runs:  # with none left, the next run to start measures the load afresh
            configure_threads(sharing=_active_runs)


_warm_up_lock = threading.Lock()
_warm_up_thread: threading.Thread | None = None


def _warm_up() -> None:
    try:
        import forecaster.estimator  # noqa: F401  (torch)
        import forecaster.evaluation  # noqa: F401  (scikit-learn, the baselines)
        from forecaster.training import warm_up

        warm_up()
    except Exception:  # only a head start: the first real run pays the costs itself
        log.debug("warm-up failed", exc_info=True)


def warm_up_in_background() -> threading.Thread:
    """Once per server process, import torch and pay its first-fit costs in a daemon thread.

    Started when the first page is drawn, so a person who reads Home before pressing the quick start
    does not wait seconds for imports the server could have done meanwhile.
    """
    global _warm_up_thread
    with _warm_up_lock:
        if _warm_up_thread is None:
            _warm_up_thread = threading.Thread(target=_warm_up, name="forecaster-warm-up", daemon=True)
            _warm_up_thread.start()
        return _warm_up_thread


def active_runs() -> int:
    return _active_runs


def session_gone(alive: Callable[[], bool]) -> bool:
    """Whether a session watch says the browser session has gone; a check that fails says it has not."""
    try:
        return not alive()
    except Exception:  # a failing check must not end a user's work
        return False


@dataclass(kw_only=True)
class BackgroundJob:
    """What every background job of a session shares: its thread, stop flag, status and timings."""

    status: str = "queued"  # queued -> running -> done | stopped | failed
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self):
        self.started = time.time()
        self.status = "running"
        self.thread = threading.Thread(target=self._run, name=self._thread_name(), daemon=True)
        self.thread.start()
        return self

    # What the job does, for the message when one of our own bugs ends it ("Training failed unexpectedly").
    what = "The job"

    def _thread_name(self) -> str:
        return type(self).__name__

    def _run(self) -> None:
        """Do the work; a user's mistake fails with its own sentence, a bug of ours with a plain one."""
        try:
            self._work()
        except ForecasterError as error:  # the user's data or settings: show the sentence as it is
            self.error, self.status = str(error), "failed"
        except Exception as error:  # a bug of ours: say so plainly, keep the session alive
            self.error = f"{self.what} failed unexpectedly ({type(error).__name__}: {error}); try other settings."
            self.status = "failed"
        finally:
            self._cleanup()
            self.finished = time.time()

    def _work(self) -> None:
        raise NotImplementedError

    def _cleanup(self) -> None:
        """Runs after the work however it ended."""

    def stop(self) -> None:
        """Ask the work to end soon; what is finished (best weights, folds) is kept."""
        self.stop_event.set()

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATES

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started if self.started else 0.0

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (tests and the CLI); True if it has."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running


@dataclass
class TrainingJob(BackgroundJob):
    """One training run of one session: its thread, stop flag, progress and outcome."""

    config: ForecasterConfig
    dataset: Any  # forecaster.datasets.Dataset
    label: str = ""
    reports: list = field(default_factory=list)  # EpochReport per finished epoch (appends are atomic)
    model: Any = None
    evaluation: Any = None
    # Asked once per epoch: False once the browser session that started the job is gone (tab closed).
    # None (tests, the CLI) means nobody is watching, so the job only ends by itself or by stop().
    alive: Callable[[], bool] | None = None
    orphaned: bool = False  # ended because its session went away; model and data were let go
    record: bool = True  # keep the finished run in the run store
    store_path: Any = None  # None: the studio's store (FORECASTER_STORE, else the file in FORECASTER_HOME)
    owner: str | None = None  # whose workspace the run is kept in; None: the local, single-user one
    run_id: int | None = None  # its id in the run store, once recorded
    record_error: str | None = None  # why it could not be recorded (the model itself is fine)
    cluster: str | None = None  # a Dask scheduler address: train on its workers; None: in this thread
    worker: str | None = None  # the cluster worker that trained it, once it started there

    def _progress(self, report) -> None:
        self.reports.append(report)
        if self.alive is not None and not self.stop_event.is_set() and session_gone(self.alive):
            self.orphaned = True
            self.stop_event.set()

    def _thread_name(self) -> str:
        return f"train-{self.label}"

    what = "Training"

    def _work(self) -> None:
        from forecaster.evaluation import evaluate

        model = self._fit_remote() if self.cluster else self._fit_here()
        if self.orphaned:  # nobody will look at it: skip the evaluation and free the memory now
            self.status = "stopped"
            log.info("training stopped: browser session ended (%s)", self.label or "run")
            return
        self.evaluation = evaluate(model, unit=getattr(self.dataset, "unit", ""))
        if self.record:
            self._record(model)
        self.model = model
        self.status = "stopped" if model.history_.stopped_by_user else "done"

    def _fit_here(self):
        from forecaster.estimator import LSTMForecaster

        _share_threads(+1)
        self._counted = True
        return LSTMForecaster(self.config).fit(self.dataset, progress=self._progress, stop_event=self.stop_event)

    def _fit_remote(self):
        """Train on a cluster worker, following its epochs here; the model comes back as checked .zip bytes."""
        from forecaster.remote_train import fit_on_cluster

        def started(worker: str) -> None:
            self.worker = worker

        return fit_on_cluster(self.cluster, self.config, self.dataset, progress=self._progress,
                              stop_event=self.stop_event, on_start=started)

    def _record(self, model) -> None:
        """Keep the run in the store; a store that cannot be written costs the record, never the model."""
        from forecaster.runs import RunStore

        try:
            store = RunStore(self.store_path) if self.owner is None else RunStore(self.store_path, owner=self.owner)
            self.run_id = store.record(model, self.evaluation, self.dataset, label=self.label,
                                                           origin="app")
        except (ForecasterError, OSError) as error:
            self.record_error = f"The run could not be kept in the run store: {error}"
            log.warning("run not recorded: %s", error)

    def _cleanup(self) -> None:
        if self.orphaned:
            self._release()
        if getattr(self, "_counted", False):
            _share_threads(-1)

    def _release(self) -> None:
        """Drop the model, data and curves so an abandoned session's memory can be reclaimed."""
        self.model = self.evaluation = self.dataset = None
        self.reports = []

    @property
    def latest(self):
        return self.reports[-1] if self.reports else None
