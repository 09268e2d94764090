"""One training run as a task on a Dask cluster: epochs followed here, the model back as checked .zip bytes."""

from __future__ import annotations

import threading
from typing import Any, Callable

from forecaster.cluster import ClusterError, RemoteJob, resources_for


def fit_on_cluster(address: str, config: Any, dataset: Any, progress: Callable | None = None,
                   stop_event: threading.Event | None = None, on_start: Callable[[str], None] | None = None) -> Any:
    """`LSTMForecaster(config).fit(dataset)` on a cluster worker: epochs reach `progress` here as they end, the
    model comes back as checked .zip bytes and gets this process's copy of its data (`prepared_`)."""
    from forecaster.estimator import LSTMForecaster
    from forecaster.remote import dataset_info, from_message, train_task
    from forecaster.training import EpochReport

    frame, info = dataset_info(dataset)
    remote = RemoteJob(address, train_task, config.to_dict(), frame, info,
                       resources=resources_for(config.train.device, address), label="train")
    stop_requested = (lambda: False) if stop_event is None else stop_event.is_set
    try:
        for message in remote.follow(stop_requested=stop_requested):
            if message.get("kind") == "started" and on_start is not None:
                on_start(str(message.get("worker")))
            elif message.get("kind") == "epoch" and progress is not None:
                progress(from_message(EpochReport, message))
    except BaseException:  # Ctrl-C in the CLI, a failing callback: the worker must not train on for nobody
        remote.stop()
        remote.future.cancel()
        raise
    answer = remote.answer()
    if "error" in answer:
        raise ClusterError(answer["error"])
    model = LSTMForecaster.from_bytes(answer["model"])  # checked like any uploaded model file
    model.prepared_ = model.prepare(dataset)
    return model
