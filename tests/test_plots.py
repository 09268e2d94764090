"""Tests for forecaster.plots: downsampling, points per trace on long series, trace names, axis ranges, heatmap scales."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from forecaster.plots import (
    MAX_POINTS,
    MODEL_COLOURS,
    acf_figure,
    backtest_figure,
    downsample,
    forecast_bands_figure,
    forecast_figure,
    interval_figure,
    loss_figure,
    per_step_figure,
    predictions_figure,
    residual_histogram,
    residuals_figure,
    runs_loss_figure,
    runs_overlay_figure,
    series_figure,
    tuning_figure,
)
from forecaster.plots_inside import cell_comparison_figure, inside_figure

LONG = 50_000


@pytest.fixture(scope="module")
def long_index() -> pd.DatetimeIndex:
    return pd.date_range("2018-01-01", periods=LONG, freq="h", name="time")


@pytest.fixture(scope="module")
def long_noise(long_index) -> pd.Series:
    return pd.Series(np.random.default_rng(7).normal(size=LONG), index=long_index, name="load")


@pytest.fixture(scope="module")
def long_predictions(long_index) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    actual = np.sin(np.arange(LONG) / 50.0) + rng.normal(0.0, 0.1, LONG)
    return pd.DataFrame({"actual": actual, "lstm": actual + rng.normal(0.0, 0.2, LONG),
                         "naive": np.roll(actual, 1), "drift": actual + 0.3}, index=long_index)


def traces_by_name(fig: go.Figure) -> dict[str, object]:
    return {trace.name: trace for trace in fig.data}


def assert_few_points(fig: go.Figure) -> None:
    for trace in fig.data:
        assert len(trace.x) <= MAX_POINTS, f"{trace.name} sends {len(trace.x)} points"
        assert len(trace.y) == len(trace.x)


def trials_table(states: list[str], losses: list[float], first: int = 0) -> pd.DataFrame:
    index = pd.Index(range(first, first + len(states)), name="Trial")
    return pd.DataFrame({"State": states, "Validation loss": losses}, index=index)


# ---------------------------------------------------------------- downsample

def test_downsample_leaves_a_short_series_untouched(synthetic_series):
    series = synthetic_series["y"]
    result = downsample(series, max_points=len(series))
    pd.testing.assert_series_equal(result, series)
    pd.testing.assert_series_equal(downsample(series), series)


def test_downsample_caps_the_points_with_sorted_original_values(long_noise):
    for max_points in (MAX_POINTS, 1000, 101):
        result = downsample(long_noise, max_points)
        assert 0.9 * max_points <= len(result) <= max_points
        assert result.index.is_monotonic_increasing and result.index.is_unique
        pd.testing.assert_series_equal(result, long_noise.loc[result.index])


def test_downsample_keeps_the_peaks_of_every_bucket(long_index):
    values = np.zeros(LONG)
    spikes = {1234: 50.0, 20_000: -40.0, 33_333: 25.0, 49_000: -60.0}
    for position, value in spikes.items():
        values[position] = value
    result = downsample(pd.Series(values, index=long_index), 1000)
    for position, value in spikes.items():
        assert result.loc[long_index[position]] == value
    assert result.max() == 50.0 and result.min() == -60.0


def test_downsample_keeps_the_global_extremes_of_noise(long_noise):
    result = downsample(long_noise, 500)
    assert result.max() == long_noise.max() and result.min() == long_noise.min()
    assert result.idxmax() == long_noise.idxmax() and result.idxmin() == long_noise.idxmin()


def test_downsample_of_a_monotonic_series_keeps_both_ends(long_index):
    series = pd.Series(np.arange(LONG, dtype=float), index=long_index)
    result = downsample(series, 1000)
    assert result.index[0] == long_index[0] and result.index[-1] == long_index[-1]


def test_downsample_keeps_the_first_and_last_timestamps(long_noise):
    result = downsample(long_noise)
    assert result.index[0] == long_noise.index[0]
    assert result.index[-1] == long_noise.index[-1]


def test_downsample_skips_missing_values_and_still_caps(long_noise):
    holed = long_noise.copy()
    holed.iloc[::5] = np.nan
    result = downsample(holed, 1000)
    assert len(result) <= 1000
    assert result.notna().all()
    assert result.max() == holed.max() and result.min() == holed.min()


# ---------------------------------------------------------------- long series in figures

def test_series_figure_downsamples_target_and_features(long_index, long_noise):
    frame = pd.DataFrame({"load": long_noise, "temperature": np.cos(np.arange(LONG) / 24.0)}, index=long_index)
    parts = [("train", long_index[0], long_index[34_999]), ("validation", long_index[35_000], long_index[42_499]),
             ("test", long_index[42_500], long_index[-1])]
    fig = series_figure(frame, "load", unit="MW", parts=parts, features=["temperature"])
    assert [t.name for t in fig.data] == ["load", "temperature"]
    assert_few_points(fig)
    assert fig.data[1].yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
    assert [s.x0 for s in fig.layout.shapes] == [p[1] for p in parts]
    assert [a.text for a in fig.layout.annotations] == ["train", "validation", "test"]
    assert fig.layout.yaxis.title.text == "load (MW)"


def test_series_figure_without_features_has_no_second_axis(synthetic_series):
    fig = series_figure(synthetic_series, "y")
    assert [t.name for t in fig.data] == ["y"]
    assert len(fig.data[0].x) == len(synthetic_series)
    assert "yaxis2" not in fig.layout.to_plotly_json()


def test_predictions_figure_draws_actual_then_chosen_models_downsampled(long_predictions):
    labels = {"lstm": "LSTM", "naive": "Naive", "drift": "Drift"}
    fig = predictions_figure(long_predictions, labels, shown=["lstm", "naive", "missing", "actual"])
    assert [t.name for t in fig.data] == ["Actual", "LSTM", "Naive"]
    assert_few_points(fig)
    assert fig.data[1].line.color == MODEL_COLOURS["lstm"]


def test_residuals_figure_plots_actual_minus_lstm_downsampled(long_predictions):
    fig = residuals_figure(long_predictions)
    assert_few_points(fig)
    residual = long_predictions["actual"] - long_predictions["lstm"]
    drawn = pd.Series(fig.data[0].y, index=pd.DatetimeIndex(fig.data[0].x))
    np.testing.assert_allclose(drawn.to_numpy(), residual.loc[drawn.index].to_numpy())
    assert drawn.max() == residual.max() and drawn.min() == residual.min()


def test_runs_overlay_figure_downsamples_every_run_and_skips_gaps(long_predictions):
    frame = long_predictions[["actual", "naive"]].assign(**{"run a": long_predictions["lstm"],
                                                            "run b": long_predictions["drift"]})
    frame.iloc[:1000, frame.columns.get_loc("run b")] = np.nan
    fig = runs_overlay_figure(frame)
    assert [t.name for t in fig.data] == ["Actual", "Naive (last value)", "run a", "run b"]
    assert_few_points(fig)
    assert all(np.isfinite(np.asarray(t.y, dtype=float)).all() for t in fig.data)
    assert fig.data[2].line.color != fig.data[3].line.color


def test_forecast_figure_shows_at_most_history_points(synthetic_series):
    history = synthetic_series["y"]
    forecast = pd.Series([1.0, 2.0, 3.0], index=pd.date_range(history.index[-1] + pd.Timedelta(days=1), periods=3))
    fig = forecast_figure(history, forecast, history_points=50)
    past, ahead = traces_by_name(fig)["history"], traces_by_name(fig)["forecast"]
    assert len(past.x) == 50
    assert pd.Timestamp(past.x[0]) == history.index[-50] and pd.Timestamp(past.x[-1]) == history.index[-1]
    assert len(ahead.x) == 4
    assert pd.Timestamp(ahead.x[0]) == history.index[-1] and ahead.y[0] == history.iloc[-1]
    assert list(ahead.y[1:]) == [1.0, 2.0, 3.0]
    assert "next 3 steps" in fig.layout.title.text
    assert len(traces_by_name(forecast_figure(history, forecast, history_points=0))["history"].x) == 0


def test_forecast_figure_with_a_long_history_stays_under_the_cap(long_noise):
    forecast = pd.Series(np.zeros(24), index=pd.date_range(long_noise.index[-1] + pd.Timedelta(hours=1),
                                                           periods=24, freq="h"))
    fig = forecast_figure(long_noise, forecast, history_points=LONG)
    assert_few_points(fig)


def test_interval_figure_sends_at_most_max_points_per_trace(long_index, long_predictions):
    test_part = slice(-(MAX_POINTS + 1000), None)
    actual = long_predictions["actual"].to_numpy()[test_part]
    point = long_predictions["lstm"].to_numpy()[test_part]
    fig = interval_figure(long_index[test_part], actual, point, {"90% band": (point - 1.0, point + 1.0)})
    assert_few_points(fig)
    xs = [tuple(trace.x) for trace in fig.data]
    assert len(set(xs)) == 1  # bands and lines share their positions, so every band stays under its line
    upper, lower, shown_actual, shown_point = (np.asarray(trace.y, dtype=float) for trace in fig.data)
    np.testing.assert_allclose(upper - shown_point, 1.0)
    np.testing.assert_allclose(shown_point - lower, 1.0)
    assert shown_actual.max() == actual.max() and shown_actual.min() == actual.min()
    assert shown_point.max() == point.max() and shown_point.min() == point.min()
    assert xs[0][0] == long_index[test_part][0] and xs[0][-1] == long_index[test_part][-1]


# ---------------------------------------------------------------- intervals and bands

def test_interval_figure_draws_bands_widest_first_under_the_lines(synthetic_series):
    index = synthetic_series.index[-30:]
    actual = synthetic_series["y"].to_numpy()[-30:]
    point = actual + 0.1
    bands = {"50% band": (point - 0.5, point + 0.5), "90% band": (point - 2.0, point + 2.0)}
    fig = interval_figure(index, actual, point, bands)
    assert [t.name for t in fig.data] == ["90% band upper", "90% band", "50% band upper", "50% band",
                                          "Actual", "LSTM"]
    wide_upper, wide_lower = fig.data[0], fig.data[1]
    np.testing.assert_allclose(wide_upper.y, point + 2.0)
    np.testing.assert_allclose(wide_lower.y, point - 2.0)
    assert wide_lower.fill == "tonexty" and wide_upper.showlegend is False
    np.testing.assert_allclose(traces_by_name(fig)["Actual"].y, actual)


def test_forecast_bands_figure_puts_bands_under_history_and_forecast(synthetic_series):
    history = synthetic_series["y"]
    index = pd.date_range(history.index[-1] + pd.Timedelta(days=1), periods=5)
    forecast = pd.DataFrame({"y": np.arange(5.0), "lower_80": np.arange(5.0) - 1, "upper_80": np.arange(5.0) + 1,
                             "lower_95": np.arange(5.0) - 3, "upper_95": np.arange(5.0) + 3,
                             "lower_50": np.arange(5.0) - 0.5}, index=index)
    fig = forecast_bands_figure(history, forecast, "y", history_points=100)
    assert [t.name for t in fig.data] == ["95% band upper", "95% band", "80% band upper", "80% band",
                                          "history", "forecast"]
    assert len(traces_by_name(fig)["history"].x) == 100


def test_forecast_bands_figure_without_bands_is_the_forecast_figure(synthetic_series):
    history = synthetic_series["y"]
    forecast = pd.DataFrame({"y": [1.0, 2.0]}, index=pd.date_range(history.index[-1] + pd.Timedelta(days=1),
                                                                   periods=2))
    fig = forecast_bands_figure(history, forecast, "y")
    assert [t.name for t in fig.data] == ["history", "forecast"]


# ---------------------------------------------------------------- losses, steps, folds, cells

def test_loss_figure_marks_the_kept_epoch():
    fig = loss_figure([1.0, 0.6, 0.4, 0.35], [1.1, 0.7, 0.5, 0.55], best_epoch=3)
    assert [t.name for t in fig.data] == ["train loss", "validation loss"]
    assert list(fig.data[0].x) == [1, 2, 3, 4] and list(fig.data[1].y) == [1.1, 0.7, 0.5, 0.55]
    assert len(fig.layout.shapes) == 1
    assert fig.layout.shapes[0].x0 == 3 and fig.layout.shapes[0].x1 == 3
    assert "epoch 3" in fig.layout.annotations[0].text


def test_loss_figure_without_a_best_epoch_marks_nothing():
    fig = loss_figure([1.0, 0.5], [1.2, 0.6])
    assert len(fig.layout.shapes) == 0 and len(fig.layout.annotations) == 0


def test_runs_loss_figure_pairs_validation_and_training_per_run():
    fig = runs_loss_figure({"a": ([1.0, 0.5], [1.2, 0.6]), "b": ([2.0, 1.0, 0.8], [2.1, 1.1, 0.9])})
    assert [t.name for t in fig.data] == ["a validation", "a training", "b validation", "b training"]
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert fig.data[1].showlegend is False and fig.data[1].line.dash == "dot"
    assert list(fig.data[2].x) == [1, 2, 3] and list(fig.data[3].y) == [2.0, 1.0, 0.8]


def test_per_step_figure_draws_the_chosen_metric_per_step():
    per_step = {"lstm": [{"mae": 1.0, "rmse": 1.5}, {"mae": 2.0, "rmse": 2.5}, {"mae": 3.0, "rmse": 3.5}],
                "naive": [{"mae": 1.5, "rmse": 2.0}, {"mae": 2.5, "rmse": 3.0}, {"mae": 3.5, "rmse": 4.0}]}
    fig = per_step_figure(per_step, {"lstm": "LSTM"}, metric="rmse")
    assert [t.name for t in fig.data] == ["naive", "LSTM"]  # the LSTM drawn last, on top
    assert list(fig.data[1].x) == [1, 2, 3] and list(fig.data[1].y) == [1.5, 2.5, 3.5]
    assert "RMSE" in fig.layout.title.text


def test_backtest_figure_draws_one_line_per_shown_model():
    frame = pd.DataFrame({"lstm": [1.0, 1.2, 0.9], "naive": [1.5, 1.6, 1.4], "drift": [2.0, 2.1, 1.9]},
                         index=pd.Index([1, 2, 3], name="fold"))
    labels = {"lstm": "LSTM", "naive": "Naive", "drift": "Drift"}
    everything = backtest_figure(frame, labels)
    assert [t.name for t in everything.data] == ["LSTM", "Naive", "Drift"]
    assert list(everything.data[0].x) == [1, 2, 3] and list(everything.data[1].y) == [1.5, 1.6, 1.4]
    chosen = backtest_figure(frame, labels, metric="RMSE", shown=["drift", "unknown", "lstm"])
    assert [t.name for t in chosen.data] == ["Drift", "LSTM"]
    assert chosen.layout.title.text.startswith("RMSE")


def test_cell_comparison_figure_draws_mae_and_seconds_with_a_naive_line():
    frame = pd.DataFrame({"MAE": [0.5, 0.6], "Seconds": [10.0, 7.0], "Naive MAE": [0.9, 0.9]},
                         index=["LSTM", "GRU"])
    fig = cell_comparison_figure(frame)
    assert len(fig.data) == 2
    assert list(fig.data[0].x) == ["LSTM", "GRU"] and list(fig.data[0].y) == [0.5, 0.6]
    assert list(fig.data[1].y) == [10.0, 7.0]
    assert [s.y0 for s in fig.layout.shapes] == [0.9]
    without_naive = cell_comparison_figure(frame.drop(columns="Naive MAE"))
    assert len(without_naive.layout.shapes) == 0


def test_residual_histogram_has_one_histogram_per_available_model(synthetic_series):
    frame = pd.DataFrame({"actual": synthetic_series["y"], "lstm": synthetic_series["y"] - 0.5,
                          "naive": synthetic_series["y"].shift(1)})
    fig = residual_histogram(frame)
    assert [t.name for t in fig.data] == ["LSTM", "Naive"]
    np.testing.assert_allclose(fig.data[0].x, 0.5)
    only_lstm = residual_histogram(frame.drop(columns="naive"))
    assert [t.name for t in only_lstm.data] == ["LSTM"]


def test_acf_figure_flags_lags_outside_the_band_and_fits_the_range():
    acf = [0.5, -0.05, 0.1, -0.3]
    fig = acf_figure(acf, band=0.2)
    assert list(fig.data[0].x) == [1, 2, 3, 4]
    flagged = [colour == "#d62728" for colour in fig.data[0].marker.color]
    assert flagged == [True, False, False, True]
    assert sorted(s.y0 for s in fig.layout.shapes) == [-0.2, 0.2]
    low, high = fig.layout.yaxis.range
    assert low == -high and high >= 0.5


def test_acf_figure_range_is_at_least_three_bands_wide():
    fig = acf_figure([0.01, -0.02], band=0.1)
    assert fig.layout.yaxis.range[1] == pytest.approx(0.3)


# ---------------------------------------------------------------- tuning

def test_tuning_figure_has_one_marker_trace_per_present_state():
    trials = trials_table(["complete", "pruned", "complete", "failed", "stopped", "complete"],
                          [0.5, 0.9, 0.3, np.nan, 0.7, 0.4])
    fig = tuning_figure(trials)
    markers = [t for t in fig.data if t.mode == "markers"]
    assert sorted(t.name for t in markers) == ["complete", "failed", "pruned", "stopped"]
    complete = traces_by_name(fig)["complete"]
    assert list(complete.x) == [0, 2, 5] and list(complete.y) == [0.5, 0.3, 0.4]
    assert list(traces_by_name(fig)["pruned"].x) == [1]


def test_tuning_figure_leaves_out_states_that_did_not_occur():
    fig = tuning_figure(trials_table(["complete", "complete"], [0.5, 0.4]))
    assert [t.name for t in fig.data] == ["complete", "best so far"]


def test_tuning_figure_best_so_far_is_the_running_minimum_of_complete_trials():
    trials = trials_table(["complete", "pruned", "complete", "complete", "failed", "complete"],
                          [0.5, 0.1, 0.6, 0.3, np.nan, 0.4])
    best = traces_by_name(tuning_figure(trials))["best so far"]
    assert list(best.x) == [0, 2, 3, 5]
    assert list(best.y) == [0.5, 0.5, 0.3, 0.3]
    assert best.line.shape == "hv"


def test_tuning_figure_without_complete_trials_has_no_best_line():
    fig = tuning_figure(trials_table(["pruned", "failed"], [0.8, np.nan]))
    assert "best so far" not in traces_by_name(fig)


@pytest.mark.parametrize("loss", [0.42, 1e-4, 37.0])
def test_tuning_figure_single_trial_gets_an_explicit_non_negative_range(loss):
    fig = tuning_figure(trials_table(["complete"], [loss], first=3))
    low, high = fig.layout.yaxis.range
    assert 0.0 <= low < loss < high
    assert high - low <= loss
    assert tuple(fig.layout.xaxis.range) == (2.5, 3.5)


def test_tuning_figure_equal_losses_get_a_range_around_the_value():
    fig = tuning_figure(trials_table(["complete", "complete", "stopped"], [0.25, 0.25, 0.25], first=1))
    low, high = fig.layout.yaxis.range
    assert 0.0 <= low < 0.25 < high
    assert tuple(fig.layout.xaxis.range) == (0.5, 3.5)


def test_tuning_figure_negative_single_loss_range_surrounds_it():
    fig = tuning_figure(trials_table(["complete"], [-2.0]))
    low, high = fig.layout.yaxis.range
    assert low < -2.0 < high


def test_tuning_figure_range_holds_every_loss_and_stays_non_negative():
    losses = [0.02, 0.9, 0.35, np.nan, 0.05, 1.4]
    trials = trials_table(["complete", "pruned", "complete", "failed", "complete", "stopped"], losses, first=10)
    fig = tuning_figure(trials)
    low, high = fig.layout.yaxis.range
    finite = [v for v in losses if not math.isnan(v)]
    assert low >= 0.0
    assert low <= min(finite) and max(finite) < high
    assert tuple(fig.layout.xaxis.range) == (9.5, 15.5)


def test_tuning_figure_with_only_failed_trials_sets_no_range():
    fig = tuning_figure(trials_table(["failed", "failed"], [np.nan, np.nan]))
    assert fig.layout.yaxis.range is None


# ---------------------------------------------------------------- inside the LSTM

@pytest.fixture
def inside_inputs(synthetic_series):
    window = synthetic_series.iloc[:20]
    rng = np.random.default_rng(0)
    quantities = {"forget": rng.uniform(0.0, 1.0, (20, 8)), "cell": rng.normal(0.0, 3.0, (20, 8)),
                  "hidden": np.tanh(rng.normal(size=(20, 8)))}
    attribution = rng.normal(0.0, 0.2, (20, 2))
    return window, quantities, attribution


def test_inside_figure_colour_scales_fit_each_quantity(inside_inputs):
    window, quantities, attribution = inside_inputs
    units = [5, 0, 3]
    fig = inside_figure(window.index, window, quantities, units, attribution=attribution)
    heatmaps = {t.name: t for t in fig.data if isinstance(t, go.Heatmap)}
    assert list(heatmaps) == ["attribution", "Forget gate", "Cell state (memory)", "Hidden state"]
    assert (heatmaps["Forget gate"].zmin, heatmaps["Forget gate"].zmax) == (0.0, 1.0)
    assert (heatmaps["Hidden state"].zmin, heatmaps["Hidden state"].zmax) == (-1.0, 1.0)
    cell_bound = float(np.abs(quantities["cell"][:, units]).max())
    assert heatmaps["Cell state (memory)"].zmax == pytest.approx(cell_bound)
    assert heatmaps["Cell state (memory)"].zmin == pytest.approx(-cell_bound)
    attribution_bound = float(np.abs(attribution).max())
    assert heatmaps["attribution"].zmax == pytest.approx(attribution_bound)


def test_inside_figure_draws_units_in_the_given_order(inside_inputs):
    window, quantities, attribution = inside_inputs
    units = [5, 0, 3]
    fig = inside_figure(window.index, window, quantities, units, attribution=attribution)
    heatmaps = {t.name: t for t in fig.data if isinstance(t, go.Heatmap)}
    forget = heatmaps["Forget gate"]
    assert list(forget.y) == ["unit 5", "unit 0", "unit 3"]
    np.testing.assert_allclose(np.asarray(forget.z), quantities["forget"][:, units].T)
    assert list(heatmaps["attribution"].y) == ["y", "x"]
    np.testing.assert_allclose(np.asarray(heatmaps["attribution"].z), attribution.T)
    np.testing.assert_allclose(fig.data[0].y, window["y"].to_numpy())


def test_inside_figure_without_attribution_has_one_row_per_quantity(inside_inputs):
    window, quantities, _ = inside_inputs
    fig = inside_figure(window.index, window, {"forget": quantities["forget"]}, [0, 1])
    assert [type(t).__name__ for t in fig.data] == ["Scatter", "Heatmap"]
    assert fig.data[1].yaxis == "y2"
    assert sorted(k for k in fig.layout.to_plotly_json() if k.startswith("yaxis")) == ["yaxis", "yaxis2"]


def test_per_step_figure_keeps_naive_visible_under_a_baseline_with_the_same_errors():
    """Drift scoring like naive hid naive's line: naive is now a wide band below dashed, marked baselines."""
    same = [{"mae": 1.0}, {"mae": 2.0}]
    per_step = {"lstm": [{"mae": 0.5}, {"mae": 1.5}], "naive": same, "drift": same, "linear": same}
    fig = per_step_figure(per_step, {"lstm": "LSTM", "naive": "Naive", "drift": "Drift", "linear": "Ridge"})
    names = [trace.name for trace in fig.data]
    assert names[0] == "Naive" and names[-1] == "LSTM"
    naive, drift, linear = fig.data[0], fig.data[1], fig.data[2]
    assert naive.line.width > drift.line.width and naive.line.width > linear.line.width
    assert drift.line.dash and linear.line.dash and drift.line.dash != linear.line.dash
    assert drift.marker.symbol != linear.marker.symbol
