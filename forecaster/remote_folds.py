"""A backtest's folds as tasks on a Dask cluster, side by side: progress per epoch, Stop, results as data."""

from __future__ import annotations

import threading
from typing import Callable

from forecaster.cluster import ClusterError, RemoteJob, follow_all, resources_for
from forecaster.remote import fold_task, from_message
from forecaster.training import EpochReport


def run_folds_on_cluster(address: str, folds_in: list, freq: str | None, season: int | None,
                         progress: Callable | None, stop_event: threading.Event | None) -> tuple[list, bool]:
    """Submit every fold at once, follow them all, and return ([(plan, outcome)] in fold order, stopped).

    A fold that fails ends the backtest with its sentence (the other folds are stopped); folds cut short by
    Stop are dropped, as in a local backtest, and the finished ones kept.
    """
    from forecaster.backtest import BacktestProgress, _result_of

    resources = resources_for(folds_in[0][2].train.device, address) if folds_in else None
    jobs = [RemoteJob(address, fold_task, config.to_dict(), frame, freq, season, plan.number,
                      resources=resources, label=f"fold{plan.number}") for plan, frame, config in folds_in]
    total = len(jobs)
    within = [0.0] * total  # each fold's share of its epochs done
    done: dict[int, dict] = {}
    stop_requested = (lambda: False) if stop_event is None else stop_event.is_set

    def report(index: int, **fields) -> None:
        if progress is not None:
            share = (len(done) + sum(within[i] for i in range(total) if i not in done)) / max(1, total)
            progress(BacktestProgress(fold=folds_in[index][0].number, folds=total, share=share, **fields))

    try:
        for index, message in follow_all(jobs, stop_requested):
            if message.get("kind") != "epoch":
                continue
            epoch = from_message(EpochReport, message)
            within[index] = epoch.epoch / max(1, epoch.max_epochs)
            report(index, epoch=epoch)
            for finished, job in enumerate(jobs):  # pick up folds that ended meanwhile, in any order
                _collect(finished, job, done, folds_in, report, _result_of)
        for index, job in enumerate(jobs):
            _collect(index, job, done, folds_in, report, _result_of)
    except ClusterError:
        for job in jobs:  # the backtest has failed: free the workers of its other folds
            job.stop()
            job.future.cancel()
        raise
    stopped = stop_requested() or any(out.get("stopped") for out in done.values()) or len(done) < total
    outcomes = [(folds_in[i][0], done[i]) for i in sorted(done) if not done[i].get("stopped")]
    return outcomes, stopped


def _collect(index: int, job: RemoteJob, done: dict, folds_in: list, report: Callable, result_of: Callable) -> None:
    """Take a finished fold's answer once; a fold's own failure ends the backtest with its sentence."""
    if index in done or not job.future.done() or job.future.cancelled():
        return
    answer = job.answer()
    if "error" in answer:
        raise ClusterError(f"Fold {folds_in[index][0].number}: {answer['error']}")
    done[index] = answer
    if not answer.get("stopped"):
        report(index, result=result_of(folds_in[index][0], answer))
