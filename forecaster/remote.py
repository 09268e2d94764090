"""What runs on a Dask worker: training, backtest folds and Tune workers, answering with plain data only.

Every task here takes plain settings (a config's dict, a DataFrame, strings) and returns a dict of
builtins: a model travels back as the checked `.zip` bytes the studio already loads safely, a fold as
its metrics and scaler's dict, an error as its sentence. No object of this package is ever pickled back
to the app. Progress goes through a Dask Queue per job as msgpack-able dicts; Stop comes through a
Dask Event per job, mirrored into a local flag that training checks after every batch.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from typing import Any, Callable

from forecaster.errors import ForecasterError

PROGRESS_PREFIX = "forecaster-progress-"
STOP_PREFIX = "forecaster-stop-"
ATTEMPT_PREFIX = "forecaster-attempt-"
STOP_POLL_S = 0.5  # how often a worker asks the scheduler whether Stop was pressed

# Tasks running now in this worker process: torch's threads are split among them.
_running_lock = threading.Lock()
_running = 0


class WorkerLost(ForecasterError):
    """The job was started before on a worker that went away; it is not run twice."""


def worker_cores() -> int:
    """This worker process's share of its machine's cores: the cores over the cluster's worker processes on it.

    `dask worker --nworkers 2` on a 2-core machine gives each process one core, so two jobs side by side
    never fight over the same cores (threads on busy cores made epochs up to 10x slower here).
    """
    from distributed import get_worker

    cores = os.cpu_count() or 1
    try:
        worker = get_worker()
        host = worker.address.rsplit(":", 1)[0]
        others = worker.client.scheduler_info(n_workers=-1).get("workers", {})
        on_host = sum(1 for address in others if address.rsplit(":", 1)[0] == host)
    except Exception:  # no scheduler answer: assume this process is alone on its machine
        on_host = 1
    return max(1, cores // max(1, on_host))


def _share(change: int) -> int:
    """Count a task in or out of this worker process and set torch's threads for the tasks now running:
    $FORECASTER_THREADS on the worker, else its cores split among its running tasks (at most 4 each)."""
    global _running
    with _running_lock:
        _running = max(0, _running + change)
        if not _running:
            return 0
        from forecaster.runtime import configure_threads

        env = os.environ.get("FORECASTER_THREADS", "").strip()
        if env.isdigit() and int(env) > 0:
            return configure_threads(int(env))
        return configure_threads(max(1, min(4, worker_cores() // _running)))


# glibc's mmap threshold for a worker process: blocks above it are mapped afresh (and their pages faulted in
# again) on every allocation. Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which turns
# glibc's adaptive threshold off and leaves it at 128 kB, so every batch's tensors were mmapped anew: a
# one-thread fit took 1.6-2.2x as long, with 5.6x the page faults (benchmarks/bench_cluster.py).
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
# The trim threshold too: at Dask's 64 kB every free() at the heap's top handed pages back, faulted in again
# by the next batch. 32 MB still returns a finished job's memory.
TRIM_THRESHOLD_BYTES = 32 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers, from glibc's malloc.h
_malloc_tuned = False


def tune_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds in this process once (as MALLOC_MMAP_THRESHOLD_ and
    MALLOC_TRIM_THRESHOLD_ would); False where the C library is not glibc."""
    global _malloc_tuned
    if _malloc_tuned:
        return True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        _malloc_tuned = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                             and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    except (OSError, AttributeError):  # not Linux with glibc: nothing to tune
        return False
    return _malloc_tuned


def dask_setup(worker: Any) -> None:
    """`dask worker --preload forecaster.remote`: tune malloc, import torch and scikit-learn and pay the first
    fit's costs before the first job."""
    tune_malloc()

    def warm() -> None:
        try:
            import sklearn.preprocessing  # noqa: F401  (the first scaler fit: 2.7 s of a fresh worker's first fit)

            import forecaster.estimator  # noqa: F401
            import forecaster.evaluation  # noqa: F401
            from forecaster.training import warm_up

            warm_up()
        except Exception:  # only a head start
            pass

    threading.Thread(target=warm, name="forecaster-warm-up", daemon=True).start()


class Channel:
    """A job's line to the app from inside its task: progress out, Stop in, run at most once."""

    def __init__(self, job_id: str) -> None:
        from distributed import Event, Queue, get_worker

        self.job_id = job_id
        self._worker = get_worker()
        self.worker = self._worker.address
        # An event, not a Variable: a Variable read that finds nothing logs a traceback on the scheduler.
        attempt = Event(ATTEMPT_PREFIX + job_id)
        if attempt.is_set():  # the scheduler re-ran us after a worker died: fail instead of silently restarting
            raise WorkerLost("The cluster worker that ran this job went away mid-run; what it reported is kept, "
                             "nothing was recorded; start the job again.")
        attempt.set()
        self.queue = Queue(PROGRESS_PREFIX + job_id)
        self.stop_event = threading.Event()
        self._remote_stop = Event(STOP_PREFIX + job_id)
        self._done = threading.Event()
        self._watch = threading.Thread(target=self._watch_stop, name=f"stop-{job_id}", daemon=True)
        self._watch.start()
        self.send("started", worker=self.worker)

    def _wanted(self) -> bool:
        """Whether the scheduler still wants this task's result: not once its job was cancelled or its app left."""
        try:
            task = self._worker.state.tasks.get(self.job_id)
        except Exception:
            return True
        return task is not None and task.state not in ("cancelled", "released", "forgotten")

    def _watch_stop(self) -> None:
        while not self._done.is_set():
            if not self._wanted():  # e.g. the app that submitted it stopped: nobody will read the model
                self.stop_event.set()
                return
            try:
                if self._remote_stop.wait(timeout=STOP_POLL_S):
                    self.stop_event.set()
                    return
            except Exception:  # the scheduler is gone: nothing will read our progress, so stop soon
                if self._done.wait(STOP_POLL_S * 4):
                    return
                self.stop_event.set()
                return

    def send(self, kind: str, **payload: Any) -> None:
        """One message to the app; a message that cannot be sent never ends the work."""
        try:
            self.queue.put({"kind": kind, "time": time.time(), **payload})
        except Exception:
            pass

    def close(self) -> None:
        self._done.set()


def as_message(record: Any) -> dict:
    """A frozen dataclass of plain fields (EpochReport, TrialSummary) as the dict a progress message carries."""
    return dataclasses.asdict(record)


def from_message(cls: type, message: dict) -> Any:
    """The dataclass `cls` again from a progress message (its other keys, such as "kind", are left out)."""
    return cls(**{name: message[name] for name in cls.__dataclass_fields__})


def _guarded(job_id: str, work: Callable[[Channel], dict]) -> dict:
    """Run `work` with its channel; every failure becomes {"error": sentence}."""
    channel = None
    tune_malloc()  # for workers started without the preload too
    threads = _share(+1)
    try:
        channel = Channel(job_id)
        return {**work(channel), "worker": channel.worker, "threads": threads}
    except ForecasterError as error:  # the user's settings or data, or a lost worker: its own sentence
        return {"error": str(error)}
    except Exception as error:  # a bug of ours, or a broken worker: said plainly
        return {"error": f"The job failed on the cluster worker ({type(error).__name__}: {error}); try other "
                         "settings, or check the worker's log."}
    finally:
        if channel is not None:
            channel.close()
        _share(-1)


def dataset_info(dataset: Any) -> tuple[Any, dict]:
    """(frame, plain description) of a Dataset or DataFrame: what a task needs to rebuild it on the worker."""
    from forecaster.series import Dataset

    if isinstance(dataset, Dataset):
        return dataset.frame, {"name": dataset.name, "source": dataset.source, "target": dataset.target,
                               "features": list(dataset.features), "freq": dataset.freq, "unit": dataset.unit}
    return dataset, {}


def rebuild(frame: Any, info: dict) -> Any:
    """The Dataset `dataset_info` described (the bare frame when it described a DataFrame)."""
    from forecaster.series import Dataset

    if not info:
        return frame
    return Dataset(frame=frame, name=info.get("name", "data"), source=info.get("source", ""),
                   target=info.get("target") or str(frame.columns[0]), features=tuple(info.get("features", ())),
                   freq=info.get("freq"), unit=info.get("unit", ""))


def _fit(config_dict: dict, data: Any, freq: str | None, channel: Channel, on_epoch=None):
    from forecaster.config import ForecasterConfig
    from forecaster.estimator import LSTMForecaster

    config = ForecasterConfig.from_dict(config_dict)

    def progress(report) -> None:
        channel.send("epoch", **as_message(report), **(on_epoch(report) if on_epoch else {}))

    return LSTMForecaster(config).fit(data, freq=freq, progress=progress, stop_event=channel.stop_event)


def train_task(job_id: str, config_dict: dict, frame: Any, info: dict) -> dict:
    """Train one model, exactly as `LSTMForecaster(config).fit(dataset)` does locally; return its checked .zip
    bytes and how training ended."""
    def work(channel: Channel) -> dict:
        model = _fit(config_dict, rebuild(frame, info), None, channel)
        return {"model": model.to_bytes(extra={"source": info.get("source", ""), "unit": info.get("unit", "")})}

    return _guarded(job_id, work)


def fold_task(job_id: str, config_dict: dict, frame: Any, freq: str | None, season: int | None,
              number: int) -> dict:
    """Fit and score one backtest fold on its own rows; return its metrics, scaler and dates as data."""
    def work(channel: Channel) -> dict:
        from forecaster.backtest import fold_outcome

        model = _fit(config_dict, frame, freq, channel, on_epoch=lambda report: {"fold": number})
        if model.history_.stopped_by_user:  # a half-trained fold would understate the LSTM: dropped
            return {"stopped": True}
        return {"stopped": False, **fold_outcome(model, season)}

    return _guarded(job_id, work)


def tune_task(job_id: str, base_dict: dict, frame: Any, info: dict, space_dict: dict, trials: int,
              timeout: float | None, storage: str, study_name: str, owner: str, seed: int) -> dict:
    """One Optuna worker joining the study in the shared store; trials and epochs reported as they end."""
    def work(channel: Channel) -> dict:
        from forecaster.config import ForecasterConfig
        from forecaster.search_space import SearchSpace
        from forecaster.tuning import tune

        def on_trial(summary) -> None:
            channel.send("trial", **as_message(summary))

        def on_epoch(number: int, report) -> None:
            channel.send("epoch", trial=number, **as_message(report))

        result = tune(rebuild(frame, info), ForecasterConfig.from_dict(base_dict), SearchSpace.from_dict(space_dict),
                      trials=trials, timeout=timeout, storage=storage, study_name=study_name, owner=owner,
                      seed=seed, on_trial=on_trial, on_epoch=on_epoch, stop_event=channel.stop_event)
        return {"stopped": bool(result.stopped), "study_name": result.study_name}

    return _guarded(job_id, work)
