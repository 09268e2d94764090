"""AppTest of the Forecast page: empty state, the forecast chart and table, downloads, model files in and out."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from app_helpers import open_page
from streamlit.testing.v1 import AppTest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.training import configure_threads
from forecaster.ui.state import Selection

configure_threads(1)

PAGE = "pages/forecast.py"
UPLOADER = "Model file (.zip from 'Download model')"


def trained(frame: pd.DataFrame, horizon: int = 1, features: tuple[str, ...] = ()):
    """(model, evaluation, selection) from a tiny fit on the synthetic series."""
    dataset = Dataset(frame=frame, name="syn", source="test", target="y", freq="D", unit="°C")
    config = ForecasterConfig(data=DataConfig(target="y", features=features, window=10, horizon=horizon),
                              model=ModelConfig(units=8, layers=1), train=TrainConfig(epochs=2, seed=0))
    model = LSTMForecaster(config).fit(dataset)
    return model, evaluate(model, unit=dataset.unit), Selection(dataset=dataset, target="y", features=features)


def open_forecast(result=None) -> AppTest:
    return open_page(PAGE, result=result)


def expander(at: AppTest, label: str):
    matches = [e for e in at.expander if e.label == label]
    assert len(matches) == 1, (label, [e.label for e in at.expander])
    return matches[0]


def forecast_table(at: AppTest) -> pd.DataFrame:
    tables = expander(at, "Forecast values").dataframe
    assert len(tables) == 1
    return tables[0].value


def steps_input(at: AppTest):
    matches = [n for n in at.number_input if n.label == "Steps to forecast"]
    assert len(matches) == 1, [n.label for n in at.number_input]
    return matches[0]


def downloads(at: AppTest) -> list[str]:
    return [button.label for button in at.get("download_button")]


def captions(at: AppTest) -> str:
    return " | ".join(c.value for c in at.caption)


def test_without_a_model_offers_an_upload():
    at = open_forecast()
    assert [t.value for t in at.title] == ["Forecast"]
    assert len(at.info) == 1 and at.info[0].value.startswith("No model yet")
    assert [u.label for u in at.file_uploader] == [UPLOADER]
    assert at.file_uploader[0].allowed_type == [".zip"]
    assert expander(at, "Load a saved model").proto.expanded
    assert not at.get("plotly_chart") and not downloads(at)
    assert not at.error


def test_with_a_model_shows_chart_table_and_downloads(synthetic_series):
    model, evaluation, _ = result = trained(synthetic_series)
    at = open_forecast(result)
    assert not at.error and not at.info
    assert not expander(at, "Load a saved model").proto.expanded
    [figure] = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert len(figure["data"]) >= 2  # history and forecast
    assert downloads(at) == ["Download forecast (CSV)", "Download model"]
    assert steps_input(at).value == 30
    table = forecast_table(at)
    assert len(table) == 30
    assert list(table.columns) == ["y", "lower_80", "upper_80", "lower_95", "upper_95"]  # default 80% and 95% bands
    assert table.index[0] == f"{synthetic_series.index[-1] + pd.Timedelta(days=1):%Y-%m-%d}"  # a date, no time
    assert "For scale" in captions(at) and "MAE" in captions(at)
    assert "one step ahead" in captions(at) and "one horizon ahead" not in captions(at)
    assert "feeds its own forecasts back in" in captions(at)  # 30 steps from a 1-step model


def test_steps_input_changes_the_forecast_length(synthetic_series):
    at = open_forecast(trained(synthetic_series, horizon=3))
    assert steps_input(at).value == 30
    steps_input(at).set_value(7).run()
    assert not at.exception
    table = forecast_table(at)
    assert len(table) == 7
    assert pd.DatetimeIndex(table.index).equals(pd.date_range(synthetic_series.index[-1], periods=8, freq="D")[1:])

    steps_input(at).set_value(2).run()  # within the horizon: no compounding note
    assert len(forecast_table(at)) == 2
    assert "feeds its own forecasts back in" not in captions(at)


def test_features_held_at_their_last_value_are_mentioned(synthetic_series):
    at = open_forecast(trained(synthetic_series, features=("x",)))
    assert "extra features (x)" in captions(at)
    assert len(forecast_table(at)) == 30


def test_upload_a_saved_model(synthetic_series):
    model, _, _ = trained(synthetic_series)
    at = open_forecast()
    at.file_uploader[0].set_value(("model_y.zip", model.to_bytes(), "application/zip")).run()
    assert not at.exception
    assert not at.error
    assert len(at.success) == 1 and at.success[0].value.startswith("Loaded a model that forecasts y (LSTM 1×8)")
    loaded, evaluation, trained_on = at.session_state["result"]
    assert isinstance(loaded, LSTMForecaster) and evaluation is None and trained_on is None
    assert len(at.get("plotly_chart")) == 1
    assert downloads(at) == ["Download forecast (CSV)", "Download model"]
    expected = model.forecast(30)
    assert forecast_table(at)["y"].to_numpy() == pytest.approx(expected["y"].to_numpy())
    assert "For scale" not in captions(at)  # no evaluation for a loaded model

    at.run()  # a rerun with the same file in the uploader does not load it again
    assert at.session_state["result"][0] is loaded


def test_bad_model_file_is_refused_and_the_current_model_kept(synthetic_series):
    result = trained(synthetic_series)
    at = open_forecast(result)
    at.file_uploader[0].set_value(("notes.zip", b"this is not a zip file", "application/zip")).run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.endswith("Your current model is unchanged.")
    assert at.session_state["result"][0] is result[0]
    assert len(forecast_table(at)) == 30


def test_the_forecast_table_has_the_data_s_precision(synthetic_series):
    """Forecast CSVs carried full float precision; the data here is written with two decimals."""
    data = synthetic_series.round(2)
    at = open_forecast(trained(data, horizon=3))
    table = forecast_table(at)
    assert np.allclose(table.to_numpy(), table.round(2).to_numpy(), atol=1e-12)
    assert "averaged over the 1 to 3 steps ahead" in captions(at)
