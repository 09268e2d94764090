"""Slow checks that the LSTM really learns: near the noise floor on a sine, better than naive on real weather."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig, default_config
from forecaster.datasets import load_sample
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.training import configure_threads

configure_threads(1)

pytestmark = pytest.mark.slow

NOISE = 0.1  # standard deviation of the noise on the sine: no forecast can have a lower RMSE


def _noisy_sine(n: int = 1000, period: int = 20, seed: int = 0) -> pd.DataFrame:
    t = np.arange(n, dtype=np.float64)
    rng = np.random.default_rng(seed)
    y = np.sin(2 * np.pi * t / period) + rng.normal(0.0, NOISE, n)
    return pd.DataFrame({"y": y}, index=pd.date_range("2020-01-01", periods=n, freq="D", name="date"))


@pytest.mark.timeout(300)
def test_lstm_reaches_the_noise_floor_on_a_sine() -> None:
    config = ForecasterConfig(data=DataConfig(target="y", window=20),
                              model=ModelConfig(units=16, layers=1, dropout=0.0),
                              train=TrainConfig(epochs=30, lr=1e-2, patience=0, seed=0))
    result = evaluate(LSTMForecaster(config).fit(_noisy_sine()))
    lstm, naive = result.metrics["lstm"], result.metrics["naive"]
    # The naive forecast carries the noise twice plus the sine's step: about 2.5 sigma here.
    assert naive["rmse"] > 2 * NOISE
    assert lstm["rmse"] < 1.5 * NOISE, f"LSTM test RMSE {lstm['rmse']:.4f} vs noise {NOISE}"
    assert lstm["mae"] < 0.7 * naive["mae"]
    assert result.skill > 0.3 and "beats" in result.verdict()


@pytest.mark.timeout(300)
def test_lstm_beats_naive_on_seattle_max_temperature() -> None:
    dataset = load_sample("seattle-weather")
    assert dataset.target == "temp_max"
    # The settings the app and the command line start from (window 30, 2x64 LSTM, lr 1e-3), with the
    # dataset's suggested features; only the epoch cap is lowered to keep the test near 40 s.
    config = default_config(dataset.freq, len(dataset.frame), dataset.target, dataset.features)
    config = config.replace(train={"epochs": 30})
    model = LSTMForecaster(config).fit(dataset)
    result = evaluate(model, unit=dataset.unit)
    lstm_mae, naive_mae = result.metrics["lstm"]["mae"], result.metrics["naive"]["mae"]
    assert lstm_mae < naive_mae, f"LSTM MAE {lstm_mae:.3f} is not below naive MAE {naive_mae:.3f}"
    assert result.skill > 0


def _level_shift(n: int = 2400, seed: int = 0) -> pd.DataFrame:
    """A daily cycle on AR(1) noise whose level is flat in training and climbs 25 units through validation and test."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.8 * noise[i - 1] + rng.normal(0, 0.3)
    level = np.where(t < 0.7 * n, 0.0, (t - 0.7 * n) / (0.3 * n) * 25.0)
    y = level + 3 * np.sin(2 * np.pi * t / 24) + noise
    return pd.DataFrame({"y": y}, index=pd.date_range("2020-01-01", periods=n, freq="h", name="date"))


@pytest.mark.timeout(600)
def test_window_relative_inputs_carry_over_to_levels_never_seen_in_training() -> None:
    """Globally scaled levels (the old representation) do no better than naive here; the new default does."""
    frame = _level_shift()
    results = {}
    for name, model in {"old": {"relative": False, "skip": False}, "new": {}}.items():
        config = ForecasterConfig(data=DataConfig(target="y", window=48, horizon=6), model=ModelConfig(**model),
                                  train=TrainConfig(epochs=30, seed=0))
        results[name] = evaluate(LSTMForecaster(config).fit(frame)).metrics
    naive = results["new"]["naive"]["mae"]
    assert results["old"]["lstm"]["mae"] > 0.9 * naive, results["old"]  # the failure this guards against
    assert results["new"]["lstm"]["mae"] < 0.6 * naive, results["new"]
