"""AppTest of the Inside the LSTM page and of Compare cells on the Train page."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pandas as pd
import pytest
from app_helpers import open_page
from streamlit.testing.v1 import AppTest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.introspect import origin_dates
from forecaster.training import configure_threads
from forecaster.ui.compare_job import CompareJob
from forecaster.ui.state import Selection

configure_threads(1)

PAGE = "pages/inside.py"
WAIT = 120


def tiny_config(cell: str = "lstm", layers: int = 1, epochs: int = 1) -> ForecasterConfig:
    return ForecasterConfig(data=DataConfig(target="y", features=("x",), window=10),
                            model=ModelConfig(cell=cell, units=8, layers=layers), train=TrainConfig(epochs=epochs, seed=0))


@pytest.fixture
def dataset(synthetic_series: pd.DataFrame) -> Dataset:
    return Dataset(frame=synthetic_series, name="syn", source="test", target="y", features=["x"], freq="D", unit="°C")


def trained(dataset: Dataset, cell: str = "lstm", layers: int = 1):
    model = LSTMForecaster(tiny_config(cell, layers)).fit(dataset)
    return model, evaluate(model, unit=dataset.unit), Selection(dataset=dataset, target="y", features=("x",))


def figure(at: AppTest) -> dict:
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def heatmap_names(spec: dict) -> list[str]:
    return [trace["name"] for trace in spec["data"] if trace["type"] == "heatmap"]


def array(value) -> np.ndarray:
    """A plotly array from a figure spec: a list, or {dtype, bdata, shape} (binary, as plotly 6 writes numpy)."""
    if isinstance(value, dict):
        shape = [int(n) for n in str(value.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.asarray(value)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_without_a_model_says_so():
    at = open_page(PAGE)
    assert any("No trained model" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_two_layer_lstm_shows_gates_cell_state_and_attribution(dataset):
    result = trained(dataset, "lstm", layers=2)
    at = open_page(PAGE, result=result, selection=result[2])
    assert not at.error
    spec = figure(at)
    assert heatmap_names(spec) == ["attribution", "Input gate", "Forget gate", "Output gate", "Candidate",
                                   "Cell state (memory)"]
    heatmaps = [t for t in spec["data"] if t["type"] == "heatmap"]
    assert len(heatmaps[0]["y"]) == 2 and len(heatmaps[0]["x"]) == 10  # columns y, x over 10 steps
    assert len(heatmaps[1]["y"]) == 8 and array(heatmaps[1]["z"]).shape == (8, 10)  # 8 units x 10 steps
    assert spec["data"][0]["type"] == "scatter"  # the input window above, on the same time axis
    assert float(metric(at, "Recomputed vs network")) < 1e-5
    assert float(metric(at, "Attribution check")) < 1e-3
    assert "forget gate near 1" in " ".join(m.value for m in at.markdown).lower() or \
           "near 1 the unit keeps its memory" in " ".join(m.value for m in at.markdown)
    last = origin_dates(result[0].prepared_)[-1]
    assert at.select_slider[0].value == f"{last:%Y-%m-%d}"
    assert [s.label for s in at.selectbox] == ["Layer"]
    at.selectbox[0].set_value(2).run()
    assert not at.exception
    assert "layer 2 of 2" in figure(at)["layout"]["title"]["text"]


def test_another_window_redraws_from_a_per_session_cache(dataset):
    result = trained(dataset)
    at = open_page(PAGE, result=result, selection=result[2])
    first = figure(at)
    options = at.select_slider[0].options
    started = time.perf_counter()
    at.select_slider[0].set_value(options[3]).run()
    seconds = time.perf_counter() - started
    assert not at.exception
    second = figure(at)
    assert second["data"][0]["x"] != first["data"][0]["x"]
    assert second["data"][0]["x"][-1].startswith(options[3])
    cache = at.session_state["_inside_cache"]
    assert cache["model"] is result[0] and len(cache["entries"]) == 2
    assert seconds < 10  # generous for a loaded CI machine; about a tenth of a second in practice


def test_units_can_be_sorted_or_left_in_order(dataset):
    result = trained(dataset)
    at = open_page(PAGE, result=result, selection=result[2])
    at.checkbox[0].set_value(False).run()
    labels = [t for t in figure(at)["data"] if t["type"] == "heatmap"][1]["y"]
    assert labels == [f"unit {u}" for u in range(8)]


def test_gru_shows_reset_and_update_gates(dataset):
    result = trained(dataset, "gru")
    at = open_page(PAGE, result=result, selection=result[2])
    assert heatmap_names(figure(at)) == ["attribution", "Reset gate", "Update gate", "Candidate", "Hidden state"]
    assert not at.selectbox  # one layer: no layer chooser


def test_a_loaded_model_is_inspected_on_the_session_data(dataset, tmp_path):
    model, _, selection = trained(dataset, "peephole")
    loaded = LSTMForecaster.load(model.save(tmp_path / "m"))
    at = open_page(PAGE, result=(loaded, None, None), selection=selection)
    assert not at.error
    assert "Cell state (memory)" in heatmap_names(figure(at))


def test_a_loaded_model_that_does_not_fit_the_data_says_so(dataset, tmp_path):
    model, _, _ = trained(dataset)
    loaded = LSTMForecaster.load(model.save(tmp_path / "m"))
    other = Dataset(frame=dataset.frame[["y"]], name="only y", source="test", target="y", freq="D")
    at = open_page(PAGE, result=(loaded, None, None), selection=Selection(dataset=other, target="y"))
    assert at.error and "does not fit the current data" in at.error[0].value
    assert not at.get("plotly_chart")


# ---------------------------------------------------------------- compare cells

def test_compare_job_trains_every_cell(dataset):
    job = CompareJob(config=tiny_config(epochs=1), dataset=dataset).start()
    assert job.wait(WAIT) and job.status == "done", job.error
    table = job.table()
    assert list(table.index) == ["LSTM", "GRU", "Peephole LSTM"]
    assert list(table.columns) == ["MAE", "RMSE", "Skill vs naive", "Epochs", "Seconds", "Naive MAE"]
    assert (table["Epochs"] == 1).all() and (table["Seconds"] >= 0).all() and (table["MAE"] > 0).all()
    assert [run.config.model.cell for run in job.runs.values()] == ["lstm", "gru", "peephole"]
    assert job.progress == 1.0


def test_compare_job_stops_and_skips_the_rest(dataset):
    job = CompareJob(config=tiny_config(epochs=50), dataset=dataset)
    job.stop()  # before it starts: nothing is trained
    job.start()
    assert job.wait(WAIT) and job.status == "stopped"
    assert len(job.table()) == 0


def test_compare_job_reports_a_failure(dataset):
    bad = tiny_config().replace(data={"window": 500})
    job = CompareJob(config=bad, dataset=dataset).start()
    assert job.wait(WAIT) and job.status == "failed"
    assert job.error.startswith("LSTM: ") and "too few" in job.error


def test_train_page_compares_cells(dataset):
    selection = Selection(dataset=dataset, target="y", features=("x",))
    at = open_page("pages/train.py", selection=selection)
    values = {"Window": 10, "Layers": 1, "Units": 8, "Max epochs": 1}
    for widget in [*at.number_input, *at.slider]:
        if widget.label in values:
            widget.set_value(values[widget.label])
    at.run()
    [compare] = [b for b in at.button if b.label == "Train LSTM, GRU and peephole"]
    compare.click().run()
    assert not at.exception and not at.error
    job = at.session_state["compare_job"]
    assert isinstance(job, CompareJob)
    assert job.wait(WAIT) and job.status == "done", job.error
    at.run()
    assert not at.exception
    frames = [f.value for f in at.dataframe]
    table = frames[-1]
    table = getattr(table, "data", table)
    assert list(table.index) == ["LSTM", "GRU", "Peephole LSTM"]
    assert {"MAE", "RMSE", "Skill vs naive", "Epochs", "Seconds"} <= set(table.columns)
    assert "result" not in at.session_state  # the comparison never replaces the session's model
