"""Baselines: hand-computed forecasts, no look-ahead, training-only fitting, the registry."""

import numpy as np
import pytest
from test_frequency import random_walk, weekend_dip, yearly_daily

from forecaster.baselines import (
    BASELINES,
    Baseline,
    DriftForecast,
    LinearOnLags,
    MovingAverage,
    NaiveForecast,
    SeasonalNaive,
    make_baselines,
)
from forecaster.errors import ConfigError, DataError, NotFittedError
from forecaster.smoothing import ExponentialSmoothing

Y = np.array([1.0, 4.0, 2.0, 8.0, 5.0, 7.0])


def _series(n=200, seed=0):
    """Sine + trend + noise, the shape of series the studio sees."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, n)


def _all_baselines(window=5):
    return [NaiveForecast(), SeasonalNaive(3), DriftForecast(), MovingAverage(4), LinearOnLags(window),
            ExponentialSmoothing(12, max_points=30)]


# ----------------------------------------------------------------- hand-computed forecasts


def test_naive():
    got = NaiveForecast().fit(Y, train_end=4, horizon=3).predict_at(Y, np.array([0, 2, 5]))
    np.testing.assert_array_equal(got, [[1, 1, 1], [2, 2, 2], [7, 7, 7]])
    assert got.dtype == np.float64


def test_seasonal_naive_including_steps_past_one_season():
    model = SeasonalNaive(season=2).fit(Y, train_end=4, horizon=5)
    got = model.predict_at(Y, np.array([3, 5]))
    # origin 3: last season is y[2], y[3] = 2, 8 → 2, 8, 2, 8, 2
    # origin 5: last season is y[4], y[5] = 5, 7 → 5, 7, 5, 7, 5
    np.testing.assert_array_equal(got, [[2, 8, 2, 8, 2], [5, 7, 5, 7, 5]])


def test_seasonal_naive_short_history_falls_back_to_naive():
    model = SeasonalNaive(season=3).fit(Y, train_end=4, horizon=4)
    got = model.predict_at(Y, np.array([0, 1, 2]))
    # origins 0 and 1 have < 3 points behind them → naive; origin 2 has exactly one season
    np.testing.assert_array_equal(got, [[1, 1, 1, 1], [4, 4, 4, 4], [1, 4, 2, 1]])


def test_seasonal_naive_on_series_shorter_than_season():
    got = SeasonalNaive(season=7).fit(Y[:3], train_end=3, horizon=2).predict_at(Y[:3], np.array([2]))
    np.testing.assert_array_equal(got, [[2, 2]])


def test_drift():
    model = DriftForecast().fit(Y, train_end=4, horizon=3)
    got = model.predict_at(Y, np.array([0, 3, 5]))
    # origin 3: slope (8 − 1) / 3; origin 5: slope (7 − 1) / 5 = 1.2; origin 0: naive
    s3 = 7 / 3
    np.testing.assert_allclose(
        got, [[1, 1, 1], [8 + s3, 8 + 2 * s3, 8 + 3 * s3], [8.2, 9.4, 10.6]]
    )


def test_moving_average_with_short_start():
    model = MovingAverage(size=3).fit(Y, train_end=4, horizon=2)
    got = model.predict_at(Y, np.array([0, 1, 2, 5]))
    # fewer than 3 values at the start: mean of what there is
    np.testing.assert_allclose(
        got, [[1, 1], [2.5, 2.5], [7 / 3, 7 / 3], [20 / 3, 20 / 3]]
    )


def test_horizon_may_run_past_the_end():
    for model in _all_baselines(window=3):
        y = _series(40)
        got = model.fit(y, train_end=30, horizon=6).predict_at(y, np.array([len(y) - 1]))
        assert got.shape == (1, 6)
        assert np.all(np.isfinite(got))


# ----------------------------------------------------------------- linear on lags


def test_linear_fits_a_linear_trend_exactly():
    y = 5.0 + 0.7 * np.arange(60)
    model = LinearOnLags(window=4).fit(y, train_end=40, horizon=3)
    origins = np.arange(3, 57)
    expected = y[origins][:, None] + 0.7 * np.arange(1, 4)
    np.testing.assert_allclose(model.predict_at(y, origins), expected, atol=1e-9)
    # the changes-from-last-value targets let it extrapolate past the training levels
    future = model.predict_at(y, np.array([59]))
    np.testing.assert_allclose(future, [y[59] + 0.7 * np.arange(1, 4)], atol=1e-9)


def test_linear_fits_a_noiseless_ar_process():
    # a sine obeys y[t] = 2cos(ω)·y[t−1] − y[t−2]; three relative lags pin down the level
    t = np.arange(150)
    y = 10 + 4 * np.sin(2 * np.pi * t / 17)
    model = LinearOnLags(window=4, alpha=1e-8).fit(y, train_end=100, horizon=5)
    origins = np.arange(100, 145)
    truth = np.stack([y[o + 1 : o + 6] for o in origins])
    np.testing.assert_allclose(model.predict_at(y, origins), truth, atol=1e-4)


def test_linear_with_extra_features():
    rng = np.random.default_rng(3)
    x = rng.normal(size=120)
    y = np.cumsum(np.r_[0.0, 2.0 * x[:-1]])  # each step's change is 2·x at the origin
    X = x[:, None]
    model = LinearOnLags(window=3, alpha=1e-8).fit(y, train_end=80, horizon=1, X=X)
    origins = np.arange(80, 119)
    np.testing.assert_allclose(
        model.predict_at(y, origins, X=X)[:, 0], y[origins + 1], atol=1e-5
    )
    with pytest.raises(DataError, match="feature column"):
        model.predict_at(y, origins)


def test_linear_never_reads_at_or_after_train_end():
    y = _series(120)
    poisoned = y.copy()
    poisoned[80:] = 1e9
    X = np.stack([np.cos(np.arange(120.0)), np.arange(120.0)], axis=1)
    X_poisoned = X.copy()
    X_poisoned[80:] = -1e9
    clean = LinearOnLags(window=6).fit(y, train_end=80, horizon=4, X=X)
    dirty = LinearOnLags(window=6).fit(poisoned, train_end=80, horizon=4, X=X_poisoned)
    # early origins read only y[:o+1] with o < 80, identical in both series
    origins = np.arange(5, 80)
    np.testing.assert_array_equal(
        clean.predict_at(y, origins, X=X), dirty.predict_at(y, origins, X=X)
    )


def test_linear_trained_only_on_targets_inside_train():
    # the last training origin is train_end − 1 − horizon: its targets end at train_end − 1
    y = _series(60)
    a = LinearOnLags(window=4).fit(y, train_end=30, horizon=3)
    b = LinearOnLags(window=4).fit(y[:30], train_end=30, horizon=3)
    np.testing.assert_array_equal(a.model_[-1].coef_, b.model_[-1].coef_)


def test_linear_too_short_training_part():
    y = _series(30)
    with pytest.raises(DataError, match="too short for the linear baseline with window 10"):
        LinearOnLags(window=10).fit(y, train_end=12, horizon=3)


def test_linear_short_history_origins_get_naive():
    y = _series(60)
    got = LinearOnLags(window=5).fit(y, train_end=40, horizon=2).predict_at(y, np.array([0, 3]))
    np.testing.assert_array_equal(got, np.repeat(y[[0, 3]][:, None], 2, axis=1))


# ----------------------------------------------------------------- contract


@pytest.mark.parametrize("model", _all_baselines(), ids=lambda b: b.name)
def test_no_look_ahead(model):
    y = _series(100)
    model.fit(y, train_end=70, horizon=5)
    rng = np.random.default_rng(7)
    for o in (0, 2, 4, 10, 50, 69, 85, 99):
        changed = y.copy()
        changed[o + 1 :] = rng.normal(1e3, 1e3, size=len(y) - o - 1)
        before = model.predict_at(y, np.array([o]))
        after = model.predict_at(changed, np.array([o]))
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("model", _all_baselines(), ids=lambda b: b.name)
def test_predict_before_fit_raises(model):
    with pytest.raises(NotFittedError, match="call fit first"):
        model.predict_at(_series(50), np.array([10]))


@pytest.mark.parametrize("model", _all_baselines(), ids=lambda b: b.name)
def test_fit_returns_self_and_leaves_inputs_alone(model):
    y = _series(50)
    y0 = y.copy()
    origins = np.array([10, 20])
    assert model.fit(y, train_end=40, horizon=3) is model
    out = model.predict_at(y, origins)
    assert out.shape == (2, 3) and out.dtype == np.float64
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(origins, [10, 20])


def test_init_only_stores_parameters():
    model = LinearOnLags(window=0, alpha=-1)  # not validated until fit, as in scikit-learn
    assert (model.window, model.alpha) == (0, -1)
    with pytest.raises(ConfigError, match="window"):
        model.fit(_series(50), train_end=40, horizon=2)
    with pytest.raises(ConfigError, match="season"):
        SeasonalNaive(0).fit(_series(50), train_end=40, horizon=2)


def test_origin_validation():
    y = _series(30)
    model = NaiveForecast().fit(y, train_end=20, horizon=2)
    with pytest.raises(DataError, match=r"\[0, 29\]"):
        model.predict_at(y, np.array([30]))
    with pytest.raises(DataError, match=r"\[0, 29\]"):
        model.predict_at(y, np.array([-1]))
    with pytest.raises(DataError, match="integer"):
        model.predict_at(y, np.array([1.5]))
    assert model.predict_at(y, np.array([], dtype=int)).shape == (0, 2)


def test_fit_validation():
    y = _series(30)
    with pytest.raises(DataError, match="past the end"):
        NaiveForecast().fit(y, train_end=31, horizon=2)
    with pytest.raises(ConfigError, match="horizon"):
        NaiveForecast().fit(y, train_end=20, horizon=0)
    with pytest.raises(DataError, match="NaN"):
        NaiveForecast().fit(np.r_[y, np.nan], train_end=20, horizon=2)


def test_names_and_labels():
    expected = {
        "naive": "Naive (last value)",
        "seasonal_naive": "Seasonal naive (weekly, 7 days)",
        "drift": "Drift",
        "moving_average": "Moving average (30)",
        "linear": "Linear (ridge on lags)",
        "ets": "Exponential smoothing (damped trend, no season)",  # no data: no cycle found, so no season
    }
    models = make_baselines("D", window=30)
    assert {k: b.label for k, b in models.items()} == expected
    assert all(b.name == k for k, b in models.items())
    assert all(isinstance(b, Baseline) for b in models.values())


# ----------------------------------------------------------------- registry


def test_make_baselines_keys_order_and_parameters():
    models = make_baselines("h", window=12)
    assert list(models) == ["naive", "seasonal_naive", "drift", "moving_average", "linear", "ets"]
    assert models["seasonal_naive"].season == 24
    assert models["moving_average"].size == 12
    assert models["linear"].window == 12
    assert make_baselines("h", window=12, season=5)["seasonal_naive"].season == 5
    assert SeasonalNaive(3).label == "Seasonal naive (3 steps)"  # the old constructor still works
    assert SeasonalNaive(365, "yearly, 365 days").label == "Seasonal naive (yearly, 365 days)"
    assert not hasattr(models["linear"], "model_")  # unfitted
    with pytest.raises(ConfigError, match="window"):
        make_baselines("D", window=0)


def test_make_baselines_builds_each_registered_class_for_the_series(monkeypatch):
    assert all(kind.name == name for name, kind in BASELINES.items())  # the registry's keys are the models' names

    class Constant(Baseline):
        name = "constant"

        def __init__(self, period: int = 0) -> None:
            self.period = period

        @classmethod
        def for_series(cls, season, window, season_given=False):
            return cls(season.period + window)

    monkeypatch.setitem(BASELINES, "constant", Constant)
    models = make_baselines("h", window=12)
    assert list(models)[-1] == "constant" and models["constant"].period == 24 + 12
    assert make_baselines("h", window=12, season=5)["constant"].period == 5 + 12
    assert Baseline.for_series(None, 12).name == "baseline"  # parameterless classes need no for_series


# ----------------------------------------------------------------- the period found in the training part


def test_only_the_training_part_decides():
    y = yearly_daily()
    train_end = int(0.7 * y.size)
    before = make_baselines("D", window=30, y_train=y[:train_end])["seasonal_naive"]
    changed = y.copy()
    changed[train_end:] = weekend_dip(y.size - train_end)  # a weekly pattern after train_end only
    after = make_baselines("D", window=30, y_train=changed[:train_end])["seasonal_naive"]
    assert before.season == after.season == 365 and before.label == after.label
    # Fitted and used like any baseline: the test origins have a year of history behind them.
    model = after.fit(changed, train_end, horizon=3)
    origins = np.arange(train_end, y.size - 3)
    np.testing.assert_array_equal(model.predict_at(changed, origins)[:, 0], changed[origins - 364])


def test_explicit_season_overrides_the_chosen_one():
    y = yearly_daily()
    chosen = make_baselines("D", window=30, y_train=y)["seasonal_naive"]
    forced = make_baselines("D", window=30, season=30, y_train=y)["seasonal_naive"]
    assert chosen.label == "Seasonal naive (yearly, 365 days)"
    assert (forced.season, forced.label) == (30, "Seasonal naive (30 days)")
    assert make_baselines("D", window=30, season=7, y_train=y)["seasonal_naive"].label == "Seasonal naive (weekly, 7 days)"
    # Without training data: the frequency's default, as before.
    assert make_baselines("D", window=30)["seasonal_naive"].season == 7


def test_make_baselines_gives_ets_the_season_only_when_found_or_given():
    yearly = make_baselines("D", window=30, y_train=yearly_daily())["ets"]
    assert yearly.season == 365 and yearly.description == "yearly" and yearly.fallback  # found: too long at fit
    assert make_baselines("D", window=30, y_train=weekend_dip())["ets"].season == 7
    assert make_baselines("D", window=30, y_train=random_walk())["ets"].season is None  # default, not found
    assert make_baselines("D", window=30)["ets"].season is None
    assert make_baselines("D", window=30, season=7, y_train=random_walk())["ets"].season == 7  # the user's
    weekly = make_baselines("D", window=30, y_train=weekend_dip())["ets"].fit(weekend_dip(), 300, 7)
    assert weekly.label == "Exponential smoothing (Holt–Winters, damped trend, weekly season)"


def test_make_baselines_ets_never_fails_on_a_short_training_part():
    y = _series(30)
    for train_end in (4, 12, 20):
        model = make_baselines("MS", window=3, y_train=y[:train_end])["ets"]
        assert model.fit(y, train_end, 2).predict_at(y, np.array([train_end - 1, 25])).shape == (2, 2)
