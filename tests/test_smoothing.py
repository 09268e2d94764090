"""Exponential smoothing: statsmodels' own fit reproduced, recursions by hand, no look-ahead, stepping down."""

import warnings

import numpy as np
import pytest

from forecaster.baselines import NaiveForecast
from forecaster.errors import ConfigError, DataError
from forecaster.smoothing import ExponentialSmoothing


def _series(n=200, seed=0):
    """Sine + trend + noise, the shape of series the studio sees."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, n)


SEASONAL_N, SEASONAL_TRAIN = 400, 300


def _statsmodels_fit(y_fit, season):
    """The reference: statsmodels' own fit of the same model on the same points."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing as HoltWinters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HoltWinters(y_fit, trend="add", damped_trend=True, seasonal="add" if season else None,
                           seasonal_periods=season, initialization_method="estimated").fit()


@pytest.fixture(scope="module", params=[12, None], ids=["seasonal", "no-season"])
def ets_pair(request):
    """(y, fitted ExponentialSmoothing on the last 200 of 300 training points, statsmodels' fit of those)."""
    y = _series(SEASONAL_N)
    model = ExponentialSmoothing(request.param, max_points=200).fit(y, train_end=SEASONAL_TRAIN, horizon=6)
    return y, model, _statsmodels_fit(y[SEASONAL_TRAIN - 200:SEASONAL_TRAIN], request.param)


def test_ets_one_step_forecasts_are_statsmodels_fitted_values(ets_pair):
    y, model, reference = ets_pair
    assert model.fit_start_ == SEASONAL_TRAIN - 200
    # origin fit_start_ − 1 forecasts from the initial states; the last training point is not an origin here
    origins = np.arange(model.fit_start_ - 1, SEASONAL_TRAIN - 1)
    got = model.predict_at(y, origins)[:, 0]
    np.testing.assert_allclose(got, reference.fittedvalues, rtol=0, atol=1e-8)


def test_ets_forecast_from_the_last_training_point_is_statsmodels_forecast(ets_pair):
    y, model, reference = ets_pair
    got = model.predict_at(y, np.array([SEASONAL_TRAIN - 1]))[0]
    np.testing.assert_allclose(got, reference.forecast(6), rtol=0, atol=1e-8)
    assert model.alpha_ == pytest.approx(reference.params["smoothing_level"])
    assert model.phi_ == pytest.approx(reference.params["damping_trend"])


def test_ets_recursion_and_closed_form_by_hand():
    model = ExponentialSmoothing(2).fit(_series(60), train_end=40, horizon=3)
    # fix the parameters to round numbers and check one step and the forecasts by hand
    model.alpha_, model.beta_, model.gamma_, model.phi_ = 0.5, 0.5, 0.5, 0.5
    model.level0_, model.trend0_, model.seasons0_ = 10.0, 2.0, np.array([1.0, -1.0])
    model.fit_start_ = 1  # the initial states belong to time 0; the recursion starts at y[1]
    y = np.array([99.0, 13.0, 50.0])
    # t = 1: expected = 10 + 0.5·2 = 11; season one period back s = 1
    #   level  = 0.5·(13 − 1) + 0.5·11 = 11.5;  trend = 0.5·(11.5 − 10) + 0.5·0.5·2 = 1.25
    #   season = 0.5·(13 − 11) + 0.5·1 = 1.5 (replaces the 1.0; the other phase is still −1)
    got = model.predict_at(y, np.array([0, 1]))
    # origin 0: the initial states: 10 + (0.5)·2 + 1, 10 + (0.5 + 0.25)·2 − 1, 10 + (0.875)·2 + 1
    # origin 1: 11.5 + 0.5·1.25 − 1, 11.5 + 0.75·1.25 + 1.5, 11.5 + 0.875·1.25 − 1
    np.testing.assert_allclose(got, [[12.0, 10.5, 12.75], [11.125, 13.9375, 11.59375]])


def test_ets_does_not_look_ahead_or_fit_on_test_values():
    y = _series(SEASONAL_N)
    model = ExponentialSmoothing(12).fit(y, train_end=SEASONAL_TRAIN, horizon=4)
    changed = y.copy()
    changed[SEASONAL_TRAIN:] += np.random.default_rng(5).normal(0, 50, SEASONAL_N - SEASONAL_TRAIN)
    again = ExponentialSmoothing(12).fit(changed, train_end=SEASONAL_TRAIN, horizon=4)
    for name in ("alpha_", "beta_", "gamma_", "phi_", "level0_", "trend0_", "seasons0_"):
        np.testing.assert_array_equal(getattr(model, name), getattr(again, name))
    origins = np.array([SEASONAL_TRAIN - 1, 320, 350])
    for o in origins:
        after = y.copy()
        after[o + 1:] = 1e6
        np.testing.assert_array_equal(model.predict_at(y, np.array([o])), model.predict_at(after, np.array([o])))


def test_ets_beats_naive_on_a_seasonal_series_and_no_season_does_not_use_one():
    y = _series(SEASONAL_N)
    origins = np.arange(SEASONAL_TRAIN - 1, SEASONAL_N - 6)
    actual = y[origins[:, None] + np.arange(1, 7)]

    def mae(model):
        return np.mean(np.abs(model.fit(y, SEASONAL_TRAIN, 6).predict_at(y, origins) - actual))

    seasonal, plain = ExponentialSmoothing(12, "yearly"), ExponentialSmoothing(None)
    naive = mae(NaiveForecast())
    assert mae(seasonal) < 0.3 * naive  # the 12-step sine is most of the variation
    assert mae(seasonal) < mae(plain)
    assert seasonal.kind_ == "seasonal" and seasonal.label == "Exponential smoothing (Holt–Winters, damped trend, yearly season)"
    assert plain.kind_ == "trend" and plain.label == "Exponential smoothing (damped trend, no season)"
    assert seasonal.fit_start_ == 0 and seasonal.note == ""  # 300 points: all of them, nothing to say


def test_ets_damped_trend_follows_a_trend():
    y = 5 + 0.5 * np.arange(200) + np.random.default_rng(3).normal(0, 0.2, 200)
    model = ExponentialSmoothing().fit(y, train_end=150, horizon=5)
    got = model.predict_at(y, np.array([149]))[0]
    # damped, so a little under the line, but far closer to it than to the last value
    np.testing.assert_allclose(got, 5 + 0.5 * np.arange(150, 155), atol=0.5)
    assert 0.8 <= model.phi_ <= 0.995


def test_ets_origins_before_the_fit_window_get_naive():
    y = _series(SEASONAL_N)
    model = ExponentialSmoothing(None, max_points=50).fit(y, train_end=SEASONAL_TRAIN, horizon=3)
    assert model.fit_start_ == 250
    assert model.note == "Exponential smoothing was fitted on the last 50 of 300 training points."
    got = model.predict_at(y, np.array([100, 248, 249]))
    np.testing.assert_array_equal(got[:2], np.repeat(y[[100, 248]][:, None], 3, axis=1))
    assert not np.allclose(got[2], y[249])  # 249 = fit_start_ − 1: the initial states forecast


def test_ets_too_short_training_part_says_what_to_do():
    y = _series(60)
    with pytest.raises(DataError, match=r"12-step season.*needs 24 training points.*has 20; use more data or no season"):
        ExponentialSmoothing(12).fit(y, train_end=20, horizon=2)
    with pytest.raises(DataError, match="needs at least 10 training points but has 6; use more data"):
        ExponentialSmoothing().fit(y, train_end=6, horizon=2)
    with pytest.raises(ConfigError, match="at most 24 steps.*season=365.*season=None"):
        ExponentialSmoothing(365).fit(y, train_end=50, horizon=2)
    with pytest.raises(ConfigError, match="max_points"):
        ExponentialSmoothing(max_points=5).fit(y, train_end=50, horizon=2)


def test_ets_with_fallback_steps_down_and_says_so():
    y = _series(60)
    short = ExponentialSmoothing(12, "yearly", fallback=True).fit(y, train_end=20, horizon=2)
    assert short.kind_ == "trend"
    assert short.label == "Exponential smoothing (damped trend, no season: too little data for a yearly season)"
    assert short.note == ("Exponential smoothing was fitted without a season, as the training part is too short "
                          "for its yearly season.")
    long = ExponentialSmoothing(365, "yearly", fallback=True).fit(y, train_end=50, horizon=2)
    assert long.label == "Exponential smoothing (damped trend, no season: yearly season too long)"
    tiny = ExponentialSmoothing(12, fallback=True).fit(y, train_end=6, horizon=2)
    assert tiny.label == "Exponential smoothing (naive: too little training data)"
    np.testing.assert_array_equal(tiny.predict_at(y, np.array([5, 30])),
                                  NaiveForecast().fit(y, 6, 2).predict_at(y, np.array([5, 30])))


def test_for_series_takes_the_period_only_when_found_or_given():
    from forecaster.frequency import describe_season

    found = ExponentialSmoothing.for_series(describe_season("h", 24, found=True), window=48)
    assert (found.season, found.description, found.fallback) == (24, "daily", True)
    assert ExponentialSmoothing.for_series(describe_season("h", 24), window=48).season is None  # a default: no evidence
    assert ExponentialSmoothing.for_series(describe_season("h", 5), window=48, season_given=True).season == 5


def test_ets_quiet_without_touching_global_warning_filters():
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # a step of 1e8: statsmodels says "Optimization failed to converge" (ConvergenceWarning) here
        ExponentialSmoothing(12).fit(np.r_[np.zeros(30), np.ones(30)] * 1e8, train_end=60, horizon=2)
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    assert warnings.filters == before

