"""AppTest of the Tune page: the search space form, a search run in the background, Stop, and 'Train with these'."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import open_page
from streamlit.testing.v1 import AppTest

from forecaster.datasets import Dataset
from forecaster.training import configure_threads
from forecaster.ui.state import Selection

configure_threads(1)
PAGE = "pages/tune.py"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FORECASTER_HOME", str(tmp_path))  # studies go in this test's own store
    return tmp_path


@pytest.fixture
def selection(synthetic_series: pd.DataFrame) -> Selection:
    data = Dataset(frame=synthetic_series, name="syn", source="upload:syn.csv", target="y", features=("x",),
                   freq="D", unit="m")
    return Selection(dataset=data, target="y", features=("x",))


def small_search(at: AppTest, params: list[str], trials: int = 3) -> AppTest:
    at.number_input(key="_w_tune_trials").set_value(trials)
    at.number_input(key="_w_tune_epochs").set_value(2)
    at.multiselect(key="_w_tune_params").set_value(params).run()
    assert not at.exception and not at.error
    return at


def start(at: AppTest):
    next(b for b in at.button if b.label == "Start search").click().run()
    assert not at.exception
    return at.session_state["tune_job"]


def test_the_form_offers_a_search_space_suited_to_the_data(home: Path, selection: Selection) -> None:
    at = open_page(PAGE, selection=selection)
    assert "validation loss" in at.markdown[0].value and "test part is never used" in at.markdown[0].value
    params = at.multiselect(key="_w_tune_params").value
    assert {"layers", "units", "lr"} <= set(params)
    window = at.slider(key="_w_tune_window")
    assert window.value[0] < window.value[1] <= 210  # capped by the training part of 600 rows
    assert not at.exception


def test_an_empty_choice_is_explained_and_cannot_start(home: Path, selection: Selection) -> None:
    at = open_page(PAGE, selection=selection)
    at.multiselect(key="_w_tune_params").set_value([]).run()
    assert "at least one setting" in at.error[0].value
    assert next(b for b in at.button if b.label == "Start search").disabled


def test_a_search_runs_shows_its_trials_and_hands_the_best_to_train(home: Path, selection: Selection) -> None:
    at = small_search(open_page(PAGE, selection=selection), ["units", "lr"])
    job = start(at)
    assert job.wait(300) and job.status == "done", job.error
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 3 and set(table["State"]) <= {"complete", "pruned"}
    assert {"Units", "Learning rate", "Validation loss"} <= set(table.columns)
    result = job.result
    if result.best_trial == 0:  # the starting settings won: no success box and nothing to hand over
        assert "found nothing better than the starting settings" in at.info[0].value
        return
    assert "Best validation loss" in at.success[0].value
    best = result.best_config
    next(b for b in at.button if b.label == "Train with these settings").click().run()
    assert not at.exception and at.title[0].value == "Train"
    assert at.number_input(key="_w_units").value == best.model.units
    assert at.number_input(key="_w_lr").value == pytest.approx(best.train.lr)
    assert at.number_input(key="_w_epochs").value == 100  # the per-trial budget does not replace the real one


def test_stop_ends_the_search_and_keeps_what_finished(home: Path, selection: Selection) -> None:
    at = small_search(open_page(PAGE, selection=selection), ["units"], trials=50)
    job = start(at)
    job.stop()
    assert job.wait(300) and job.status == "stopped"
    at.run()
    assert not at.exception and "stopped" in at.warning[0].value
    assert len(job.summaries) < 50


def test_the_running_trial_shows_its_epoch_and_validation_loss(home: Path, selection: Selection) -> None:
    import time

    at = small_search(open_page(PAGE, selection=selection), ["units"], trials=50)
    at.number_input(key="_w_tune_epochs").set_value(200).run()
    job = start(at)
    try:
        deadline = time.monotonic() + 120
        while job.trial_epoch is None and job.running:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        at.run()
        assert not at.exception
        texts = [element.proto.text for element in at.get("progress")]
        assert any(re.match(r"Trial \d+ of 50 running for \d+s · epoch \d+ of 200, validation loss [\d.e-]+ · "
                            r"\d+s elapsed", text) for text in texts), texts
    finally:
        job.stop()
        assert job.wait(120)


def test_search_refuses_to_start_while_a_training_runs(home: Path, selection: Selection) -> None:
    class Running:
        running = True

    at = open_page(PAGE, selection=selection, job=Running())
    assert next(b for b in at.button if b.label == "Start search").disabled
    assert any("training run is in progress" in c.value for c in at.caption)


def test_a_search_whose_browser_session_is_gone_stops(synthetic_series: pd.DataFrame, home: Path) -> None:
    from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
    from forecaster.tuning import SearchSpace
    from forecaster.ui.tune_job import TuneJob

    open_sessions = [True]
    base = ForecasterConfig(data=DataConfig(target="y", window=10), model=ModelConfig(units=8),
                            train=TrainConfig(epochs=50, patience=0))
    job = TuneJob(base=base, dataset=synthetic_series, space=SearchSpace(units=(4, 16)), trials=100,
                  alive=lambda: open_sessions[0])
    job.stop_event.every = 0.05
    job.start()
    open_sessions[0] = False  # the tab was closed
    assert job.wait(120) and job.status == "stopped"
    assert job.stop_event.orphaned and len(job.summaries) < 100


def test_a_search_that_finds_nothing_better_says_so_plainly(home: Path, selection: Selection) -> None:
    """Every trial the same settings: the best is trial 0, which was shown as a green '0.0% below' success."""
    at = small_search(open_page(PAGE, selection=selection), ["cell"], trials=2)
    at.multiselect(key="_w_tune_cells").set_value(["lstm"]).run()
    job = start(at)
    assert job.wait(300) and job.status == "done", job.error
    at.run()
    assert not at.exception
    assert job.result.best_trial == 0
    assert not at.success, [s.value for s in at.success]
    message = at.info[0].value
    assert "found nothing better than the starting settings" in message and "widen the ranges" in message
    assert "search more settings (layers, units, dropout, window" in message
    assert not [b for b in at.button if b.label == "Train with these settings"]


def test_the_study_s_storage_is_not_shown_on_a_shared_server(home: Path, selection: Selection) -> None:
    at = small_search(open_page(PAGE, selection=selection), ["units"], trials=2)
    job = start(at)
    assert job.wait(300), job.status
    at.run()
    caption = next(c.value for c in at.caption if "complete," in c.value)
    assert str(home) not in caption and "sqlite" not in caption  # AppTest's server listens on every address


def held_tune_jobs(monkeypatch: pytest.MonkeyPatch) -> list:
    """Search jobs that start no thread: they stay running until the test says otherwise."""
    from forecaster.ui.tune_job import TuneJob

    started: list = []

    class HeldTuneJob(TuneJob):
        def start(self):
            self.status = "running"
            started.append(self)
            return self

    monkeypatch.setattr("forecaster.ui.tune_job.TuneJob", HeldTuneJob)
    return started


def test_the_search_starts_from_the_train_page_s_settings_for_this_data(home: Path, selection: Selection,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    started = held_tune_jobs(monkeypatch)
    at = open_page("pages/train.py", selection=selection)
    at.number_input(key="_w_units").set_value(24)
    at.selectbox(key="_w_cell").set_value("gru")
    at.number_input(key="_w_window").set_value(12).run()
    at.switch_page(PAGE).run()
    small_search(at, ["lr"], trials=2)
    start(at)
    base = started[0].base
    assert (base.model.units, base.model.cell, base.data.window) == (24, "gru", 12)
    assert (base.train.epochs, base.train.patience) == (2, 5)  # the per-trial budget, not the Train page's
    assert base.data.split == selection.split and base.data.features == ("x",)
    started[0].status = "stopped"


def test_settings_the_train_page_kept_for_other_data_are_not_used(home: Path, selection: Selection,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    started = held_tune_jobs(monkeypatch)
    at = open_page(PAGE, selection=selection, _saved_settings={"units": 24, "cell": "gru"},
                   train_defaults_for="other data")
    start(small_search(at, ["lr"], trials=2))
    assert (started[0].base.model.units, started[0].base.model.cell) == (64, "lstm")  # this data's defaults
    started[0].status = "stopped"


def test_search_refuses_to_start_while_cells_are_compared(home: Path, selection: Selection) -> None:
    class Running:
        running = True

    at = open_page(PAGE, selection=selection, compare_job=Running())
    assert next(b for b in at.button if b.label == "Start search").disabled
