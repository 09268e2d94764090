"""An 8-fold backtest run serially here and on a two-worker local Dask cluster, in one process; per-job overhead.

Run: python benchmarks/bench_cluster.py [--quick] [--json] [--epochs N] [--folds N] [--jobs N] [--no-malloc-check]
The last line is `cluster/serial speed-up: S, overhead T s`: S is the serial backtest's seconds (at the
threads a user gets) over the cluster's, T the median seconds from submitting a small job to its first
progress report reaching this process, the workers warm.

The cluster is a `distributed.LocalCluster` started inside this process (scheduler in this process,
two worker processes of one thread each, `preload=["forecaster.remote"]` as `dask worker --preload`
gives). Its workers are started with the `spawn` method, which hands them this process's `sys.path`
(the repository root inserted below) and runs this file again as `__mp_main__`, so they import the
studio without PYTHONPATH and without starting `dask scheduler` / `dask worker` subprocesses as
tests/dask_server.py does; the scheduler and workers are the same code either way. The scheduler
lives in this process, so its CPU (and the client's polling) is measured and printed too.

Order: the cluster started; one small fit here (torch's one-time costs) while the workers' preload
warm-up runs, which is then waited for; one small job on each worker at once (the first job of a
fresh worker, printed as the cold overhead a user sees once); the serial backtest at the threads a
user gets (`configure_threads()`: the idle cores, at most 4); the serial backtest at 1 thread (like
with like: each worker trains on 1 thread; skipped when the first run already had 1); the backtest on
the cluster; the small overhead jobs one after another. Every fold trains a fixed number of epochs
(patience 0, seed 0), so both sides do the same work, and the cluster's fold metrics are compared
with the serial runs' (same seed and threads: they should be equal).

Dask's nanny starts every worker with MALLOC_TRIM_THRESHOLD_=65536 (distributed.nanny.pre-spawn-environ),
so `dask worker` does too unless started with --no-nanny. Setting it at all turns off glibc's dynamic
mmap threshold, so large blocks (a batch's tensors) are mapped afresh every time and their pages
faulted in again: measured here, a 1-thread fit of the sample took 1.6-2.2x as long with it as without,
with 5.6x the page faults (perf stat), and about as long as without when MALLOC_MMAP_THRESHOLD_=33554432
is set beside it. The cluster above is started as Dask starts
it; a second one, with the variable taken out of that list, is timed after it (--no-malloc-check
skips it). Speed is printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import resource
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecaster.backtest import backtest  # noqa: E402
from forecaster.config import default_config  # noqa: E402
from forecaster.datasets import load_sample  # noqa: E402
from forecaster.estimator import LSTMForecaster  # noqa: E402
from forecaster.runtime import configure_threads  # noqa: E402

SAMPLE = "seattle-weather"
WORKERS = 2
MATCH_RTOL = 1e-6
EPOCHS, QUICK_EPOCHS = 50, 4  # per fold; patience 0, so every fold trains them all
PRE_SPAWN, MALLOC_TRIM = "distributed.nanny.pre-spawn-environ", "MALLOC_TRIM_THRESHOLD_"


def bench_config(dataset, epochs: int):
    """The sample's default settings, with a fixed number of epochs so every fold does the same work."""
    config = default_config(dataset.freq, len(dataset.frame), dataset.target, dataset.features)
    return config.replace(train={"epochs": epochs, "patience": 0, "seed": 0})


class ExpectedTimeouts(logging.Filter):
    """Counts, and keeps off the screen, the scheduler's traceback for a Queue.get or Variable.get that timed out.

    A job's progress is read with `Queue.get(timeout=...)`, and every get that finds nothing yet makes the
    scheduler log "Exception while handling op queue_get" with a traceback at ERROR; a `dask scheduler` run
    by hand prints the same to its console. Other records pass.
    """

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, TimeoutError) and str(record.msg).startswith("Exception while handling op"):
            self.count += 1
            return False
        return True


def _warming_up() -> bool:
    """On a worker: whether forecaster.remote's preload warm-up thread is still running."""
    return any(thread.name == "forecaster-warm-up" for thread in threading.enumerate())


def wait_for_warm_up(address: str, timeout: float = 120.0) -> None:
    """Until every worker's preload warm-up (torch and the studio imported, one tiny step) has finished."""
    from forecaster.cluster import client

    deadline = time.monotonic() + timeout
    while any(client(address).run(_warming_up).values()) and time.monotonic() < deadline:
        time.sleep(0.1)


def start_cluster(malloc_trim: bool = True):
    """Two worker processes of one thread each, the studio preloaded; (cluster, seconds to start).

    `malloc_trim=False` starts them without the MALLOC_TRIM_THRESHOLD_ that Dask's nanny puts in every
    worker's environment (distributed.nanny.pre-spawn-environ), as glibc's own defaults.
    """
    import dask
    from distributed import LocalCluster

    started = time.perf_counter()
    unset = {} if malloc_trim else {f"{PRE_SPAWN}.{MALLOC_TRIM}": None}  # None removes it from that list
    saved = dict(os.environ)  # each nanny writes that list into this process's environment before it spawns
    if not malloc_trim:
        os.environ.pop(MALLOC_TRIM, None)  # else the workers would inherit it from here
    try:
        with dask.config.set(unset):  # read when each nanny is made, inside LocalCluster()
            # No dashboard; the scheduler's small HTTP server (health checks) on a free port, not 8787 (may be taken).
            cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None,
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, host="127.0.0.1",
                                   preload=["forecaster.remote"], silence_logs=logging.ERROR)
    finally:
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        os.environ.update(saved)
    cluster.wait_for_workers(WORKERS, timeout=120)
    return cluster, time.perf_counter() - started


def _malloc_trim() -> str | None:
    """On a worker: its MALLOC_TRIM_THRESHOLD_, None when unset."""
    return os.environ.get(MALLOC_TRIM)


def worker_malloc_trim(address: str) -> list[str | None]:
    from forecaster.cluster import client

    return sorted(set(client(address).run(_malloc_trim).values()), key=str)


def close_cluster(cluster, address: str | None) -> None:
    """The studio's client of the cluster first (it would log the scheduler going away), then the cluster."""
    if address is not None:
        from forecaster import cluster as studio_cluster

        connected = studio_cluster._clients.pop(address, None)
        if connected is not None:
            try:
                connected.close(timeout=10)
            except Exception:
                pass
    if cluster is not None:
        try:
            cluster.close(timeout=30)
        except Exception:
            pass


def timed_jobs(address: str, config, dataset, count: int, together: bool) -> list[dict]:
    """Small training jobs through RemoteJob, all submitted at once or one after another; each one's times."""
    from forecaster.cluster import RemoteJob, follow_all
    from forecaster.remote import dataset_info, train_task

    frame, info = dataset_info(dataset)
    config_dict = config.to_dict()

    def submit():
        return RemoteJob(address, train_task, config_dict, frame, info, label="bench")

    def timing(job, answer: dict, epoch: float, answered: float) -> dict:
        if "error" in answer:
            raise RuntimeError(f"a benchmark job failed on the cluster: {answer['error']}")
        return {"overhead_s": job.first_report - job.submitted, "epoch_s": epoch - job.submitted,
                "answer_s": answered - job.submitted, "worker": answer.get("worker"), "threads": answer.get("threads")}

    if together:
        jobs = [submit() for _ in range(count)]
        epochs: dict[int, float] = {}
        for index, message in follow_all(jobs):
            if message.get("kind") == "epoch":
                epochs.setdefault(index, time.time())
        answers = [job.answer() for job in jobs]
        answered = time.time()
        return [timing(job, answer, epochs[i], answered) for i, (job, answer) in enumerate(zip(jobs, answers))]
    out = []
    for _ in range(count):
        job = submit()
        epoch = None
        for message in job.follow():
            if epoch is None and message.get("kind") == "epoch":
                epoch = time.time()
        answer = job.answer()
        out.append(timing(job, answer, epoch, time.time()))
    return out


def fold_metrics(result) -> list[dict]:
    return [fold.metrics for fold in result.folds]


def largest_difference(a: list[dict], b: list[dict]) -> float:
    """The largest relative difference between two backtests' fold metrics (inf if their shapes differ)."""
    if len(a) != len(b):
        return math.inf
    worst = 0.0
    for one, other in zip(a, b):
        if one.keys() != other.keys():
            return math.inf
        for model in one:
            for metric, x in one[model].items():
                y = other[model].get(metric)
                if y is None:
                    return math.inf
                if not (math.isfinite(x) and math.isfinite(y)):
                    if not (x == y or (math.isnan(x) and math.isnan(y))):
                        return math.inf
                    continue
                worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-12))
    return worst


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_backtest(dataset, config, folds: int, cluster: str | None = None) -> tuple[object, float, float]:
    """(result, wall seconds, this process's CPU seconds)."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    result = backtest(dataset, config, folds=folds, cluster=cluster)
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def match_line(difference: float | None, against: str) -> str:
    if difference is None:
        return f"fold metrics DIFFER from the {against} run (other folds, models or non-finite values)"
    if difference <= MATCH_RTOL:
        return f"fold metrics match the {against} run (largest relative difference {difference:.1e})"
    return f"fold metrics DIFFER from the {against} run (largest relative difference {difference:.1e})"


def run(args) -> dict:
    dataset = load_sample(SAMPLE)
    config = bench_config(dataset, args.epochs)
    tiny = bench_config(dataset, 1)
    timeouts = ExpectedTimeouts()
    logging.getLogger("distributed.core").addFilter(timeouts)
    cluster = address = None
    try:
        cluster, start_s = start_cluster()
        address = cluster.scheduler_address
        trim = worker_malloc_trim(address)
        started = time.perf_counter()
        LSTMForecaster(tiny).fit(dataset)  # this side's one-time costs, while the workers warm up; never timed
        wait_for_warm_up(address)
        warm_up_s = time.perf_counter() - started
        cold = timed_jobs(address, tiny, dataset, WORKERS, together=True)  # the first job of each worker
        threads = configure_threads()  # what a user gets here now: the idle cores, at most 4
        serial, serial_s, _ = timed_backtest(dataset, config, args.folds)
        if threads == 1:  # the like-with-like run is this one
            single, single_s = serial, serial_s
        else:
            configure_threads(1)
            single, single_s, _ = timed_backtest(dataset, config, args.folds)
            configure_threads(threads)
        before = timeouts.count
        spread, cluster_s, cluster_cpu = timed_backtest(dataset, config, args.folds, cluster=address)
        logged = timeouts.count - before
        jobs = timed_jobs(address, tiny, dataset, args.jobs, together=False)
    finally:
        close_cluster(cluster, address)
    untrimmed = None
    if args.malloc_check and trim != [None]:
        cluster = address = None
        try:
            cluster, _ = start_cluster(malloc_trim=False)
            address = cluster.scheduler_address
            untrimmed = {"malloc_trim": worker_malloc_trim(address)}
            wait_for_warm_up(address)
            timed_jobs(address, tiny, dataset, WORKERS, together=True)
            result, wall, _ = timed_backtest(dataset, config, args.folds, cluster=address)
            untrimmed.update(seconds=round(wall, 2), speed_up=round(serial_s / wall, 3),
                             speed_up_vs_1thread=round(single_s / wall, 3),
                             difference_vs_1thread=finite(largest_difference(fold_metrics(result),
                                                                             fold_metrics(single))))
        finally:
            close_cluster(cluster, address)
    overheads = [job["overhead_s"] for job in jobs]
    return {
        "sample": SAMPLE, "folds": args.folds, "epochs": args.epochs, "rows": len(dataset.frame),
        "cores": os.cpu_count(), "workers": WORKERS, "worker_malloc_trim": trim,
        "worker_threads": sorted({job["threads"] for job in cold + jobs}),
        "cluster_start_s": round(start_s, 2), "preload_warm_up_s": round(warm_up_s, 2),
        "cold_overhead_s": [round(job["overhead_s"], 3) for job in cold],
        "cold_first_epoch_s": [round(job["epoch_s"], 3) for job in cold],
        "serial_threads": threads, "serial_s": round(serial_s, 2), "serial_1thread_s": round(single_s, 2),
        "cluster_s": round(cluster_s, 2), "speed_up": round(serial_s / cluster_s, 3),
        "speed_up_vs_1thread": round(single_s / cluster_s, 3),
        "cluster_process_cpu_share": round(cluster_cpu / cluster_s, 3),
        "scheduler_timeout_tracebacks": logged,
        "difference_vs_1thread": finite(largest_difference(fold_metrics(spread), fold_metrics(single))),
        "difference_vs_serial": finite(largest_difference(fold_metrics(spread), fold_metrics(serial))),
        "folds_done": [len(serial.folds), len(single.folds), len(spread.folds)],
        "jobs": len(jobs), "overhead_median_s": round(statistics.median(overheads), 3),
        "overhead_max_s": round(max(overheads), 3),
        "first_epoch_median_s": round(statistics.median(job["epoch_s"] for job in jobs), 3),
        "answer_median_s": round(statistics.median(job["answer_s"] for job in jobs), 3),
        "answer_max_s": round(max(job["answer_s"] for job in jobs), 3),
        "job_workers": len({job["worker"] for job in jobs}),
        "without_malloc_trim": untrimmed,
    }


def trim_words(values: list[str | None]) -> str:
    """The workers' MALLOC_TRIM_THRESHOLD_, in words."""
    if values == [None]:
        return f"{MALLOC_TRIM} unset"
    return f"{MALLOC_TRIM}={','.join(map(str, values))} (Dask's nanny sets 65536)"


def seconds(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values) + " s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs per fold (CI)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--epochs", type=int, help=f"epochs per fold (default {EPOCHS}, quick {QUICK_EPOCHS})")
    parser.add_argument("--folds", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=5, help="small jobs timed one after another for the overhead")
    parser.add_argument("--no-malloc-check", dest="malloc_check", action="store_false",
                        help=f"skip the second cluster, whose workers run without Dask's {MALLOC_TRIM}")
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)
    # Ctrl-C raises KeyboardInterrupt; a plain `kill` is turned into SystemExit: either way the cluster is closed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    r = run(args)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        s = "s" * (r["serial_threads"] != 1)
        print(f"{SAMPLE}, {r['rows']} rows, {r['folds']} folds x {r['epochs']} epochs (patience 0), {r['cores']} cores")
        print(f"local cluster up in {r['cluster_start_s']:.1f} s, its preload warm-up done {r['preload_warm_up_s']:.1f} s "
              f"later (a fit here meanwhile): {r['workers']} workers x 1 thread (torch threads per job: "
              f"{', '.join(map(str, r['worker_threads']))})")
        print(f"cold first job on each worker, 1 epoch: first progress report after {seconds(r['cold_overhead_s'])}, "
              f"first epoch after {seconds(r['cold_first_epoch_s'])}")
        print(f"serial {r['folds']}-fold backtest: {r['serial_s']:.1f} s ({r['serial_threads']} thread{s})")
        if r["serial_threads"] != 1:
            print(f"serial {r['folds']}-fold backtest: {r['serial_1thread_s']:.1f} s (1 thread)")
        print(f"cluster {r['folds']}-fold backtest: {r['cluster_s']:.1f} s ({r['workers']} workers x 1 thread, "
              f"{trim_words(r['worker_malloc_trim'])}; "
              f"this process, scheduler and client, used {100 * r['cluster_process_cpu_share']:.0f}% of a core; "
              f"the scheduler logged {r['scheduler_timeout_tracebacks']} progress-poll timeouts as tracebacks)")
        print(f"speed-up: {r['speed_up']:.2f}x ({r['speed_up_vs_1thread']:.2f}x against 1 thread)")
        print(match_line(r["difference_vs_1thread"], "1-thread serial"))
        if r["serial_threads"] != 1:
            print(match_line(r["difference_vs_serial"], f"{r['serial_threads']}-thread serial"))
        other = r["without_malloc_trim"]
        if other:
            print(f"cluster {r['folds']}-fold backtest, workers with {trim_words(other['malloc_trim'])}: "
                  f"{other['seconds']:.1f} s, speed-up "
                  f"{other['speed_up']:.2f}x ({other['speed_up_vs_1thread']:.2f}x against 1 thread); "
                  + match_line(other["difference_vs_1thread"], "1-thread serial"))
        print(f"job overhead (submit to first progress report): median {r['overhead_median_s']:.2f} s, "
              f"max {r['overhead_max_s']:.2f} s over {r['jobs']} jobs on {r['job_workers']} worker(s); "
              f"to the first epoch median {r['first_epoch_median_s']:.2f} s; to the answer median "
              f"{r['answer_median_s']:.2f} s, max {r['answer_max_s']:.2f} s (1 epoch)")
    print(f"cluster/serial speed-up: {r['speed_up']:.2f}x, overhead {r['overhead_median_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
