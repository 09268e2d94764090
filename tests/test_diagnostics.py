"""Tests for forecaster.diagnostics: Diebold–Mariano by hand and on constructed errors, Ljung–Box and the ACF."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.diagnostics import (
    acf,
    compare_with_baselines,
    default_lags,
    diebold_mariano,
    ljung_box,
    residual_diagnostics,
)
from forecaster.errors import ConfigError, DataError
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.training import configure_threads

configure_threads(1)


# ---------------------------------------------------------------- Diebold–Mariano

def test_identical_errors_give_p_one():
    errors = np.random.default_rng(0).normal(size=100)
    test = diebold_mariano(errors, errors.copy())
    assert test.statistic == 0.0 and test.p_value == pytest.approx(1.0)
    assert not test.significant
    assert "same errors" in test.sentence()


def test_clearly_better_model_has_small_p():
    rng = np.random.default_rng(1)
    good, bad = rng.normal(0, 1, 200), rng.normal(0, 3, 200)
    test = diebold_mariano(good, bad, other="naive")
    assert test.statistic < 0 and test.p_value < 1e-6 and test.better and test.significant
    assert test.sentence().startswith("The LSTM is better than the naive forecast, and the difference is unlikely")
    worse = diebold_mariano(bad, good, other="naive")
    assert worse.statistic > 0 and worse.p_value == pytest.approx(test.p_value)
    assert "worse than the naive forecast" in worse.sentence()


def test_small_difference_could_be_chance():
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, 60)
    b = a + rng.normal(0, 0.05, 60)
    test = diebold_mariano(a, b)
    assert test.p_value > 0.05
    assert "could well be chance" in test.sentence()


def test_dm_matches_a_hand_computation():
    a = np.array([1.0, -2.0, 0.5, 3.0, -1.0, 2.0, 0.0, -1.5])
    b = np.array([2.0, -1.0, 1.5, 2.0, -2.5, 3.0, 1.0, -1.0])
    d = a ** 2 - b ** 2
    n, h = d.size, 2
    mean = d.mean()
    g0 = np.sum((d - mean) ** 2) / n
    g1 = np.sum((d[1:] - mean) * (d[:-1] - mean)) / n
    dm = mean / math.sqrt((g0 + 2 * g1) / n)
    hln = dm * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    p = 2 * stats.t.sf(abs(hln), n - 1)
    test = diebold_mariano(a, b, horizon=2, loss="squared")
    assert test.statistic == pytest.approx(hln) and test.p_value == pytest.approx(p)
    assert test.n == 8 and test.horizon == 2 and test.mean_difference == pytest.approx(mean)


def test_dm_multi_step_errors_use_mean_loss_per_origin():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, (50, 3)), rng.normal(0, 1.5, (50, 3))
    test = diebold_mariano(a, b, horizon=3)
    flat = diebold_mariano(np.abs(a).mean(axis=1), np.abs(b).mean(axis=1), horizon=3)
    assert test.statistic == pytest.approx(flat.statistic)


def test_dm_refuses_bad_input():
    with pytest.raises(DataError, match="same shape"):
        diebold_mariano(np.zeros(5), np.zeros(6))
    with pytest.raises(ConfigError, match="loss"):
        diebold_mariano(np.zeros(5), np.ones(5), loss="cubic")
    with pytest.raises(DataError, match="at least 3"):
        diebold_mariano(np.zeros(2), np.ones(2))


# ---------------------------------------------------------------- Ljung–Box

def test_acf_by_hand():
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    c = x - x.mean()
    expected = [np.dot(c[k:], c[:-k]) / np.dot(c, c) for k in (1, 2)]
    np.testing.assert_allclose(acf(x, 2), expected)
    np.testing.assert_allclose(acf(np.ones(6), 3), 0.0)


def test_ljung_box_white_noise_vs_ar1():
    rng = np.random.default_rng(4)
    noise = rng.normal(size=500)
    white = ljung_box(noise, lags=10)
    assert white.p_value > 0.05 and "look like noise" in white.sentence()
    ar = np.zeros(500)
    for t in range(1, 500):
        ar[t] = 0.7 * ar[t - 1] + noise[t]
    correlated = ljung_box(ar, lags=10)
    assert correlated.p_value < 1e-10 and "structure is left unexplained" in correlated.sentence()
    assert correlated.acf[0] == pytest.approx(0.7, abs=0.1)
    assert correlated.band == pytest.approx(1.96 / math.sqrt(500))
    payload = correlated.to_dict()
    assert payload["lags"] == 10 and len(payload["acf"]) == 10


def test_ljung_box_formula_by_hand():
    x = np.array([0.3, -1.2, 0.8, 1.5, -0.4, 0.1, -0.9, 1.1, 0.6, -0.2])
    n, m = x.size, 2
    rho = acf(x, m)
    q = n * (n + 2) * sum(rho[k - 1] ** 2 / (n - k) for k in range(1, m + 1))
    result = ljung_box(x, lags=m)
    assert result.statistic == pytest.approx(q)
    assert result.p_value == pytest.approx(stats.chi2.sf(q, m))


def test_ljung_box_agrees_with_statsmodels():
    diagnostic = pytest.importorskip("statsmodels.stats.diagnostic")
    rng = np.random.default_rng(5)
    x = np.cumsum(rng.normal(size=200)) * 0.1 + rng.normal(size=200)
    ours = ljung_box(x, lags=7)
    theirs = diagnostic.acorr_ljungbox(x, lags=[7])
    assert ours.statistic == pytest.approx(float(theirs["lb_stat"].iloc[0]))
    assert ours.p_value == pytest.approx(float(theirs["lb_pvalue"].iloc[0]))


def test_default_lags_and_refusals():
    assert default_lags(1000) == 10 and default_lags(1000, season=7) == 14 and default_lags(30) == 6
    assert default_lags(4) == 1
    with pytest.raises(DataError, match="at least 5"):
        ljung_box(np.zeros(3))
    with pytest.raises(ConfigError, match="lags"):
        ljung_box(np.arange(10.0), lags=10)


# ---------------------------------------------------------------- on an evaluation

def test_diagnostics_of_an_evaluation(synthetic_series):
    config = ForecasterConfig(data=DataConfig(target="y", window=10, horizon=2),
                              model=ModelConfig(units=8, layers=1), train=TrainConfig(epochs=2))
    model = LSTMForecaster(config).fit(synthetic_series)
    evaluation = evaluate(model)
    tests = compare_with_baselines(evaluation)
    assert set(tests) == {"naive", "seasonal_naive", evaluation.best_baseline}  # the verdict's best one too
    assert tests["naive"].n == len(evaluation.origins) and tests["naive"].horizon == 2
    assert "naive forecast" in tests["naive"].sentence()
    assert "seasonal naive forecast" in tests["seasonal_naive"].sentence()
    residuals = residual_diagnostics(evaluation)
    assert residuals.n == len(evaluation.origins) and residuals.lags == default_lags(residuals.n, evaluation.season)
    assert 0 <= residuals.p_value <= 1
