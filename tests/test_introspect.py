"""Tests for forecaster.introspect: replayed gates match the real modules, integrated gradients are complete."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster import cli
from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.errors import DataError
from forecaster.estimator import LSTMForecaster
from forecaster.introspect import (
    GRU_QUANTITIES,
    LSTM_QUANTITIES,
    SIGMOID_GATES,
    inspect_window,
    integrated_gradients,
    origin_dates,
    origin_for_date,
    save_arrays,
    summarise,
    trace_states,
    training_mean,
    unit_order,
    window_at,
)
from forecaster.model import RecurrentNet
from forecaster.training import configure_threads

configure_threads(1)

CELL_LAYERS = [(cell, layers) for cell in ("lstm", "gru", "peephole") for layers in (1, 2)]


def network(cell: str, layers: int, n_inputs: int = 3, horizon: int = 2, units: int = 8) -> RecurrentNet:
    """An untrained network with random, not tiny, weights (and non-zero peepholes), in training mode."""
    torch.manual_seed(1)
    net = RecurrentNet(n_inputs, horizon, ModelConfig(cell=cell, layers=layers, units=units, dropout=0.3))
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.uniform_(-0.8, 0.8)  # peephole vectors start at zero; make them matter
    return net.train()


def window(steps: int = 12, features: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.5, (steps, features))


@pytest.mark.parametrize("cell,layers", CELL_LAYERS)
def test_recomputed_states_match_the_module(cell, layers):
    net = network(cell, layers)
    trace = trace_states(net, window())
    assert trace.state_match_max_abs_error < 1e-5
    assert net.training, "tracing must leave the network's mode as it was"
    assert trace.cell == cell


@pytest.mark.parametrize("cell,layers", CELL_LAYERS)
def test_trace_shapes_and_gate_ranges(cell, layers):
    trace = trace_states(network(cell, layers, units=6), window(steps=9))
    expected = GRU_QUANTITIES if cell == "gru" else LSTM_QUANTITIES
    assert trace.names == expected
    for name in expected:
        assert trace[name].shape == (layers, 9, 6), name
        assert np.all(np.isfinite(trace[name]))
    for name in set(expected) & set(SIGMOID_GATES):
        assert np.all((trace[name] > 0) & (trace[name] < 1)), name
    for name in ("candidate", "hidden"):
        assert np.all(np.abs(trace[name]) < 1), name


def test_top_hidden_state_is_what_the_head_reads():
    net = network("lstm", 2).eval()
    x = window()
    trace = trace_states(net, x)
    with torch.no_grad():
        expected = net.head(torch.as_tensor(trace["hidden"][-1, -1], dtype=torch.float32))
        expected = expected + torch.as_tensor(x[-1, 0], dtype=torch.float32)  # residual on column 0
        actual = net(torch.as_tensor(x, dtype=torch.float32)[None])[0]
    assert torch.allclose(expected, actual, atol=1e-5)


def test_wrong_equations_would_be_caught():
    """The check is not vacuous: a network whose weights changed after the replay read them disagrees."""
    net = network("gru", 1)
    trace = trace_states(net, window())
    with torch.no_grad():
        net.rnn.weight_hh_l0.add_(0.5)
    retraced = trace_states(net, window())
    assert np.abs(retraced["hidden"] - trace["hidden"]).max() > 1e-2
    assert retraced.state_match_max_abs_error < 1e-5


def test_lstm_forget_gate_follows_its_bias():
    net = network("lstm", 1)
    with torch.no_grad():
        units = net.rnn.hidden_size
        net.rnn.bias_ih_l0[units:2 * units] = 20.0  # forget gate pinned open: the unit keeps its memory
    trace = trace_states(net, window())
    assert trace["forget"].min() > 0.999
    assert "mean forget gate 1.00" in summarise(trace)


def test_rejects_a_window_that_is_not_two_dimensional():
    with pytest.raises(DataError, match="time, features"):
        trace_states(network("lstm", 1), np.zeros((1, 5, 3)))


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
def test_integrated_gradients_are_complete(cell):
    net = network(cell, 2)
    baseline = np.array([0.1, -0.2, 0.05])
    attribution = integrated_gradients(net, window(), baseline, steps=128)
    assert attribution.values.shape == (12, 3)
    difference = attribution.output - attribution.baseline_output
    assert abs(difference) > 1e-3, "a meaningful test needs the forecast to move"
    assert attribution.completeness_error == pytest.approx(abs(attribution.values.sum() - difference))
    assert attribution.completeness_error < 1e-3
    assert net.training


def test_integrated_gradients_of_a_later_step_and_a_zero_path():
    net = network("lstm", 1)
    x = window()
    attribution = integrated_gradients(net, x, x, steps=8, step=1)
    assert np.allclose(attribution.values, 0.0) and attribution.completeness_error < 1e-6
    with torch.no_grad():
        expected = float(net.eval()(torch.as_tensor(x, dtype=torch.float32)[None])[0, 1])
    assert attribution.output == pytest.approx(expected, abs=1e-6)


def test_unit_order_puts_the_busiest_units_first():
    trace = trace_states(network("lstm", 1), window())
    order = unit_order(trace, 0)
    change = np.abs(np.diff(trace["cell"][0], axis=0)).sum(axis=0)
    assert sorted(order.tolist()) == list(range(8))
    assert np.all(np.diff(change[order]) <= 0)


# ---------------------------------------------------------------- a fitted model

@pytest.fixture(scope="module")
def fitted() -> LSTMForecaster:
    t = np.arange(400, dtype="float64")
    frame = pd.DataFrame({"y": 10 + 3 * np.sin(2 * np.pi * t / 30) + np.random.default_rng(0).normal(0, .3, 400),
                          "x": np.cos(2 * np.pi * t / 30)},
                         index=pd.date_range("2020-01-01", periods=400, freq="D", name="date"))
    config = ForecasterConfig(data=DataConfig(target="y", features=("x",), window=10),
                              model=ModelConfig(units=8, layers=1), train=TrainConfig(epochs=2, seed=0))
    return LSTMForecaster(config).fit(frame)


def test_window_selection_by_date(fitted):
    prepared = fitted.prepared_
    dates = origin_dates(prepared)
    assert origin_for_date(prepared) == prepared.test_origins[-1]
    assert origin_for_date(prepared, dates[5]) == prepared.test_origins[5]
    between = dates[5] + pd.Timedelta(hours=12)  # not a test origin: the one before it
    assert origin_for_date(prepared, between) == prepared.test_origins[5]
    assert origin_for_date(prepared, "2099-01-01") == prepared.test_origins[-1]
    with pytest.raises(DataError, match="before the test part"):
        origin_for_date(prepared, "2019-01-01")
    with pytest.raises(DataError, match="not a date"):
        origin_for_date(prepared, "soon")


def test_window_at_reads_the_scaled_inputs(fitted):
    prepared = fitted.prepared_
    origin = int(prepared.test_origins[3])
    values = window_at(fitted, prepared, origin)
    assert values.shape == (10, 2)
    assert np.allclose(values, prepared.inputs[origin - 9:origin + 1])


def test_inspect_window_of_a_fitted_model(fitted):
    prepared = fitted.prepared_
    inspection = inspect_window(fitted, date=origin_dates(prepared)[2], ig_steps=128)
    assert inspection.origin == prepared.test_origins[2]
    assert inspection.window_end == origin_dates(prepared)[2]
    assert list(inspection.window_frame.columns) == ["y", "x"] and len(inspection.window_frame) == 10
    assert inspection.trace.state_match_max_abs_error < 1e-5
    assert inspection.attribution.completeness_error < 1e-3
    mean = training_mean(prepared)
    assert np.allclose(inspection.attribution.baseline, np.broadcast_to(mean, (10, 2)))
    assert np.allclose(mean, prepared.inputs[:prepared.train_end].mean(axis=0), atol=1e-6)
    payload = inspection.to_dict()
    assert set(payload["attribution_by_feature"]) == {"y", "x"}
    json.dumps(payload)


def test_loaded_model_needs_its_data(fitted, tmp_path):
    loaded = LSTMForecaster.load(fitted.save(tmp_path / "m"))
    with pytest.raises(DataError, match="without its data"):
        inspect_window(loaded)
    same = inspect_window(loaded, loaded.prepare(fitted.prepared_.frame))
    assert np.allclose(same.trace["hidden"], inspect_window(fitted).trace["hidden"], atol=1e-6)


def test_save_arrays(fitted, tmp_path):
    written = save_arrays(inspect_window(fitted, ig_steps=4), tmp_path / "arrays")
    names = {Path(p).name for p in written}
    assert names == {f"{q}.npy" for q in LSTM_QUANTITIES} | {"attribution.npy", "window.npy"}
    assert np.load(tmp_path / "arrays" / "forget.npy").shape == (1, 10, 8)
    assert np.load(tmp_path / "arrays" / "attribution.npy").shape == (10, 2)


# ---------------------------------------------------------------- the command line

@pytest.fixture(scope="module")
def saved_model(fitted, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("inspect")
    csv = folder / "series.csv"
    fitted.prepared_.frame.to_csv(csv, index_label="date")
    return fitted.save(folder / "model"), csv


def test_cli_inspect_json(saved_model, capsys):
    model_dir, csv = saved_model
    assert cli.main(["inspect", "--model", str(model_dir), "--data", str(csv), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {"state_match_max_abs_error", "attribution_completeness_error", "summary", "window_end"} <= set(payload)
    assert payload["state_match_max_abs_error"] < 1e-5
    assert payload["attribution_completeness_error"] < 1e-3
    assert "forget gate" in payload["summary"]


def test_cli_inspect_window_end_and_out(saved_model, capsys, tmp_path):
    model_dir, csv = saved_model
    out = tmp_path / "arrays"
    code = cli.main(["inspect", "--model", str(model_dir), "--data", str(csv), "--window-end", "2020-12-25",
                     "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "Window 2020-12-16 00:00:00 to 2020-12-25 00:00:00" in text
    assert "state_match_max_abs_error" in text and "attribution_completeness_error" in text
    assert (out / "hidden.npy").is_file() and (out / "attribution.npy").is_file()


def test_cli_inspect_date_before_the_test_part(saved_model, capsys):
    model_dir, csv = saved_model
    assert cli.main(["inspect", "--model", str(model_dir), "--data", str(csv), "--window-end", "2019-01-01"]) == 2
    assert "before the test part" in capsys.readouterr().err


def test_a_forecast_splits_into_the_skip_and_the_recurrent_part(synthetic_series):
    """Inside the LSTM explains the linear skip's share: the two parts add up to the forecast in original units."""
    from forecaster.config import DataConfig, ForecasterConfig, TrainConfig
    from forecaster.estimator import LSTMForecaster
    from forecaster.introspect import inspect_window

    config = ForecasterConfig(data=DataConfig(target="y", window=10, horizon=2), model=ModelConfig(units=8),
                              train=TrainConfig(epochs=2, seed=0))
    model = LSTMForecaster(config).fit(synthetic_series)
    inspection = inspect_window(model)
    parts = inspection.parts
    forecast = model.predict_origins(model.prepared_, [inspection.origin])[0, 0]
    assert parts.base_name == f"linear skip (set to {model.skip_start_})"
    assert parts.base + parts.recurrent == pytest.approx(forecast, abs=1e-4)
    assert inspection.trace.state_match_max_abs_error < 1e-5  # the relative inputs are replayed too
    assert "linear skip" in parts.sentence("m") and inspection.to_dict()["forecast_parts"]["base_forecast"] == parts.base


def test_a_calendar_model_is_traced_and_attributed_with_its_calendar_columns(synthetic_series):
    config = ForecasterConfig(data=DataConfig(target="y", features=("x",), window=10, calendar=True),
                              model=ModelConfig(units=8, skip=False), train=TrainConfig(epochs=2, seed=0))
    model = LSTMForecaster(config).fit(synthetic_series)
    inspection = inspect_window(model, ig_steps=128)
    assert inspection.columns == ["y", "x", "dow_sin", "dow_cos"]
    assert list(inspection.window_frame.columns) == ["y", "x"]  # the picture's window: data columns in their units
    assert inspection.window.shape == (10, 4) and inspection.attribution.values.shape == (10, 4)
    assert inspection.trace.state_match_max_abs_error < 1e-5
    assert inspection.attribution.completeness_error < 1e-3
    assert np.abs(inspection.attribution.values[:, 2:]).sum() > 0  # the calendar moved the forecast
    by_feature = inspection.to_dict()["attribution_by_feature"]
    assert list(by_feature) == inspection.columns
    np.testing.assert_allclose(sum(by_feature.values()),
                               inspection.attribution.output - inspection.attribution.baseline_output, atol=1e-3)
