"""Tests for forecaster.evaluation: metrics for every model, alignment with the raw series, frames, verdict."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest

from forecaster.baselines import choose_season
from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.evaluation import LSTM, Evaluation, evaluate
from forecaster.forecaster import LSTMForecaster
from forecaster.metrics import compute_metrics
from forecaster.training import configure_threads

configure_threads(1)

MODELS = ["lstm", "naive", "seasonal_naive", "drift", "moving_average", "linear", "ets"]
METRICS = ["mae", "rmse", "mape", "smape", "r2", "mase", "direction"]


def _fit(frame: pd.DataFrame, **data) -> LSTMForecaster:
    config = ForecasterConfig(data=DataConfig(**{"target": "y", "window": 10, **data}),
                              model=ModelConfig(units=8, layers=1), train=TrainConfig(epochs=2))
    return LSTMForecaster(config).fit(frame)


@pytest.fixture
def evaluation(synthetic_series: pd.DataFrame) -> Evaluation:
    return evaluate(_fit(synthetic_series, horizon=2), unit="m")


def test_every_model_has_every_metric(evaluation: Evaluation) -> None:
    assert list(evaluation.metrics) == MODELS
    for name in MODELS:
        assert list(evaluation.metrics[name]) == METRICS
        assert all(isinstance(v, float) for v in evaluation.metrics[name].values())
        assert math.isfinite(evaluation.metrics[name]["mae"])
        assert evaluation.predictions[name].shape == evaluation.actual.shape
    assert evaluation.labels[LSTM] == "LSTM" and evaluation.unit == "m"
    # Daily data with a 30-day cycle: neither a weekly nor (with 600 days) a yearly one, so the default week.
    assert evaluation.season == 7
    assert evaluation.labels["seasonal_naive"] == "Seasonal naive (weekly, 7 days; no clear cycle found)"


def test_actual_values_are_the_raw_series_after_each_origin(synthetic_series: pd.DataFrame,
                                                              evaluation: Evaluation) -> None:
    raw = synthetic_series["y"].to_numpy()
    origins = evaluation.origins
    assert evaluation.horizon == 2
    np.testing.assert_array_equal(evaluation.actual[:, 0], raw[origins + 1])
    np.testing.assert_array_equal(evaluation.actual[:, 1], raw[origins + 2])
    np.testing.assert_array_equal(evaluation.last_levels, raw[origins])
    # The test part is the last 15% of the rows and runs to the end of the data.
    assert origins[0] + 1 == round(len(raw) * 0.85) and origins[-1] + 2 == len(raw) - 1


def test_metrics_match_a_direct_computation(synthetic_series: pd.DataFrame, evaluation: Evaluation) -> None:
    raw = synthetic_series["y"].to_numpy()
    train = raw[: round(len(raw) * 0.7)]
    for name, predictions in evaluation.predictions.items():
        expected = compute_metrics(evaluation.actual, predictions, raw[evaluation.origins], train)
        assert evaluation.metrics[name] == pytest.approx(expected, nan_ok=True)
    naive = evaluation.predictions["naive"]
    np.testing.assert_array_equal(naive, np.repeat(raw[evaluation.origins][:, None], 2, axis=1))


def test_metrics_frame_columns_and_rows(evaluation: Evaluation) -> None:
    frame = evaluation.metrics_frame()
    assert list(frame.columns[:2]) == ["MAE", "RMSE"] and len(frame.columns) == 7
    assert frame.index.name == "Model" and frame.index[0] == "LSTM" and len(frame) == 7
    assert frame.loc["LSTM", "MAE"] == evaluation.metrics["lstm"]["mae"]


def test_predictions_frame_is_indexed_by_forecast_time(synthetic_series: pd.DataFrame,
                                                       evaluation: Evaluation) -> None:
    for step in (1, 2):
        frame = evaluation.predictions_frame(step)
        expected_times = synthetic_series.index[evaluation.origins + step]
        assert list(frame.index) == list(expected_times) and frame.index.name == "date"
        assert list(frame.columns) == ["actual", *MODELS]
        np.testing.assert_array_equal(frame["actual"].to_numpy(), synthetic_series.loc[expected_times, "y"])
        np.testing.assert_array_equal(frame["lstm"].to_numpy(), evaluation.predictions["lstm"][:, step - 1])
    with pytest.raises(ValueError, match="step"):
        evaluation.predictions_frame(3)


def test_per_step_metrics(synthetic_series: pd.DataFrame, evaluation: Evaluation) -> None:
    np.testing.assert_array_equal(evaluation.train_values, synthetic_series["y"].to_numpy()[:420])
    per_step = evaluation.per_step()
    assert set(per_step) == set(MODELS) and len(per_step["lstm"]) == 2
    assert list(per_step["naive"][0]) == METRICS


def _with_maes(evaluation: Evaluation, **maes: float) -> Evaluation:
    edited = copy.deepcopy(evaluation)
    for name, value in maes.items():
        edited.metrics[name]["mae"] = value
    return edited


def test_verdict_beats(evaluation: Evaluation) -> None:
    better = _with_maes(evaluation, lstm=0.5, naive=1.0, seasonal_naive=2.0, drift=2.0, moving_average=2.0,
                        linear=2.0)
    assert better.skill == pytest.approx(0.5)
    verdict = better.verdict()
    assert "beats" in verdict and "does not beat" not in verdict and "50%" in verdict
    assert "However" not in verdict


def test_verdict_mentions_a_better_baseline(evaluation: Evaluation) -> None:
    edited = _with_maes(evaluation, lstm=0.5, naive=1.0, seasonal_naive=2.0, drift=2.0, moving_average=2.0,
                        linear=0.25)
    assert edited.best_baseline == "linear"
    verdict = edited.verdict()
    assert "beats" in verdict and "However" in verdict and "ridge" in verdict.lower()


def test_verdict_does_not_beat(evaluation: Evaluation) -> None:
    worse = _with_maes(evaluation, lstm=1.5, naive=1.0)
    assert worse.skill < 0
    assert "does not beat" in worse.verdict()
    tie = _with_maes(evaluation, lstm=1.0, naive=1.0)
    assert "does not beat" in tie.verdict()


def test_verdict_with_a_perfect_naive_forecast(evaluation: Evaluation) -> None:
    perfect = _with_maes(evaluation, naive=0.0)
    assert math.isnan(perfect.skill)
    assert "perfect" in perfect.verdict()


def test_verdict_of_a_real_bad_model(synthetic_series: pd.DataFrame) -> None:
    # Without the residual connection and with two epochs, the tiny network is far off the levels.
    config = ForecasterConfig(data=DataConfig(target="y", window=10),
                              model=ModelConfig(units=8, layers=1, residual=False),
                              train=TrainConfig(epochs=1, lr=1e-4))
    result = evaluate(LSTMForecaster(config).fit(synthetic_series))
    assert result.skill < 0
    assert "does not beat" in result.verdict()


def test_to_dict_is_json_ready_with_nan_as_none(evaluation: Evaluation) -> None:
    edited = copy.deepcopy(evaluation)
    edited.metrics["drift"]["mape"] = float("nan")
    edited.metrics["linear"]["r2"] = float("inf")
    summary = edited.to_dict()
    text = json.dumps(summary, allow_nan=False)  # no NaN or Infinity may reach JSON
    again = json.loads(text)
    assert again["metrics"]["drift"]["mape"] is None and again["metrics"]["linear"]["r2"] is None
    assert set(again["metrics"]) == set(MODELS)
    assert again["skill_vs_naive"] == pytest.approx(evaluation.skill)
    assert again["verdict"] == edited.verdict()
    assert again["test_points"] == evaluation.actual.size
    assert again["test_start"] == str(evaluation.index[evaluation.origins[0] + 1])
    assert again["test_end"] == str(evaluation.index[-1])


def test_evaluate_on_freshly_prepared_data_matches(synthetic_series: pd.DataFrame) -> None:
    model = _fit(synthetic_series, features=("x",))
    first = evaluate(model)
    again = evaluate(model, model.prepare(synthetic_series))
    for name in MODELS:
        assert again.metrics[name] == pytest.approx(first.metrics[name], nan_ok=True)


def test_zero_actuals_are_noted(synthetic_series: pd.DataFrame) -> None:
    frame = synthetic_series.copy()
    frame.iloc[-3, 0] = 0.0
    result = evaluate(_fit(frame))
    assert any("MAPE skips 1" in note for note in result.notes)


def test_season_override(synthetic_series: pd.DataFrame) -> None:
    result = evaluate(_fit(synthetic_series), season=30)
    assert result.season == 30
    assert result.labels["seasonal_naive"] == "Seasonal naive (30 days)"


def _three_years_of_daily_temperature() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    t = np.arange(3 * 365, dtype="float64")
    noise = np.zeros(t.size)
    for i in range(1, t.size):
        noise[i] = 0.7 * noise[i - 1] + rng.normal(0.0, 1.0)
    y = 12 + 8 * np.sin(2 * np.pi * t / 365.25) + noise
    return pd.DataFrame({"y": y}, index=pd.date_range("2012-01-01", periods=t.size, freq="D", name="date"))


def test_the_seasonal_period_is_found_in_the_training_part_only() -> None:
    frame = _three_years_of_daily_temperature()
    model = _fit(frame)
    result = evaluate(model)
    assert result.season == 365 and result.labels["seasonal_naive"] == "Seasonal naive (yearly, 365 days)"
    # One step ahead it repeats the value a year before the forecast time.
    y = frame["y"].to_numpy()
    np.testing.assert_array_equal(result.predictions["seasonal_naive"][:, 0], y[result.origins + 1 - 365])


def test_a_cycle_after_the_training_part_is_not_seen() -> None:
    """A random walk whose weekends dip only after the training part: the whole series shows a week, training not."""
    y = 100 + np.cumsum(np.random.default_rng(5).normal(0.0, 1.0, 600))
    train_end = round(0.7 * y.size)
    y[train_end:] += np.where(np.arange(y.size - train_end) % 7 >= 5, -30.0, 0.0)
    assert choose_season("D", y).found and not choose_season("D", y[:train_end]).found
    frame = pd.DataFrame({"y": y}, index=pd.date_range("2020-01-01", periods=y.size, freq="D", name="date"))
    result = evaluate(_fit(frame))
    assert result.season == 7
    assert result.labels["seasonal_naive"] == "Seasonal naive (weekly, 7 days; no clear cycle found)"


def test_predictions_table_has_one_row_per_forecast(evaluation: Evaluation) -> None:
    table = evaluation.predictions_table()
    n = len(evaluation.origins)
    assert len(table) == n * 2
    assert list(table.columns) == ["origin", "step", "date", "actual", *MODELS]
    second = table.iloc[1]  # first origin, two steps ahead
    assert second["step"] == 2 and second["origin"] == evaluation.index[evaluation.origins[0]]
    assert second["date"] == evaluation.index[evaluation.origins[0] + 2]
    assert second["actual"] == evaluation.actual[0, 1] and second["lstm"] == evaluation.predictions["lstm"][0, 1]
