"""Heavy work on a Dask cluster: FORECASTER_CLUSTER, the client, and one remote job's progress, Stop and result.

Unset, nothing here imports Dask and every job runs in local threads, as on a laptop. Set to a
scheduler address (tcp://host:8786), the app and the CLI hand training runs, backtest folds and Tune
workers to the cluster's workers (forecaster.remote) and only collect plain data back.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any, Callable, Iterator

from forecaster.errors import ForecasterError

CLUSTER_ENV = "FORECASTER_CLUSTER"
CONNECT_TIMEOUT_S = 5.0
WORKER_CHECK_S = 2.0  # how often a waiting job asks the scheduler whether its worker is still there
GPU_RESOURCE = "GPU"
POLL_S = 0.1  # how often a waiting job reads its progress queue
READ_TIMEOUT_S = 10.0  # a scheduler that does not answer a read within this is taken as gone


class ClusterError(ForecasterError, RuntimeError):
    """The cluster cannot be reached, cannot run this job, or lost it."""


def cluster_address(given: str | None = None) -> str | None:
    """The scheduler to use: `given`, else $FORECASTER_CLUSTER; None (local threads) when neither is set."""
    address = (given if given is not None else os.environ.get(CLUSTER_ENV, "")).strip()
    return address or None


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def unreachable(address: str, error: BaseException | str) -> ClusterError:
    return ClusterError(f"The Dask cluster at {address} cannot be reached ({error}); start its scheduler "
                        f"(dask scheduler) and workers, or unset {CLUSTER_ENV} to run on this machine.")


def client(address: str) -> Any:
    """This process's client of the scheduler at `address`, connected once and kept; ClusterError if unreachable."""
    with _clients_lock:
        existing = _clients.get(address)
        if existing is not None and existing.status == "running":
            return existing
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError(f"{CLUSTER_ENV} is set but Dask is not installed here; run "
                               "bash scripts/install.sh, or unset it.") from None
        try:
            connected = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise unreachable(address, error) from None
        _clients[address] = connected
        return connected


def workers(address: str) -> dict[str, dict]:
    """The cluster's workers now: address -> {nthreads, resources, host}."""
    info = client(address).scheduler_info(n_workers=-1)
    return {name: {"nthreads": w.get("nthreads", 1), "resources": w.get("resources", {}), "host": w.get("host", "")}
            for name, w in info.get("workers", {}).items()}


def describe(address: str) -> str:
    """One line for the sidebar and the CLI: where heavy work runs."""
    found = workers(address)
    threads = sum(w["nthreads"] for w in found.values())
    gpus = sum(w["resources"].get(GPU_RESOURCE, 0) for w in found.values())
    return (f"Training runs on the Dask cluster at {address}: {len(found)} worker{'s' * (len(found) != 1)}, "
            f"{threads} thread{'s' * (threads != 1)}" + (f", {gpus:g} GPU{'s' * (gpus != 1)}" if gpus else "") + ".")


def resources_for(device: str, address: str) -> dict | None:
    """The Dask resources a job with this device asks for: a GPU worker for 'cuda', any worker otherwise."""
    if device != "cuda":
        return None
    if not any(w["resources"].get(GPU_RESOURCE, 0) >= 1 for w in workers(address).values()):
        raise ClusterError(f"The job asks for a GPU but no worker of the cluster at {address} declares one; start "
                           f"one with dask worker --resources {GPU_RESOURCE}=1, or use device auto or cpu.")
    return {GPU_RESOURCE: 1}


class RemoteJob:
    """One task on the cluster: its progress messages in order, Stop, and its plain-data answer."""

    def __init__(self, address: str, task: Callable, *args: Any, resources: dict | None = None,
                 label: str = "job") -> None:
        from distributed import Event, Queue

        self.address = address
        self.client = client(address)
        self.job_id = f"{label}-{uuid.uuid4().hex[:12]}"
        self.worker: str | None = None
        self.submitted = time.time()
        from forecaster.remote import PROGRESS_PREFIX, STOP_PREFIX

        try:
            self._queue = Queue(PROGRESS_PREFIX + self.job_id, client=self.client)
            self._stop = Event(STOP_PREFIX + self.job_id, client=self.client)
            self.future = self.client.submit(task, self.job_id, *args, key=self.job_id, pure=False,
                                             resources=resources, retries=0)
        except (OSError, TimeoutError) as error:
            raise unreachable(address, error) from None
        self._stopped = False
        self.finished = False
        self.first_report: float | None = None  # when its first message arrived (the per-job overhead ends)
        self._checked = time.monotonic()

    def stop(self) -> None:
        """Ask the remote work to end after its current batch (it keeps its best weights)."""
        if not self._stopped:
            self._stopped = True
            try:
                self._stop.set()
            except Exception:  # the scheduler is gone; the job ends with it
                pass

    def messages(self, timeout: float = 0.5) -> list[dict]:
        """The progress messages that arrived, waiting up to `timeout` for the first; [] if none."""
        # Read without blocking and wait here: a get that times out on the scheduler logs a traceback there.
        deadline = time.monotonic() + timeout
        found = self._read()
        while not found and time.monotonic() < deadline:
            time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
            found = self._read()
        if not found:
            return []
        if self.first_report is None:
            self.first_report = time.time()
        for message in found:
            if message.get("kind") == "started":
                self.worker = message.get("worker")
        return found

    def _read(self) -> list[dict]:
        """What the queue holds now; ClusterError when the scheduler cannot be asked (it stopped, the network)."""
        try:
            return self._queue.get(batch=True, callback_timeout=READ_TIMEOUT_S)
        except Exception as error:  # CommClosedError, OSError, TimeoutError: the scheduler is not answering
            self.stop()
            raise unreachable(self.address, f"the scheduler stopped answering: {type(error).__name__}") from None

    def _worker_gone(self) -> bool:
        if self.worker is None:
            return False
        try:
            processing = self.client.processing()
        except Exception:
            return True
        return not any(self.job_id in keys for keys in processing.values())

    def poll(self, timeout: float = 0.5) -> list[dict]:
        """The messages that arrived within `timeout`; sets `finished` once the task has ended and all are read.

        Raises ClusterError when the scheduler or the job's worker has gone away.
        """
        found = self.messages(timeout)
        if self.future.done():
            found += self._drain()
            self.finished = True
            return found
        if time.monotonic() - self._checked >= WORKER_CHECK_S:
            self._checked = time.monotonic()
            if self.client.status != "running":
                raise unreachable(self.address, "the connection was lost")
            if self._worker_gone() and not self.future.done():
                self.stop()
                self.future.cancel()
                raise ClusterError(f"The cluster worker running this job ({self.worker}) went away mid-run; "
                                   "what it reported is kept, nothing was recorded; start the job again.")
        return found

    def follow(self, stop_requested: Callable[[], bool] = lambda: False) -> Iterator[dict]:
        """Yield every progress message until the task ends; Stop is passed on once `stop_requested()` says so."""
        while not self.finished:
            if stop_requested():
                self.stop()
            yield from self.poll()

    def _drain(self) -> list[dict]:
        try:
            return self._queue.get(batch=True, callback_timeout=READ_TIMEOUT_S)
        except Exception:
            return []

    def answer(self) -> dict:
        """The task's plain-data answer; ClusterError for a failure the task could not answer itself."""
        try:
            result = self.future.result()
        except Exception as error:  # the task was lost (KilledWorker, cancelled) rather than failing inside
            raise ClusterError(f"The cluster could not finish this job ({type(error).__name__}: {error}); "
                               "start it again.") from None
        finally:
            self.close()
        if not isinstance(result, dict):
            raise ClusterError("The cluster worker answered with something other than the studio's data; check that "
                               "the workers run this version of the studio.")
        return result

    def close(self) -> None:
        """Free what the job holds on the scheduler: its queue, and its events (a cleared event is deleted)."""
        from distributed import Event

        from forecaster.remote import ATTEMPT_PREFIX

        try:
            self._queue.close()
            self._stop.clear()
            Event(ATTEMPT_PREFIX + self.job_id, client=self.client).clear()
        except Exception:  # the scheduler is gone, and with it what the job held
            pass


def follow_all(jobs: list[RemoteJob], stop_requested: Callable[[], bool] = lambda: False) -> Iterator[tuple[int, dict]]:
    """(index, message) from many jobs as they arrive, until all have ended; Stop goes to every one of them.

    Jobs not yet started when Stop comes are cancelled; a ClusterError of one job stops the others and is raised.
    """
    try:
        yield from _follow_all(jobs, stop_requested)
    except BaseException:  # a ClusterError of one job, Ctrl-C, or the caller giving up: free every worker
        for job in jobs:
            job.stop()
            job.future.cancel()
        raise


def _follow_all(jobs: list[RemoteJob], stop_requested: Callable[[], bool]) -> Iterator[tuple[int, dict]]:
    stopping = False
    while not all(job.finished for job in jobs):
        if not stopping and stop_requested():
            stopping = True
            for job in jobs:
                job.stop()
                if job.worker is None:
                    job.future.cancel()
        arrived = False
        for index, job in enumerate(jobs):
            if job.finished:
                continue
            if stopping and job.future.cancelled():
                job.finished = True
                continue
            for message in job.poll(timeout=0):
                arrived = True
                yield index, message
        if not arrived:
            time.sleep(POLL_S)


def check(address: str | None = None) -> str | None:
    """The line describing the cluster, or None when none is set; ClusterError when it cannot be reached."""
    address = cluster_address(address)
    if address is None:
        return None
    try:
        return describe(address)
    except ClusterError:
        raise
    except Exception as error:
        raise unreachable(address, error) from None


def main() -> int:
    """`python -m forecaster.cluster`: refuse to start the app when FORECASTER_CLUSTER cannot be reached."""
    try:
        line = check()
    except ClusterError as error:
        print(f"error: {error}")
        return 1
    if line:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
