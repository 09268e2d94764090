"""AppTest of the Train page: every hyperparameter with help, per-dataset defaults, training, errors, memory."""

from __future__ import annotations

import pandas as pd
import pytest
from app_helpers import open_page
from streamlit.testing.v1 import AppTest

from forecaster.datasets import Dataset, load_sample
from forecaster.training import configure_threads
from forecaster.ui.jobs import TrainingJob
from forecaster.ui.state import Selection

configure_threads(1)

PAGE = "pages/train.py"
WAIT = 60
HYPERPARAMETERS = ("Window", "Horizon", "Scaler", "Target transform", "Cell", "Layers", "Units", "Dropout",
                   "Max epochs", "Batch size", "Learning rate", "Weight decay", "Patience", "Loss", "Gradient clip",
                   "Seed")


def open_train(selection: Selection | None = None) -> AppTest:
    return open_page(PAGE, selection=selection)


def inputs(at: AppTest) -> dict:
    """Every input widget on the page by label (labels are unique on this page)."""
    found = {}
    for kind in ("number_input", "selectbox", "slider", "checkbox"):
        for widget in getattr(at, kind):
            assert widget.label not in found, f"two widgets labelled {widget.label!r}"
            found[widget.label] = widget
    return found


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert len(matches) == 1, (label, [b.label for b in at.button])
    return matches[0]


@pytest.fixture
def synthetic_selection(synthetic_series: pd.DataFrame) -> Selection:
    dataset = Dataset(frame=synthetic_series, name="syn", source="test", target="y", freq="D")
    return Selection(dataset=dataset, target="y")


def set_tiny(at: AppTest, **overrides) -> None:
    """Small, fast settings: 1 layer of 8 units, window 10, 2 epochs."""
    values = {"Window": 10, "Layers": 1, "Units": 8, "Max epochs": 2, **overrides}
    for label, value in values.items():
        inputs(at)[label].set_value(value)
    at.run()
    assert not at.exception


def test_every_hyperparameter_has_a_widget_with_help():
    at = open_train()
    widgets = inputs(at)
    missing = [label for label in HYPERPARAMETERS if label not in widgets]
    assert not missing, f"no widget for {missing}; page has {sorted(widgets)}"
    for label in (*HYPERPARAMETERS, "Learn the change from the last value", "Read windows relative to their last value",
                  "Linear skip from the best simple forecast"):
        assert widgets[label].help and len(widgets[label].help) > 20, f"{label!r} has no help text"
    assert button(at, "Train").help
    assert [s.value for s in at.subheader] == ["Data windows", "Network", "Training"]
    assert not at.error
    assert "seattle-weather" in at.markdown[0].value


def test_defaults_depend_on_the_dataset():
    daily = inputs(open_train())
    assert daily["Window"].value == 30
    assert daily["Batch size"].value == 32  # 1,461 rows

    hourly_data = load_sample("seattle-temps")
    hourly = inputs(open_train(Selection(dataset=hourly_data, target=hourly_data.target)))
    assert hourly["Window"].value == 48
    assert hourly["Batch size"].value == 64  # 8,759 rows
    # The rest are the library's defaults whatever the data.
    assert (hourly["Units"].value, hourly["Layers"].value, hourly["Horizon"].value) == (64, 1, 1)
    assert (hourly["Cell"].value, hourly["Loss"].value, hourly["Scaler"].value) == ("lstm", "mae", "standard")
    assert hourly["Learn the change from the last value"].value is True


def test_defaults_follow_a_change_of_data():
    at = open_train()
    inputs(at)["Window"].set_value(12).run()
    assert inputs(at)["Window"].value == 12
    hourly = load_sample("seattle-temps")
    at.session_state["selection"] = Selection(dataset=hourly, target=hourly.target)
    at.run()
    assert not at.exception
    assert inputs(at)["Window"].value == 48  # new data: its own defaults, not the old window


def test_train_with_tiny_settings_shows_trained(synthetic_selection):
    at = open_train(synthetic_selection)
    set_tiny(at)
    button(at, "Train").click().run()
    assert not at.exception
    assert not at.error
    job = at.session_state["job"]
    assert isinstance(job, TrainingJob)
    assert job.label == "syn"
    config = job.config
    assert (config.data.window, config.model.layers, config.model.units, config.train.epochs) == (10, 1, 8, 2)
    assert config.data.split == synthetic_selection.split
    assert job.wait(WAIT), f"training still {job.status} after {WAIT}s"
    assert job.status == "done", job.error

    at.run()
    assert not at.exception
    assert not at.error
    trained = [s.value for s in at.success if s.value.startswith("Trained")]
    assert len(trained) == 1, [s.value for s in at.success]
    assert trained[0].startswith("Trained 2 epochs in ")
    assert any("naive" in e.value for e in [*at.success, *at.warning])  # the verdict
    assert len(at.get("plotly_chart")) == 1  # the loss curves
    model, evaluation, trained_on = at.session_state["result"]
    assert model is job.model
    assert trained_on.dataset is synthetic_selection.dataset and trained_on.target == "y"
    assert not button(at, "Train").disabled


def test_train_button_is_disabled_while_a_job_runs(synthetic_selection, monkeypatch):
    started = []

    class HeldJob(TrainingJob):
        def start(self):  # no thread: the job stays running until the test releases it
            self.status = "running"
            started.append(self)
            return self

    monkeypatch.setattr("forecaster.ui.jobs.TrainingJob", HeldJob)
    at = open_train(synthetic_selection)
    set_tiny(at)
    button(at, "Train").click().run()
    assert not at.exception
    assert len(started) == 1
    assert button(at, "Train").disabled
    assert "Stop" in [b.label for b in at.button]
    button(at, "Stop").click().run()
    assert not at.exception
    assert started[0].stop_event.is_set()
    assert any("Stopping after the current batch" in i.value for i in at.info)
    started[0].status = "stopped"


def test_window_too_long_shows_an_error_and_starts_no_job(synthetic_selection):
    at = open_train(synthetic_selection)
    set_tiny(at, Window=500)
    button(at, "Train").click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert "window" in at.error[0].value.lower()
    assert "job" not in at.session_state
    assert "result" not in at.session_state


def test_log_returns_of_a_series_below_zero_show_an_error(synthetic_selection):
    at = open_train(synthetic_selection.with_(target="x"))  # a cosine: half of it is below zero
    set_tiny(at, **{"Target transform": "logret"})
    assert not at.error  # only checked when Train is pressed
    button(at, "Train").click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("Log returns need a series above zero")
    assert "job" not in at.session_state


def test_settings_survive_a_page_switch():
    at = open_train()
    inputs(at)["Units"].set_value(16)
    inputs(at)["Cell"].set_value("gru")
    inputs(at)["Dropout"].set_value(0.3)
    at.run()
    assert inputs(at)["Units"].value == 16

    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert "Units" not in inputs(at)
    at.switch_page(PAGE).run()
    assert not at.exception
    widgets = inputs(at)
    assert widgets["Units"].value == 16
    assert widgets["Cell"].value == "gru"
    assert widgets["Dropout"].value == pytest.approx(0.3)


def test_reset_to_defaults(synthetic_selection):
    at = open_train(synthetic_selection)
    inputs(at)["Units"].set_value(16).run()
    button(at, "Reset to defaults").click().run()
    assert not at.exception
    assert inputs(at)["Units"].value == 64


def test_a_result_for_other_data_is_not_shown_as_this_datas(synthetic_selection):
    """After switching data the page named the new data but still showed the old run's verdict and metrics."""
    at = open_train(synthetic_selection)
    set_tiny(at)
    button(at, "Train").click().run()
    job = at.session_state["job"]
    assert job.wait(WAIT) and job.status == "done", job.error
    at.run()
    assert any(s.value.startswith("Trained") for s in at.success)

    other = load_sample("seattle-weather")
    at.session_state["selection"] = Selection(dataset=other, target=other.target)
    at.run()
    assert not at.exception
    assert "Training on **seattle-weather**" in at.markdown[0].value
    assert not any(s.value.startswith("Trained") for s in at.success), [s.value for s in at.success]
    assert not [m for m in at.metric if m.label == "Skill vs naive"]
    assert not at.get("plotly_chart")  # no loss curves of the other data's run
    assert any("last model was trained on **syn**" in i.value for i in at.info), [i.value for i in at.info]

    # Back on the data it was trained on, the result is shown again.
    at.session_state["selection"] = synthetic_selection
    at.run()
    assert any(s.value.startswith("Trained") for s in at.success)


def test_the_relative_and_skip_switches_reach_the_model(synthetic_selection):
    at = open_train(synthetic_selection)
    assert inputs(at)["Read windows relative to their last value"].value is True
    assert inputs(at)["Linear skip from the best simple forecast"].value is True
    assert inputs(at)["Learn the change from the last value"].disabled  # implied by relative windows
    set_tiny(at, **{"Linear skip from the best simple forecast": False, "Read windows relative to their last value": False})
    assert not inputs(at)["Learn the change from the last value"].disabled
    button(at, "Train").click().run()
    job = at.session_state["job"]
    assert job.config.model.relative is False and job.config.model.skip is False
    assert job.wait(WAIT) and job.status == "done", job.error
    at.run()
    assert any("Model: LSTM." in s.value for s in at.success), [s.value for s in at.success]

    inputs(at)["Linear skip from the best simple forecast"].set_value(True).run()
    button(at, "Train").click().run()
    job = at.session_state["job"]
    assert job.wait(WAIT) and job.status == "done", job.error
    at.run()
    message = next(s.value for s in at.success if s.value.startswith("Trained"))
    assert "Model: LSTM + linear skip, its skip set to" in message, message
    inputs(at)["Target transform"].set_value("diff").run()
    assert inputs(at)["Linear skip from the best simple forecast"].disabled  # levels only


def test_the_calendar_checkbox_names_this_datas_terms_and_reaches_the_model(synthetic_selection):
    at = open_train(synthetic_selection)
    box = inputs(at)["Calendar inputs"]
    assert box.value is True and not box.disabled  # on by default for daily data, where it was measured to help
    assert "day of week" in box.help and "day of year" not in box.help  # 600 days: too short for day of year
    set_tiny(at, **{"Calendar inputs": False})
    button(at, "Train").click().run()
    job = at.session_state["job"]
    assert job.config.data.calendar is False
    assert job.wait(WAIT) and job.status == "done", job.error
    set_tiny(at, **{"Calendar inputs": True})
    button(at, "Train").click().run()
    assert not at.exception and not at.error
    job = at.session_state["job"]
    assert job.config.data.calendar is True
    assert job.wait(WAIT) and job.status == "done", job.error
    assert job.model.calendar_ == ("dow_sin", "dow_cos")


def test_the_calendar_checkbox_says_when_the_data_has_no_terms():
    years = pd.date_range("1900-01-01", periods=120, freq="YS", name="date")
    dataset = Dataset(frame=pd.DataFrame({"y": range(120)}, index=years, dtype=float), name="yearly", source="test",
                      target="y", freq="YS")
    box = inputs(open_train(Selection(dataset=dataset, target="y")))["Calendar inputs"]
    assert box.disabled and "change nothing" in box.help
    daily = inputs(open_train())  # the default data: Seattle's daily weather over four years
    assert "day of week, day of year" in daily["Calendar inputs"].help


def test_train_and_compare_wait_while_the_cell_comparison_runs(synthetic_selection):
    from forecaster.config import ForecasterConfig
    from forecaster.ui.compare_job import CompareJob

    compare = CompareJob(config=ForecasterConfig(), dataset=synthetic_selection.dataset)
    compare.status = "running"  # never started: no thread, it runs until the test says otherwise
    at = open_page(PAGE, selection=synthetic_selection, compare_job=compare)
    assert button(at, "Train").disabled and button(at, "Train LSTM, GRU and peephole").disabled
    compare.status = "stopped"


def test_the_train_page_sets_every_option_but_the_data_page_s_and_two_defaults():
    from forecaster.config import option_names
    from forecaster.ui.state import TRAIN_SETTINGS

    every = {name for section in ("data", "model", "train") for name in option_names(section)}
    assert set(TRAIN_SETTINGS) == every - {"target", "features", "split", "missing", "outliers", "resample",
                                           "device", "lr_schedule"}
    at = open_train()
    assert set(TRAIN_SETTINGS) <= set(at.session_state["_saved_settings"])  # each is a widget the page draws
