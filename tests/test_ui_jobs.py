"""Tests for forecaster.ui.jobs: background training runs end done, stopped or failed, and never crash the thread."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.errors import DataError
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import Evaluation
from forecaster.prepare import prepare
from forecaster.training import configure_threads
from forecaster.ui.jobs import TrainingJob

configure_threads(1)

WAIT = 60  # seconds; a tiny job takes well under one


def tiny(epochs: int = 2, patience: int = 10, **data) -> ForecasterConfig:
    return ForecasterConfig(data=DataConfig(**{"target": "y", "window": 10, **data}),
                            model=ModelConfig(units=8, layers=1),
                            train=TrainConfig(epochs=epochs, batch_size=32, patience=patience, seed=0))


@pytest.fixture
def dataset(synthetic_series: pd.DataFrame) -> Dataset:
    return Dataset(frame=synthetic_series, name="syn", source="test", target="y", freq="D", unit="°C")


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> list:
    """Exceptions that escape any thread during the test (there must be none)."""
    seen: list = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    return seen


def finished(job: TrainingJob) -> TrainingJob:
    assert job.wait(WAIT), f"job still {job.status} after {WAIT}s"
    assert job.thread is not None and not job.thread.is_alive()
    return job


def test_job_starts_queued_then_runs(dataset):
    job = TrainingJob(config=tiny(), dataset=dataset, label="syn")
    assert job.status == "queued" and job.running and job.elapsed == 0.0
    job.start()
    assert job.thread is not None and job.thread.name == "train-syn"
    assert job.started > 0
    finished(job)


def test_job_finishes_done_with_model_and_evaluation(dataset, thread_errors):
    job = finished(TrainingJob(config=tiny(epochs=2), dataset=dataset, label="syn").start())
    assert job.status == "done"
    assert not job.running
    assert job.error is None
    assert isinstance(job.model, LSTMForecaster)
    assert job.model.target_ == "y"
    assert job.model.history_.epochs_run == 2
    assert isinstance(job.evaluation, Evaluation)
    assert job.evaluation.unit == "°C"  # the dataset's unit reaches the evaluation
    assert {"lstm", "naive"} <= set(job.evaluation.metrics)
    assert job.finished >= job.started > 0
    assert job.elapsed == pytest.approx(job.finished - job.started)
    assert thread_errors == []


def test_reports_grow_once_per_epoch(dataset):
    seen_while_running: list[int] = []
    job = TrainingJob(config=tiny(epochs=3, patience=0), dataset=dataset)
    assert job.latest is None
    job.start()
    while job.running:  # sample the live list the page reads, as the progress fragment does
        seen_while_running.append(len(job.reports))
        time.sleep(0.005)
    finished(job)
    assert job.status == "done"
    assert [r.epoch for r in job.reports] == [1, 2, 3]
    assert len(job.reports) == job.model.history_.epochs_run
    assert [r.train_loss for r in job.reports] == pytest.approx(job.model.history_.train_loss)
    assert all(r.max_epochs == 3 for r in job.reports)
    assert job.latest is job.reports[-1]
    assert seen_while_running == sorted(seen_while_running)  # only ever grows
    assert max(seen_while_running, default=0) <= 3


def test_stop_during_long_run_ends_stopped_with_model(dataset, thread_errors):
    job = TrainingJob(config=tiny(epochs=1000, patience=0), dataset=dataset).start()
    deadline = time.time() + WAIT
    while not job.reports and job.running and time.time() < deadline:
        time.sleep(0.01)
    assert job.reports, f"no epoch finished (status {job.status}, error {job.error})"
    assert job.running
    job.stop()
    assert job.stop_event.is_set()
    finished(job)
    assert job.status == "stopped"
    assert job.error is None
    assert isinstance(job.model, LSTMForecaster)
    assert job.model.history_.stopped_by_user
    assert 1 <= job.model.history_.epochs_run < 1000
    assert job.evaluation is not None
    assert thread_errors == []


def test_window_too_long_fails_with_the_data_error_sentence(dataset, thread_errors):
    config = tiny(window=500)
    with pytest.raises(DataError) as expected:
        prepare(dataset.frame, config.data, "y")
    job = finished(TrainingJob(config=config, dataset=dataset).start())
    assert job.status == "failed"
    assert job.error == str(expected.value)  # the user's sentence, unchanged
    assert "window" in job.error.lower()
    assert job.model is None and job.evaluation is None
    assert job.reports == []
    assert job.finished >= job.started
    assert thread_errors == []


def test_unexpected_exception_fails_plainly_and_never_escapes_the_thread(dataset, thread_errors, monkeypatch):
    def broken_fit(self, *args, **kwargs):
        raise RuntimeError("cuDNN exploded")

    monkeypatch.setattr(LSTMForecaster, "fit", broken_fit)
    job = finished(TrainingJob(config=tiny(), dataset=dataset).start())
    assert job.status == "failed"
    assert not job.running
    assert job.error.startswith("Training failed unexpectedly")
    assert "RuntimeError" in job.error and "cuDNN exploded" in job.error
    assert job.model is None and job.evaluation is None
    assert job.finished > 0
    assert thread_errors == []


def test_wait_without_start_reports_not_finished(dataset):
    job = TrainingJob(config=tiny(), dataset=dataset)
    assert job.wait(0.01) is False  # queued, never started: still "running" by status


def test_a_run_counts_itself_in_and_out_of_the_cpu_share(dataset):
    from forecaster.ui.jobs import active_runs

    before = active_runs()
    job = TrainingJob(config=tiny(epochs=1000, patience=0), dataset=dataset).start()
    deadline = time.time() + 30
    while not job.reports and time.time() < deadline:  # wait until it is really training
        time.sleep(0.05)
    assert active_runs() == before + 1
    job.stop()
    assert job.wait(30)
    assert active_runs() == before


def test_job_ends_and_lets_go_when_its_browser_session_is_gone(dataset, thread_errors, caplog):
    """A closed tab: alive() turns False, the run stops at the next epoch and drops its model and data."""
    calls = []

    def alive() -> bool:
        calls.append(time.monotonic())
        return len(calls) < 2  # open for the first epoch, gone from the second on

    with caplog.at_level("INFO", logger="forecaster"):
        job = TrainingJob(config=tiny(epochs=500, patience=0), dataset=dataset, label="syn", alive=alive).start()
        began = time.monotonic()
        finished(job)
    assert time.monotonic() - began < 30
    assert job.status == "stopped" and job.orphaned and job.error is None
    assert job.model is None and job.evaluation is None and job.dataset is None and job.reports == []
    assert len(calls) == 2  # not asked again once the stop was requested
    assert "training stopped: browser session ended" in caplog.text
    assert thread_errors == []


def test_job_keeps_going_when_the_session_check_itself_fails(dataset, thread_errors):
    def broken() -> bool:
        raise RuntimeError("runtime gone")

    job = finished(TrainingJob(config=tiny(epochs=2), dataset=dataset, label="syn", alive=broken).start())
    assert job.status == "done" and job.model is not None and not job.orphaned


def test_session_watch_allows_a_short_reconnect_then_reports_the_session_gone(monkeypatch):
    """The watch asks Streamlit's runtime; a session inactive longer than the grace counts as gone."""
    from types import SimpleNamespace

    import streamlit.runtime as runtime
    import streamlit.runtime.scriptrunner as scriptrunner

    from forecaster.ui import widgets

    active = {"abc": True}
    fake = SimpleNamespace(is_active_session=lambda session_id: active.get(session_id, False))
    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", lambda: fake)
    monkeypatch.setattr(scriptrunner, "get_script_run_ctx", lambda: SimpleNamespace(session_id="abc"))
    clock = [100.0]
    monkeypatch.setattr(widgets.time, "monotonic", lambda: clock[0])
    alive = widgets.session_watch(grace=5)
    assert alive is not None and alive()
    active["abc"] = False  # the websocket dropped
    assert alive()
    clock[0] += 3
    assert alive()  # still within the grace
    active["abc"] = True  # it came back: the count starts over
    assert alive()
    active["abc"] = False
    clock[0] += 1
    assert alive()
    clock[0] += 6
    assert not alive()


def test_session_watch_is_off_outside_a_served_app():
    from forecaster.ui import widgets

    assert widgets.session_watch() is None
