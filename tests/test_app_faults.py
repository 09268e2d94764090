"""Faults injected into the running app (AppTest): each ends in a clear message, the app stays usable and
nothing the user had is lost (the chosen data, the last trained model)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import torch
from app_helpers import APP
from streamlit.testing.v1 import AppTest

import forecaster.training as training
import forecaster.yahoo as yahoo
from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import load_sample, load_ticker
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.training import configure_threads
from forecaster.ui.state import Selection

configure_threads(1)

WAIT = 60


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECASTER_HOME", str(tmp_path))


@pytest.fixture(scope="module")
def trained(request):
    """A tiny model the user already has: (selection, model, evaluation)."""
    dataset = load_sample("seattle-weather")  # what a new session starts on
    config = ForecasterConfig(data=DataConfig(target=dataset.target, window=10), model=ModelConfig(units=8, layers=1),
                              train=TrainConfig(epochs=1, batch_size=64, patience=0, seed=0))
    model = LSTMForecaster(config).fit(dataset)
    return Selection(dataset=dataset, target=dataset.target), model, evaluate(model)


def open_with(page: str, trained) -> AppTest:
    selection, model, evaluation = trained
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["selection"] = selection
    at.session_state["result"] = (model, evaluation, selection)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def kept(at: AppTest, trained) -> None:
    """The user's selection and model are still there, untouched."""
    selection, model, _ = trained
    now = at.session_state["selection"]
    assert (now.dataset.source, now.target, now.features, len(now.dataset.frame)) == (
        selection.dataset.source, selection.target, selection.features, len(selection.dataset.frame))
    assert at.session_state["result"][0] is model


def by_label(widgets, label: str):
    matches = [w for w in widgets if w.label == label]
    assert len(matches) == 1, (label, [w.label for w in widgets])
    return matches[0]


def download_ticker(at: AppTest, symbol: str = "MSFT") -> None:
    at.radio(key="_w_data_source").set_value("Ticker").run()
    by_label(at.text_input, "Symbol").set_value(symbol)
    by_label(at.button, "Download").click().run()
    assert not at.exception


# ---------------------------------------------------------------------------------------------- tickers

def test_ticker_timeout_shows_the_network_sentence_and_keeps_everything(trained, monkeypatch):
    def slow(symbol, **kwargs):
        raise TimeoutError("The read operation timed out")

    monkeypatch.setattr(yahoo, "download", slow)
    at = open_with("pages/data.py", trained)
    download_ticker(at)
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Could not reach Yahoo Finance" in message and "TimeoutError" in message and "network" in message
    kept(at, trained)


@pytest.mark.parametrize("answer", [
    pd.DataFrame({"Foo": [1.0, 2.0], "Bar": ["x", "y"]}, index=pd.date_range("2024-01-01", periods=2)),
    pd.DataFrame(),
    "<html>429 Too Many Requests</html>",
    None,
], ids=["no-price-columns", "empty", "html-text", "none"])
def test_malformed_ticker_answer_is_a_clear_error(trained, monkeypatch, answer):
    monkeypatch.setattr(yahoo, "download", lambda symbol, **kwargs: answer)
    at = open_with("pages/data.py", trained)
    download_ticker(at)
    assert len(at.error) == 1
    assert "Yahoo Finance returned no data for 'MSFT'" in at.error[0].value
    kept(at, trained)


def test_malformed_answer_falls_back_to_the_cache(trained, monkeypatch, tmp_path):
    index = pd.bdate_range("2023-01-02", periods=60, name="Date")
    good = pd.DataFrame({"Close": np.linspace(100, 120, 60), "Open": np.linspace(99, 119, 60)}, index=index)
    monkeypatch.setattr(yahoo, "download", lambda symbol, **kwargs: good)
    at = open_with("pages/data.py", trained)
    download_ticker(at)
    assert not at.error and at.session_state["selection"].dataset.source == "ticker:MSFT"
    # Yahoo now answers rubbish. Asking again for the same range in the app uses the saved copy, unasked...
    calls = []
    monkeypatch.setattr(yahoo, "download", lambda symbol, **kwargs: calls.append(symbol) or
                        pd.DataFrame({"Foo": [1.0]}))
    by_label(at.button, "Download").click().run()
    assert not at.exception and not at.error and calls == []
    assert at.session_state["selection"].dataset.source == "ticker:MSFT"
    assert any("Loaded from the cache" in i.value for i in at.info), [i.value for i in at.info]
    # ...and a forced refresh that gets rubbish falls back to the cached copy and says so.
    dataset = load_ticker("MSFT", start="2018-01-01", end=str(date.today()), refresh=True)
    assert calls == ["MSFT"] and len(dataset.frame) == 60
    assert any("returned no data, so this is the cached copy" in note for note in dataset.notes)


# ---------------------------------------------------------------------------------------------- training

def click_train(at: AppTest) -> None:
    for label, value in {"Window": 10, "Layers": 1, "Units": 8, "Max epochs": 2}.items():
        next(w for kind in ("number_input", "slider") for w in getattr(at, kind) if w.label == label).set_value(value)
    at.run()
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception


def finish(at: AppTest) -> None:
    job = at.session_state["job"]
    assert job.wait(WAIT), f"training still {job.status} after {WAIT}s"
    at.run()
    assert not at.exception


def test_exception_in_the_training_thread_is_shown_and_the_session_keeps_working(trained, monkeypatch):
    real_fit = LSTMForecaster.fit
    monkeypatch.setattr(LSTMForecaster, "fit", lambda self, *a, **k: (_ for _ in ()).throw(
        RuntimeError("CUDA driver exploded")))
    at = open_with("pages/train.py", trained)
    click_train(at)
    finish(at)
    errors = [e.value for e in at.error]
    assert any("Training failed unexpectedly" in e and "RuntimeError: CUDA driver exploded" in e for e in errors), errors
    kept(at, trained)  # the earlier model is still the session's model

    monkeypatch.setattr(LSTMForecaster, "fit", real_fit)
    click_train(at)  # the same session trains again
    finish(at)
    assert at.session_state["job"].status == "done", at.session_state["job"].error
    assert not at.error
    assert at.session_state["result"][0] is at.session_state["job"].model


def test_nan_loss_stops_with_advice_and_keeps_the_model(trained, monkeypatch):
    real = training.make_loss

    def poisoned(name, **options):
        loss = real(name, **options)
        return lambda prediction, target: loss(prediction, target) * torch.tensor(float("nan"))

    monkeypatch.setattr(training, "make_loss", poisoned)
    at = open_with("pages/train.py", trained)
    click_train(at)
    finish(at)
    errors = [e.value for e in at.error]
    assert any("Training diverged" in e and "lower the learning rate" in e for e in errors), errors
    assert at.session_state["job"].status == "failed"
    kept(at, trained)
