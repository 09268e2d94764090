"""A real Dask cluster for the tests: a `dask scheduler` and `dask worker` processes on loopback, as a user starts them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pg_server import free_port

REPO = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT_S = 60.0


def worker_env(threads: int = 1) -> dict[str, str]:
    """The environment of a worker: the studio importable, one torch thread each (the tests compare runs)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "FORECASTER_THREADS": str(threads),
            "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}


class DaskCluster:
    """A scheduler and `workers` worker processes of one thread each; add_worker starts more, stop() ends all."""

    def __init__(self, workers: int = 2) -> None:
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.processes: list[subprocess.Popen] = []
        self.scheduler = self._start([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                      "--no-dashboard"])
        self.workers = [self.add_worker(wait=False) for _ in range(workers)]
        self.wait_for(workers)

    def _start(self, command: list[str]) -> subprocess.Popen:
        process = subprocess.Popen(command, cwd=REPO, env=worker_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        self.processes.append(process)
        return process

    def add_worker(self, resources: str | None = None, wait: bool = True) -> subprocess.Popen:
        """Start one more worker (one thread, the studio preloaded), optionally declaring Dask resources."""
        command = [str(DASK), "worker", self.address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                   "--no-nanny", "--preload", "forecaster.remote", "--death-timeout", "30"]
        if resources:
            command += ["--resources", resources]
        process = self._start(command)
        if wait:
            self.wait_for(self.count() + 1)
        return process

    def count(self) -> int:
        from forecaster.cluster import workers

        try:
            return len(workers(self.address))
        except Exception:
            return 0

    def wait_for(self, workers: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.count() < workers:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the test Dask cluster did not reach {workers} workers in {START_TIMEOUT_S:.0f} s")
            time.sleep(0.3)

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL a worker, as a crashed or out-of-memory machine would end it."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()
