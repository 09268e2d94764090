"""Forecast tables rounded to what the data has."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster.export import data_decimals, forecast_table


def test_decimals_follow_how_the_data_is_written():
    assert data_decimals(np.array([12.3, 11.0, 9.8, 14.1])) == 1
    assert data_decimals(np.array([4015.27, 3990.1, 4001.0])) == 2
    assert data_decimals(np.array([1_204_000.0, 998_000.0])) == 0
    assert data_decimals(np.array([np.pi, np.e])) == 6  # full precision data: capped


def test_small_whole_numbers_keep_two_significant_digits():
    assert data_decimals(np.array([3.0, 4.0, 2.0, 5.0])) == 1
    assert data_decimals(np.array([0.03, 0.04, 0.02])) == 3


def test_missing_values_are_ignored_and_an_empty_history_keeps_precision():
    assert data_decimals(np.array([np.nan, 10.5, np.inf, 11.5])) == 1
    assert data_decimals(np.array([np.nan])) == 6


def test_a_forecast_and_its_bands_are_rounded_like_the_history():
    forecast = pd.DataFrame({"temp": [12.345678, 13.98765], "lower_80": [10.11111, 11.0], "upper_80": [14.5555, 16.0]})
    out = forecast_table(forecast, pd.Series([12.3, 11.0, 10.4]))
    assert out.to_dict("list") == {"temp": [12.3, 14.0], "lower_80": [10.1, 11.0], "upper_80": [14.6, 16.0]}
    assert forecast["temp"].iloc[0] == 12.345678  # the input is not changed
    assert "12.3," in out.to_csv() and "12.345" not in out.to_csv()


def test_daily_forecasts_are_dated_without_a_time_and_hourly_ones_keep_it():
    daily = pd.DataFrame({"y": [1.0, 2.0]}, index=pd.date_range("1990-01-01", periods=2, freq="D"))
    assert list(forecast_table(daily, daily["y"]).index) == ["1990-01-01", "1990-01-02"]
    hourly = pd.DataFrame({"y": [1.0, 2.0]}, index=pd.date_range("1990-01-01", periods=2, freq="h"))
    assert isinstance(forecast_table(hourly, hourly["y"]).index, pd.DatetimeIndex)
