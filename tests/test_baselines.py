"""Baselines: hand-computed forecasts, no look-ahead, training-only fitting, season lengths."""

import warnings

import numpy as np
import pytest

from forecaster.baselines import (
    Baseline,
    DriftForecast,
    ExponentialSmoothing,
    LinearOnLags,
    MovingAverage,
    NaiveForecast,
    SeasonalNaive,
    choose_season,
    describe_season,
    make_baselines,
    season_length,
)
from forecaster.errors import ConfigError, DataError, NotFittedError

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


# ----------------------------------------------------------------- factory


@pytest.mark.parametrize(
    "freq, season",
    [
        ("D", 7), ("B", 5), ("C", 5), ("h", 24), ("H", 24), ("W", 52), ("W-MON", 52),
        ("M", 12), ("MS", 12), ("ME", 12), ("BM", 12), ("BMS", 12), ("Q", 4), ("QE-DEC", 4),
        ("QS", 4), ("min", 60), ("T", 60), ("2h", 12), ("2H", 12), ("15min", 4), ("3ME", 4),
        ("7D", 1), ("5h", 1), ("s", 1), ("YE", 1), (None, 1), ("not a frequency", 1), ("", 1),
    ],
)
def test_season_length(freq, season):
    assert season_length(freq) == season


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


# ----------------------------------------------------------------- choosing the period from the data

DAYS_3Y = 3 * 365


def _yearly_daily(n=DAYS_3Y, seed=1):
    """Daily temperatures: a yearly sine plus noise that persists from day to day (AR(1), phi 0.8)."""
    rng = np.random.default_rng(seed)
    noise = np.zeros(n)
    for t in range(1, n):
        noise[t] = 0.8 * noise[t - 1] + rng.normal(0, 1.5)
    t = np.arange(n)
    return 12 + 8 * np.sin(2 * np.pi * t / 365.25) + noise


def _weekend_dip(n=400, seed=2):
    """Daily sales: a level that wanders a little, 40% lower on Saturdays and Sundays."""
    rng = np.random.default_rng(seed)
    level = 100 + np.cumsum(rng.normal(0, 0.5, n))
    weekend = (np.arange(n) % 7) >= 5
    return level * np.where(weekend, 0.6, 1.0) + rng.normal(0, 2, n)


def _random_walk(n=2000, seed=3):
    return 1000 + np.cumsum(np.random.default_rng(seed).normal(0, 10, n))


def test_yearly_cycle_in_daily_data_is_found():
    season = choose_season("D", _yearly_daily())
    assert (season.period, season.found) == (365, True)
    assert season.description == "yearly (365 days)" and season.short == "yearly, 365 days"


def test_weekly_pattern_in_daily_data_is_found():
    season = choose_season("D", _weekend_dip())
    assert (season.period, season.description, season.found) == (7, "weekly (7 days)", True)


def test_hourly_data_with_a_daily_cycle_gets_24_not_its_multiple_168():
    t = np.arange(24 * 7 * 4)
    y = 10 + 5 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(4).normal(0, 0.5, t.size)
    assert choose_season("h", y).description == "daily (24 hours)"


def test_random_walk_falls_back_to_the_frequency_default_and_says_so():
    season = choose_season("B", _random_walk())
    assert (season.period, season.found) == (5, False)
    assert season.description == "weekly (5 trading days; no clear cycle found)"
    assert "no clear cycle" in choose_season("D", _random_walk()).description


def test_a_cycle_needs_two_full_periods_in_the_training_part():
    # 1.5 years of a clear yearly cycle: too short to trust 365, and no weekly cycle either.
    season = choose_season("D", _yearly_daily(n=int(1.5 * 365)))
    assert season.period == 7 and not season.found


def test_only_the_training_part_decides():
    y = _yearly_daily()
    train_end = int(0.7 * y.size)
    before = make_baselines("D", window=30, y_train=y[:train_end])["seasonal_naive"]
    changed = y.copy()
    changed[train_end:] = _weekend_dip(y.size - train_end)  # a weekly pattern after train_end only
    after = make_baselines("D", window=30, y_train=changed[:train_end])["seasonal_naive"]
    assert before.season == after.season == 365 and before.label == after.label
    # Fitted and used like any baseline: the test origins have a year of history behind them.
    model = after.fit(changed, train_end, horizon=3)
    origins = np.arange(train_end, y.size - 3)
    np.testing.assert_array_equal(model.predict_at(changed, origins)[:, 0], changed[origins - 364])


def test_explicit_season_overrides_the_chosen_one():
    y = _yearly_daily()
    chosen = make_baselines("D", window=30, y_train=y)["seasonal_naive"]
    forced = make_baselines("D", window=30, season=30, y_train=y)["seasonal_naive"]
    assert chosen.label == "Seasonal naive (yearly, 365 days)"
    assert (forced.season, forced.label) == (30, "Seasonal naive (30 days)")
    assert make_baselines("D", window=30, season=7, y_train=y)["seasonal_naive"].label == "Seasonal naive (weekly, 7 days)"
    # Without training data: the frequency's default, as before.
    assert make_baselines("D", window=30)["seasonal_naive"].season == 7


def test_choice_considers_only_the_frequencys_cycles_and_divides_multiples():
    t = np.arange(24 * 7 * 4)
    daily = 10 + 5 * np.sin(2 * np.pi * t / 24)
    two_hourly = daily[::2]
    assert choose_season("2h", two_hourly).description == "daily (12 steps of 2 hours)"
    assert choose_season("W", _random_walk(200)).description == "yearly (52 weeks; no clear cycle found)"
    assert choose_season(None, daily).description == "1 step: the same as naive"
    assert choose_season("7D", daily).period == 1


def test_constant_and_short_series_fall_back():
    assert choose_season("h", np.full(500, 3.0)).description == "daily (24 hours; no clear cycle found)"
    assert choose_season("D", np.array([1.0, 2.0])).period == 7
    with pytest.raises(DataError, match="NaN"):
        choose_season("D", np.array([1.0, np.nan, 2.0]))


def test_choice_never_mutates_its_input():
    y = _weekend_dip()
    y0 = y.copy()
    choose_season("D", y)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("freq, period, description", [
    ("D", 365, "yearly (365 days)"), ("B", 252, "yearly (252 trading days)"), ("h", 168, "weekly (168 hours)"),
    ("min", 1440, "daily (1440 minutes)"), ("MS", 12, "yearly (12 months)"), ("QE", 4, "yearly (4 quarters)"),
    ("D", 30, "30 days"), (None, 5, "5 steps"), ("15min", 4, "hourly (4 steps of 15 minutes)"),
])
def test_describe_season(freq, period, description):
    assert describe_season(freq, period).description == description


# ----------------------------------------------------------------- exponential smoothing

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


def test_ets_quiet_without_touching_global_warning_filters():
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # a step of 1e8: statsmodels says "Optimization failed to converge" (ConvergenceWarning) here
        ExponentialSmoothing(12).fit(np.r_[np.zeros(30), np.ones(30)] * 1e8, train_end=60, horizon=2)
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    assert warnings.filters == before


def test_make_baselines_gives_ets_the_season_only_when_found_or_given():
    yearly = make_baselines("D", window=30, y_train=_yearly_daily())["ets"]
    assert yearly.season == 365 and yearly.description == "yearly" and yearly.fallback  # found: too long at fit
    assert make_baselines("D", window=30, y_train=_weekend_dip())["ets"].season == 7
    assert make_baselines("D", window=30, y_train=_random_walk())["ets"].season is None  # default, not found
    assert make_baselines("D", window=30)["ets"].season is None
    assert make_baselines("D", window=30, season=7, y_train=_random_walk())["ets"].season == 7  # the user's
    weekly = make_baselines("D", window=30, y_train=_weekend_dip())["ets"].fit(_weekend_dip(), 300, 7)
    assert weekly.label == "Exponential smoothing (Holt–Winters, damped trend, weekly season)"


def test_make_baselines_ets_never_fails_on_a_short_training_part():
    y = _series(30)
    for train_end in (4, 12, 20):
        model = make_baselines("MS", window=3, y_train=y[:train_end])["ets"]
        assert model.fit(y, train_end, 2).predict_at(y, np.array([train_end - 1, 25])).shape == (2, 2)
