"""Tests for forecaster.evaluation: metrics for every model, alignment with the raw series, frames, verdict."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import (
    BEATS_ALL,
    BEATS_NAIVE,
    LOSES,
    LSTM,
    UNMEASURED,
    Evaluation,
    best_baseline_of,
    evaluate,
    in_sentence,
)
from forecaster.frequency import choose_season
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
    assert evaluation.labels[LSTM] == "LSTM + linear skip" and evaluation.unit == "m"  # the default model
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
    assert frame.index.name == "Model" and frame.index[0] == "LSTM + linear skip" and len(frame) == 7
    assert frame.loc["LSTM + linear skip", "MAE"] == evaluation.metrics["lstm"]["mae"]


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


# Labels as the Seattle weather sample gets them; "ets" stands for any baseline added later.
SEATTLE_LABELS = {"lstm": "LSTM", "naive": "Naive (last value)", "seasonal_naive": "Seasonal naive (yearly, 365 days)",
                  "drift": "Drift", "moving_average": "Moving average (30)", "linear": "Linear (ridge on lags)",
                  "ets": "ETS (additive trend)"}


def _scored(labels: dict[str, str] | None = None, **maes: float) -> Evaluation:
    """An Evaluation holding only these test MAEs (one point, one step): enough for the verdict and its numbers."""
    labels = {**SEATTLE_LABELS, **(labels or {})}
    return Evaluation(target="y", unit="", index=pd.date_range("2024-01-01", periods=2, freq="D"),
                      origins=np.array([0]), actual=np.zeros((1, 1)), last_levels=np.zeros(1), predictions={},
                      labels={name: labels[name] for name in maes}, metrics={n: {"mae": v} for n, v in maes.items()},
                      season=365, train_values=np.zeros(1))


def test_verdict_beats_every_baseline() -> None:
    result = _scored(lstm=0.61, naive=1.0, seasonal_naive=0.69, drift=2.0, moving_average=1.5, linear=0.8, ets=0.9)
    assert result.best_baseline == "seasonal_naive" and result.standing == BEATS_ALL
    assert result.skill_vs_best == pytest.approx(1 - 0.61 / 0.69)
    assert result.verdict() == ("The LSTM beats every baseline: its test MAE is 12% below the best, "
                                "seasonal naive (yearly, 365 days) (0.61 vs 0.69).")
    # Naive the best: the same sentence, naming it.
    plain = _scored(lstm=0.5, naive=1.0, drift=2.0, linear=1.2)
    assert plain.standing == BEATS_ALL and plain.skill_vs_best == pytest.approx(plain.skill)
    assert plain.verdict() == ("The LSTM beats every baseline: its test MAE is 50% below the best, "
                               "naive (last value) (0.5 vs 1).")
    close = _scored(lstm=0.999, naive=1.0)
    assert close.verdict() == ("The LSTM beats every baseline: its test MAE is less than 1% below the best, "
                               "naive (last value) (0.999 vs 1).")


def test_verdict_beats_naive_but_not_the_best_baseline() -> None:
    result = _scored(lstm=1.693, naive=1.702, seasonal_naive=2.1, drift=1.8, moving_average=1.9, linear=1.344)
    assert result.best_baseline == "linear" and result.standing == BEATS_NAIVE
    assert result.skill > 0 and result.skill_vs_best < 0
    assert result.verdict() == ("The LSTM beats naive but not the linear (ridge on lags) baseline "
                                "(MAE 1.693 vs 1.344), so that baseline is the forecast to use.")
    # A tie with the best baseline is not a win.
    tie = _scored(lstm=1.344, naive=1.702, linear=1.344)
    assert tie.standing == BEATS_NAIVE and tie.skill_vs_best == 0
    assert "but not the linear (ridge on lags) baseline (MAE 1.344 vs 1.344)" in tie.verdict()


def test_verdict_does_not_beat_naive() -> None:
    # Nothing beats naive: today's random-walk advice.
    walk = _scored(lstm=1.5, naive=1.0, drift=1.2, linear=1.1)
    assert walk.standing == LOSES and walk.best_baseline == "naive"
    assert walk.verdict() == ("The LSTM does not beat the naive forecast (test MAE 1.5 vs 1, skill -0.50). Train "
                              "longer or try other settings; if nothing beats naive, the series may be close to a "
                              "random walk, and the naive forecast is the one to use.")
    # Another baseline beats naive: that one is named as the forecast to use instead.
    seasonal = _scored(lstm=1.5, naive=1.0, seasonal_naive=0.7, linear=0.9)
    assert seasonal.standing == LOSES
    assert seasonal.verdict() == ("The LSTM does not beat the naive forecast (test MAE 1.5 vs 1, skill -0.50). The "
                                  "best baseline is seasonal naive (yearly, 365 days) (MAE 0.7): it is the forecast "
                                  "to use unless longer training or other settings do better.")
    tie = _scored(lstm=1.0, naive=1.0)
    assert tie.standing == LOSES and tie.verdict().startswith("The LSTM does not beat the naive forecast")


def test_verdict_with_a_perfect_naive_forecast(evaluation: Evaluation) -> None:
    perfect = _with_maes(evaluation, naive=0.0)
    assert math.isnan(perfect.skill) and math.isnan(perfect.skill_vs_best)
    assert perfect.best_baseline == "naive" and perfect.standing == UNMEASURED
    assert perfect.verdict() == "The naive forecast is perfect on the test part, so no skill can be measured."
    summary = json.loads(json.dumps(perfect.to_dict(), allow_nan=False))
    assert summary["skill_vs_naive"] is None and summary["skill_vs_best"] is None


def test_verdict_against_a_perfect_baseline_other_than_naive() -> None:
    result = _scored(lstm=0.5, naive=1.0, seasonal_naive=0.0)
    assert result.best_baseline == "seasonal_naive" and math.isnan(result.skill_vs_best)
    assert result.standing == BEATS_NAIVE
    assert result.verdict() == ("The LSTM beats naive but not the seasonal naive (yearly, 365 days) baseline "
                                "(MAE 0.5 vs 0), so that baseline is the forecast to use.")


def test_verdict_names_the_model_by_its_label() -> None:
    result = _scored({"lstm": "LSTM + linear skip"}, lstm=1.693, naive=1.702, linear=1.344)
    assert result.verdict().startswith("The LSTM + linear skip beats naive but not the linear (ridge on lags)")
    gru = _scored({"lstm": "GRU", "ets": "ETS (additive trend)"}, lstm=0.5, naive=1.0, ets=0.8)
    assert gru.verdict() == "The GRU beats every baseline: its test MAE is 38% below the best, ETS (additive trend) (0.5 vs 0.8)."


def test_best_baseline_of_skips_the_lstm_and_undefined_maes() -> None:
    stored = {"lstm": {"mae": 0.1}, "naive": {"mae": 1.0}, "drift": {"mae": None}, "linear": {"mae": float("nan")},
              "ets": {"mae": 0.9}, "moving_average": {"mae": 0.9}}
    assert best_baseline_of(stored) == "ets"  # the first of a tie, in the order listed
    assert best_baseline_of({"lstm": {"mae": 0.1}, "drift": {"mae": None}}) is None
    assert best_baseline_of({}) is None


def test_labels_read_inside_a_sentence() -> None:
    assert in_sentence("Seasonal naive (yearly, 365 days)") == "seasonal naive (yearly, 365 days)"
    assert in_sentence("Linear (ridge on lags)") == "linear (ridge on lags)"
    assert in_sentence("ETS (additive trend)") == "ETS (additive trend)"  # acronyms keep their capitals
    assert in_sentence("LSTM") == "LSTM" and in_sentence("Drift") == "drift"


def test_to_dict_names_the_best_baseline(evaluation: Evaluation) -> None:
    summary = json.loads(json.dumps(evaluation.to_dict(), allow_nan=False))
    assert {"best_baseline", "best_baseline_label", "skill_vs_best", "skill_vs_naive", "standing"} <= set(summary)
    best = summary["best_baseline"]
    assert best == evaluation.best_baseline and best != LSTM and best in evaluation.metrics
    assert summary["best_baseline_label"] == evaluation.labels[best]
    lowest = min(m["mae"] for name, m in evaluation.metrics.items() if name != LSTM)
    assert evaluation.metrics[best]["mae"] == lowest
    assert summary["skill_vs_best"] == pytest.approx(1 - evaluation.metrics[LSTM]["mae"] / lowest)
    assert summary["skill_vs_best"] <= summary["skill_vs_naive"] + 1e-12  # the best is never worse than naive
    assert summary["standing"] == evaluation.standing


def test_verdict_of_a_real_bad_model(synthetic_series: pd.DataFrame) -> None:
    # Without the residual connection, relative windows or the skip, and with one epoch, the tiny network is far
    # off the levels (the default model starts at the better of ridge, naive and drift, so it cannot be this bad).
    config = ForecasterConfig(data=DataConfig(target="y", window=10),
                              model=ModelConfig(units=8, layers=1, residual=False, relative=False, skip=False),
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
