"""AppTest of the judging sections: intervals table and band chart, DM and Ljung–Box sentences, backtest, forecast bands."""

from __future__ import annotations

import json

import pandas as pd
from app_helpers import open_page, start_backtest
from streamlit.testing.v1 import AppTest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.training import configure_threads
from forecaster.ui.state import Selection

configure_threads(1)


def trained(frame: pd.DataFrame, dropout: float = 0.1, patience: int = 10):
    dataset = Dataset(frame=frame, name="syn", source="test", target="y", freq="D", unit="°C")
    config = ForecasterConfig(data=DataConfig(target="y", window=10), model=ModelConfig(units=8, layers=1, dropout=dropout),
                              train=TrainConfig(epochs=1, seed=0, patience=patience))
    model = LSTMForecaster(config).fit(dataset)
    return model, evaluate(model, unit=dataset.unit), Selection(dataset=dataset, target="y")


def titles(at: AppTest) -> list[str]:
    out = []
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec)["layout"].get("title", {})
        out.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return out


def interval_table(at: AppTest) -> pd.DataFrame:
    [table] = [t for t in at.table if "Coverage on test" in t.value.columns]
    return table.value


def test_results_show_intervals_significance_and_residual_tests(synthetic_series):
    model, evaluation, selection = result = trained(synthetic_series)
    at = open_page("pages/results.py", result=result, selection=selection)
    assert not at.error
    subheaders = [s.value for s in at.subheader]
    assert "Prediction intervals" in subheaders and "Backtest" in subheaders
    info = " ".join(i.value for i in at.info)
    assert "Is the difference real?" in info and "naive forecast" in info and "Diebold–Mariano" in info
    assert any("Ljung–Box" in m.value for m in at.markdown)
    assert "Autocorrelation of the LSTM's one-step errors" in titles(at)
    assert any(t.startswith("Test forecasts with conformal bands") for t in titles(at))

    table = interval_table(at)
    assert list(table["Nominal level"]) == ["80%", "95%", "80%", "95%"]
    conformal = table[table["Method"] == "Conformal (validation residuals)"]
    assert all(value.endswith("%") for value in conformal["Coverage on test"])
    mc = list(table[table["Method"] == "Monte Carlo dropout"]["Coverage on test"])
    assert all(v.endswith("%") for v in mc) or mc == ["unavailable", "unavailable"]  # unavailable: kept its start
    assert set(table["Method"]) == {"Conformal (validation residuals)", "Monte Carlo dropout"}

    levels = at.multiselect(key="_w_interval_levels")
    levels.set_value([0.9]).run()
    assert not at.exception
    assert list(interval_table(at)["Nominal level"]) == ["90%", "90%"]
    band_chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                      if "conformal bands" in json.dumps(json.loads(c.proto.spec)["layout"].get("title", "")))
    assert "90% band" in [trace.get("name") for trace in band_chart["data"]]


def test_intervals_say_mc_dropout_is_unavailable_without_dropout(synthetic_series):
    model, evaluation, selection = result = trained(synthetic_series, dropout=0.0)
    at = open_page("pages/results.py", result=result, selection=selection)
    assert not at.exception
    table = interval_table(at)
    mc = table[table["Method"] == "Monte Carlo dropout"]
    assert list(mc["Coverage on test"]) == ["unavailable", "unavailable"]
    assert any("without dropout" in c.value for c in at.caption)


def test_backtest_runs_in_the_background_and_draws_folds(synthetic_series):
    model, evaluation, selection = result = trained(synthetic_series)
    at = open_page("pages/results.py", result=result, selection=selection)
    job = start_backtest(at, folds=2, epochs=1)
    assert job.folds == 2 and job.config.train.epochs == 1
    assert job.wait(120) and job.status == "done", job.error
    at.run()
    assert not at.exception and not at.error
    assert any("beat the naive forecast" in i.value for i in at.info)
    assert "MAE per fold of the walk-forward backtest" in titles(at)
    summary = next(t.value for t in at.table if "Beat naive in" in t.value.columns)
    model = evaluation.labels["lstm"]
    assert model in summary.index and summary.loc[model, "Beat naive in"].endswith("of 2 folds")
    at.radio(key="_w_backtest_metric").set_value("rmse").run()
    assert "RMSE per fold of the walk-forward backtest" in titles(at)


def test_backtest_stop_keeps_finished_folds(synthetic_series):
    model, evaluation, selection = result = trained(synthetic_series, patience=0)  # no early stop: a long run
    at = open_page("pages/results.py", result=result, selection=selection)
    job = start_backtest(at, epochs=1000)
    assert job.running
    job.stop()
    assert job.wait(120)
    assert job.status == "stopped" and job.result.stopped
    at.run()
    assert not at.exception


def test_forecast_page_draws_and_exports_bands(synthetic_series):
    result = trained(synthetic_series)
    at = open_page("pages/forecast.py", result=result)
    [figure] = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    names = [trace.get("name") for trace in figure["data"]]
    assert "80% band" in names and "95% band" in names
    assert names.index("95% band") < names.index("forecast")  # bands underneath the line
    levels = at.multiselect(key="_w_forecast_levels")
    levels.set_value([0.9]).run()
    assert not at.exception
    [table] = [e for e in at.expander if e.label == "Forecast values"][0].dataframe
    assert list(table.value.columns) == ["y", "lower_90", "upper_90"]
    levels.set_value([]).run()
    [table] = [e for e in at.expander if e.label == "Forecast values"][0].dataframe
    assert list(table.value.columns) == ["y"]


def test_downloaded_model_keeps_its_bands(synthetic_series):
    model, evaluation, selection = trained(synthetic_series)
    at = open_page("pages/forecast.py", result=(model, evaluation, selection))
    payload = at.session_state["model_bytes"][-1]  # per_model keeps (objects, key, value)
    loaded = LSTMForecaster.from_bytes(payload)
    at = open_page("pages/forecast.py", result=(loaded, None, None))
    assert not at.exception
    [table] = [e for e in at.expander if e.label == "Forecast values"][0].dataframe
    assert "lower_80" in table.value.columns
