"""Frequencies: offset families, legacy aliases, season lengths and names, the period the data shows, lookbacks."""

import numpy as np
import pytest

from forecaster.errors import ConfigError, DataError
from forecaster.frequency import (
    choose_season,
    default_window,
    describe_season,
    family_of,
    is_daily,
    season_length,
    window_range,
)

# ----------------------------------------------------------------- season lengths


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


# ----------------------------------------------------------------- choosing the period from the data

DAYS_3Y = 3 * 365


def yearly_daily(n=DAYS_3Y, seed=1):
    """Daily temperatures: a yearly sine plus noise that persists from day to day (AR(1), phi 0.8)."""
    rng = np.random.default_rng(seed)
    noise = np.zeros(n)
    for t in range(1, n):
        noise[t] = 0.8 * noise[t - 1] + rng.normal(0, 1.5)
    t = np.arange(n)
    return 12 + 8 * np.sin(2 * np.pi * t / 365.25) + noise


def weekend_dip(n=400, seed=2):
    """Daily sales: a level that wanders a little, 40% lower on Saturdays and Sundays."""
    rng = np.random.default_rng(seed)
    level = 100 + np.cumsum(rng.normal(0, 0.5, n))
    weekend = (np.arange(n) % 7) >= 5
    return level * np.where(weekend, 0.6, 1.0) + rng.normal(0, 2, n)


def random_walk(n=2000, seed=3):
    return 1000 + np.cumsum(np.random.default_rng(seed).normal(0, 10, n))


def test_yearly_cycle_in_daily_data_is_found():
    season = choose_season("D", yearly_daily())
    assert (season.period, season.found) == (365, True)
    assert season.description == "yearly (365 days)" and season.short == "yearly, 365 days"


def test_weekly_pattern_in_daily_data_is_found():
    season = choose_season("D", weekend_dip())
    assert (season.period, season.description, season.found) == (7, "weekly (7 days)", True)


def test_hourly_data_with_a_daily_cycle_gets_24_not_its_multiple_168():
    t = np.arange(24 * 7 * 4)
    y = 10 + 5 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(4).normal(0, 0.5, t.size)
    assert choose_season("h", y).description == "daily (24 hours)"


def test_random_walk_falls_back_to_the_frequency_default_and_says_so():
    season = choose_season("B", random_walk())
    assert (season.period, season.found) == (5, False)
    assert season.description == "weekly (5 trading days; no clear cycle found)"
    assert "no clear cycle" in choose_season("D", random_walk()).description


def test_a_cycle_needs_two_full_periods_in_the_training_part():
    # 1.5 years of a clear yearly cycle: too short to trust 365, and no weekly cycle either.
    season = choose_season("D", yearly_daily(n=int(1.5 * 365)))
    assert season.period == 7 and not season.found

def test_choice_considers_only_the_frequencys_cycles_and_divides_multiples():
    t = np.arange(24 * 7 * 4)
    daily = 10 + 5 * np.sin(2 * np.pi * t / 24)
    two_hourly = daily[::2]
    assert choose_season("2h", two_hourly).description == "daily (12 steps of 2 hours)"
    assert choose_season("W", random_walk(200)).description == "yearly (52 weeks; no clear cycle found)"
    assert choose_season(None, daily).description == "1 step: the same as naive"
    assert choose_season("7D", daily).period == 1


def test_constant_and_short_series_fall_back():
    assert choose_season("h", np.full(500, 3.0)).description == "daily (24 hours; no clear cycle found)"
    assert choose_season("D", np.array([1.0, 2.0])).period == 7
    with pytest.raises(DataError, match="NaN"):
        choose_season("D", np.array([1.0, np.nan, 2.0]))


def test_choice_never_mutates_its_input():
    y = weekend_dip()
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


# ----------------------------------------------------------------- families and lookbacks


@pytest.mark.parametrize("freq, unit, multiple", [
    ("D", "days", 1), ("2D", "days", 2), ("B", "trading days", 1), ("C", "trading days", 1), ("H", "hours", 1),
    ("2h", "hours", 2), ("T", "minutes", 1), ("W-SUN", "weeks", 1), ("M", "months", 1), ("BMS", "months", 1),
    ("QS-OCT", "quarters", 1), ("BQ", "quarters", 1),
])
def test_family_of_known_and_legacy_aliases(freq, unit, multiple):
    n, family = family_of(freq)
    assert (family.unit, n) == (unit, multiple)


@pytest.mark.parametrize("freq", ["s", "YE", "SME", None, "", "not a frequency", "0D"])
def test_family_of_unknown_frequencies_is_none(freq):
    assert family_of(freq)[1] is None


@pytest.mark.parametrize("freq, window", [
    ("D", 30), ("2D", 30), ("B", 20), ("C", 20), ("h", 48), ("H", 48), ("2h", 48), ("W", 26), ("W-SUN", 26),
    ("MS", 12), ("M", 12), ("ME", 12), ("QS", 8), ("Q", 8), ("QE", 8), ("min", 60), ("T", 60), ("15min", 60),
    ("s", 30), ("YE", 30), (None, 30), ("unknown", 30),
])
def test_default_window_is_one_natural_cycle_in_steps(freq, window):
    # The same lookbacks config.default_config had in its own table, now for every alias of a family.
    assert default_window(freq) == window


def test_window_range_for_search():
    assert window_range("D") == (7, 60) and window_range("2h") == (12, 168) and window_range("QE") == (2, 12)
    assert window_range("B") == window_range("C") == (5, 60)
    assert window_range("s") is None and window_range(None) is None
    assert all(low < high for low, high in filter(None, map(window_range, ["D", "B", "h", "min", "W", "MS", "QS"])))


@pytest.mark.parametrize("freq, daily", [("D", True), ("2D", True), ("B", False), ("h", False), ("W", False),
                                         (None, False), ("junk", False)])
def test_is_daily_means_calendar_days(freq, daily):
    assert is_daily(freq) is daily


def test_describe_season_refuses_a_bad_period():
    with pytest.raises(ConfigError, match="season must be a positive integer"):
        describe_season("D", 0)
