"""A search as N Optuna workers on a Dask cluster, sharing one study in the store; counted exactly as locally."""

from __future__ import annotations

import socket
import threading
from typing import Any, Callable

from forecaster.cluster import ClusterError, RemoteJob, follow_all, resources_for
from forecaster.cluster import workers as workers_of
from forecaster.config import ForecasterConfig
from forecaster.errors import ConfigError
from forecaster.remote import dataset_info, from_message, tune_task
from forecaster.training import EpochReport
from forecaster.workspace import LOCAL_OWNER, as_url, store_location

MAX_WORKERS = 64


def this_machine() -> set[str]:
    """The names and addresses by which a worker's host can be this machine."""
    names = {"127.0.0.1", "localhost", "::1", socket.gethostname()}
    try:
        names.add(socket.gethostbyname(socket.gethostname()))
    except OSError:
        pass
    return names


def check_store_reachable(url: str, hosts: list[str]) -> None:
    """A SQLite store is a file on this machine: refuse, in one sentence, workers elsewhere that cannot reach it
    (each would quietly open a study file of its own on its own disk)."""
    if not url.startswith("sqlite"):
        return
    elsewhere = sorted({host for host in hosts if host and host not in this_machine()})
    if elsewhere:
        raise ConfigError(f"The search's study lives in the run store, a SQLite file on this machine, which the "
                          f"cluster's workers on {', '.join(elsewhere)} cannot reach; set FORECASTER_STORE (or "
                          "--storage) to a PostgreSQL URL that every worker reaches.")


def tune_on_cluster(address: str, data: Any, base: ForecasterConfig, space: Any, *, trials: int, workers: int,
                    timeout: float | None = None, storage: str | None = None, study_name: str | None = None,
                    owner: str = LOCAL_OWNER, seed: int = 0, on_trial: Callable | None = None,
                    on_epoch: Callable[[int, EpochReport], None] | None = None,
                    stop_event: threading.Event | None = None) -> Any:
    """Run `workers` tasks of `forecaster.tuning.tune` on the cluster, all joining one study; return its TuneResult.

    The study lives in `storage` (default: the run store), which every worker must reach: a PostgreSQL URL
    for workers on several machines, a SQLite file only when they share this machine's disk. `trials`
    counts finished trials over all of them, as with workers started by hand.
    """
    from forecaster.studies import default_study_name
    from forecaster.tuning import TrialSummary, study_result

    if not (isinstance(workers, int) and 1 <= workers <= MAX_WORKERS):
        raise ConfigError(f"workers must be a whole number from 1 to {MAX_WORKERS}; got {workers!r}.")
    frame, info = dataset_info(data)
    target = base.data.target or info.get("target") or str(frame.columns[0])
    base = base.replace(data={"target": target})
    name = study_name or default_study_name(info.get("name") or "data", target)
    url = as_url(storage) if storage else store_location()
    check_store_reachable(url, [w["host"] for w in workers_of(address).values()])
    resources = resources_for(base.train.device, address)
    jobs = [RemoteJob(address, tune_task, base.to_dict(), frame, info, space.to_dict(), trials, timeout, url, name,
                      owner, seed + number, resources=resources, label=f"tune{number}") for number in range(workers)]
    stop_requested = (lambda: False) if stop_event is None else stop_event.is_set
    for _, message in follow_all(jobs, stop_requested):
        kind = message.get("kind")
        if kind == "trial" and on_trial is not None:
            on_trial(from_message(TrialSummary, message))
        elif kind == "epoch" and on_epoch is not None:
            on_epoch(int(message["trial"]), from_message(EpochReport, message))
    answers = [job.answer() for job in jobs if not job.future.cancelled()]
    errors = [answer["error"] for answer in answers if "error" in answer]
    if errors and len(errors) == len(answers):  # every worker failed: say why; one that ran is enough otherwise
        raise ClusterError(errors[0])
    return study_result(data, base, name, storage=url, owner=owner, stopped=stop_requested())
