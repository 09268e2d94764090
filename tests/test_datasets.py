"""Tests for forecaster.datasets: the built-in samples, load_data's dispatch and the names it re-exports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecaster import csv_reader, frequency, series, tickers
from forecaster.datasets import Dataset, infer_freq, list_samples, load_data, load_sample, load_ticker, studio_home
from forecaster.errors import DataError
from tests.test_series import assert_tidy
from tests.test_tickers import fake_download

GOOD = Path(__file__).parent / "data" / "good"


# ------------------------------------------------------------------------------------------------- samples

def test_list_samples_groups_and_names():
    samples = list_samples()
    assert {s.group for s in samples} == {"Weather", "Stocks"}
    names = [s.name for s in samples]
    assert len(names) == len(set(names)) == 12
    assert {"seattle-weather", "seattle-temps", "sf-temps", "sp500", "nasdaq", "wti", "vix"} <= set(names)
    assert all(s.description.endswith(".") and s.freq and s.target for s in samples)


@pytest.mark.parametrize("info", list_samples(), ids=lambda s: s.name)
def test_each_sample_loads_offline(info):
    ds = load_sample(info.name)
    assert_tidy(ds)
    assert ds.target == info.target and ds.freq == info.freq and ds.unit == info.unit
    assert ds.source == f"sample:{info.name}" and ds.description == info.description
    assert len(ds.frame) >= 60
    assert infer_freq(ds.frame.index) == info.freq  # the declared frequency matches the data


def test_sample_details():
    weather = load_sample("seattle-weather")
    assert len(weather) if False else len(weather.frame) == 1461
    assert list(weather.frame.columns) == ["precipitation", "temp_max", "temp_min", "wind"]
    sp500 = load_sample("sp500")
    assert {"Open", "High", "Low", "Close", "Adj Close", "Volume"} == set(sp500.frame.columns)
    wti = load_sample("wti")
    assert list(wti.frame.columns) == ["price"] and wti.frame["price"].isna().sum() > 0
    assert any("missing" in note for note in wti.notes)
    assert len(load_sample("monthly-goog").frame) == 68


def test_sample_cache_cannot_be_corrupted_by_callers():
    first = load_sample("seattle-temps")
    first.frame.iloc[0, 0] = -999.0
    assert load_sample("seattle-temps").frame.iloc[0, 0] != -999.0


def test_unknown_sample_lists_valid_names():
    with pytest.raises(DataError, match="nope.*seattle-weather.*sp500"):
        load_sample("nope")


# ----------------------------------------------------------------------------------------------- load_data

def test_load_data_dispatch(tmp_path):
    assert load_data("sample:vix").name == "vix"
    assert load_data(str(GOOD / "pipe_monthly.csv")).target == "sales"
    assert load_data(str(GOOD / "yahoo_aapl.csv"), target="Open").target == "Open"
    ticker = load_data("ticker:msft", download=fake_download(), cache_dir=tmp_path)
    assert ticker.source == "ticker:MSFT"
    with pytest.raises(DataError, match="upload the file again"):
        load_data("upload:mine.csv")
    with pytest.raises(DataError, match="Say which data"):
        load_data("")


def test_names_that_moved_out_are_still_importable_from_datasets():
    """Callers import these from datasets; they live in series, frequency, tickers and csv_reader now."""
    assert Dataset is series.Dataset and studio_home is series.studio_home
    assert infer_freq is frequency.infer_freq and load_ticker is tickers.load_ticker
    from forecaster.datasets import INTERVALS, PRICE_FIELDS, YahooUnreachable, read_csv

    assert read_csv is csv_reader.read_csv and YahooUnreachable is tickers.YahooUnreachable
    assert "1d" in INTERVALS and "Close" in PRICE_FIELDS


# ---------------------------------------------------------------------------------------------- infer_freq

@pytest.mark.parametrize("index, expected", [
    (pd.date_range("2024-01-01", periods=50, freq="D"), "D"),
    (pd.bdate_range("2024-01-01", periods=60).delete([10, 30]), "B"),
    (pd.date_range("2024-01-01", periods=100, freq="h").delete(40), "h"),
    (pd.date_range("2020-01-01", periods=40, freq="MS").delete([5, 17]), "MS"),
    (pd.date_range("2024-01-07", periods=30, freq="W-SUN").delete(3), "W-SUN"),
    (pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-09", "2024-03-01", "2024-03-02 05:00"]), None),
    (pd.DatetimeIndex(["2024-01-01", "2024-01-02"]), None),
])
def test_infer_freq(index, expected):
    assert infer_freq(index) == expected
