"""AppTest of the Home page: it renders, and the quick start trains a model and shows the verdict and metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from forecaster.training import configure_threads
from forecaster.ui import widgets
from forecaster.ui.jobs import TrainingJob

configure_threads(1)

WAIT = 120
APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def at() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


@pytest.fixture
def tiny_jobs(monkeypatch: pytest.MonkeyPatch) -> list:
    """Shrink every job the app starts to 2 epochs of 8 units; record the config the page asked for."""
    asked: list = []
    real_start_job = widgets.start_job

    def start_tiny(config, selection, label=""):
        asked.append(config)
        return real_start_job(config.replace(model={"units": 8}, train={"epochs": 2}), selection, label)

    monkeypatch.setattr(widgets, "start_job", start_tiny)
    return asked


def quick_start_button(at: AppTest):
    matches = [b for b in at.button if b.label == "Train a quick model"]
    assert len(matches) == 1, [b.label for b in at.button]
    return matches[0]


def test_home_renders(at):
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["LSTM Forecasting Studio"]
    assert "Quick start" in [s.value for s in at.subheader]
    button = quick_start_button(at)
    assert not button.disabled
    assert "job" not in at.session_state
    assert not at.error
    links = [p.proto.label for p in at.get("page_link")]
    for page in ("Data", "Train", "Tune", "Results", "Inside the LSTM", "Forecast", "Experiments"):
        assert any(page in label for label in links), links
    # Every page in the navigation is in Home's list (Inside the LSTM was left out).
    linked = {p.proto.page.rsplit("/", 1)[-1] for p in at.get("page_link")}
    pages = {path.stem for path in (Path(__file__).resolve().parents[1] / "pages").glob("*.py")}
    assert pages <= linked, pages - linked


def test_quick_start_trains_and_shows_verdict_and_metrics(at, tiny_jobs):
    at.run()
    quick_start_button(at).click()
    at.run()
    assert not at.exception

    # The page asked for the quick-start settings on the default sample.
    assert len(tiny_jobs) == 1
    asked = tiny_jobs[0]
    assert (asked.model.layers, asked.model.units) == (1, 32)
    assert (asked.train.epochs, asked.train.patience, asked.train.batch_size) == (40, 6, 64)
    assert asked.data.target == "temp_max"
    assert at.session_state["selection"].dataset.source == "sample:seattle-weather"

    job = at.session_state["job"]
    assert isinstance(job, TrainingJob)
    assert job.label == "quick start"
    assert job.wait(WAIT), f"quick start still {job.status} after {WAIT}s"
    assert job.status == "done", job.error

    at.run()
    assert not at.exception
    assert not at.error
    verdicts = [e.value for e in [*at.success, *at.warning]]
    assert len(verdicts) == 1 and "naive" in verdicts[0], verdicts
    assert [m.label for m in at.metric] == ["Skill vs best baseline", "Skill vs naive"]
    assert len(at.dataframe) == 1
    table = at.dataframe[0].value
    assert table.index[0] == "LSTM + linear skip"
    assert any(label.startswith("Naive") for label in table.index)
    assert {"MAE", "RMSE"} <= set(table.columns)
    assert len(at.get("plotly_chart")) == 1
    # The finished job's model became the session's model.
    model, evaluation, trained_on = at.session_state["result"]
    assert model is job.model and evaluation is job.evaluation
    assert trained_on.dataset.source == "sample:seattle-weather"
    assert not quick_start_button(at).disabled


def test_quick_start_button_disabled_while_training(at, monkeypatch):
    gate_open = []

    class SlowJob(TrainingJob):
        def start(self):  # never starts a thread: the job stays "running" until the test ends it
            self.status = "running"
            gate_open.append(self)
            return self

    monkeypatch.setattr("forecaster.ui.jobs.TrainingJob", SlowJob)
    at.run()
    quick_start_button(at).click()
    at.run()
    assert not at.exception
    assert len(gate_open) == 1
    assert quick_start_button(at).disabled
    assert len(at.get("progress")) == 1  # the live progress, not a result
    assert "Stop" in [b.label for b in at.button]
    assert not at.dataframe
    gate_open[0].status = "stopped"


def test_failed_quick_start_shows_the_reason(at, monkeypatch):
    real_start_job = widgets.start_job

    def start_impossible(config, selection, label=""):  # Seattle's maxima go below 0 °C: no log returns
        return real_start_job(config.replace(data={"transform": "logret"}), selection, label)

    monkeypatch.setattr(widgets, "start_job", start_impossible)
    at.run()
    quick_start_button(at).click().run()
    job = at.session_state["job"]
    assert job.wait(WAIT)
    assert job.status == "failed"
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [job.error]
    assert job.error.startswith("Log returns need a series above zero")
    assert not at.dataframe and not at.metric
    assert "result" not in at.session_state
    assert not quick_start_button(at).disabled  # the user can try again


def test_stopped_job_shows_a_warning_and_its_model(at, synthetic_series):
    from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
    from forecaster.datasets import Dataset
    from forecaster.ui.state import Selection

    dataset = Dataset(frame=synthetic_series, name="syn", source="test", target="y", freq="D")
    config = ForecasterConfig(data=DataConfig(target="y", window=10), model=ModelConfig(units=8, layers=1),
                              train=TrainConfig(epochs=500, patience=0))
    job = TrainingJob(config=config, dataset=dataset, label="syn")
    job.stop()  # asked to stop before the first batch: ends with the untrained weights
    assert job.start().wait(WAIT) and job.status == "stopped"
    at.session_state["job"] = job
    at.session_state["job_selection"] = Selection(dataset=dataset, target="y")
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning if w.value.startswith("Training was stopped")] == [
        "Training was stopped after 0 epochs; the best weights so far were kept."]
    assert len(at.dataframe) == 1  # the stopped model is still judged
    assert at.session_state["result"][0] is job.model


def test_quick_start_waits_while_a_cell_comparison_runs(at):
    class RunningComparison:  # only what start_job looks at
        running = True

    at.session_state["compare_job"] = RunningComparison()
    at.run()
    assert not at.exception
    assert quick_start_button(at).disabled  # one run at a time per session
    assert any("can begin when it ends" in c.value for c in at.caption)
    assert "job" not in at.session_state
