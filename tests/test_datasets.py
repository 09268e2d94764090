"""Tests for forecaster.datasets: samples, CSV detection and errors, tickers with a fake download."""

from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecaster import csv_reader, datasets
from forecaster.csv_reader import read_csv
from forecaster.datasets import (Dataset, infer_freq, list_samples, load_data, load_sample, load_ticker,
                                 studio_home)
from forecaster.errors import DataError

DATA = Path(__file__).parent / "data"
GOOD, BAD = DATA / "good", DATA / "bad"


def assert_tidy(ds: Dataset) -> None:
    """The invariants every Dataset keeps, whatever its source."""
    index = ds.frame.index
    assert isinstance(index, pd.DatetimeIndex) and index.name == "date"
    assert index.tz is None and index.is_monotonic_increasing and index.is_unique
    assert all(dtype == np.float64 for dtype in ds.frame.dtypes)
    assert ds.target in ds.frame.columns
    assert set(ds.features) <= set(ds.frame.columns)


# ------------------------------------------------------------------------------------------- good CSV files

def test_yahoo_export():
    ds = read_csv(GOOD / "yahoo_aapl.csv")
    assert_tidy(ds)
    assert ds.target == "Close" and ds.name == "yahoo_aapl.csv" and ds.source == str(GOOD / "yahoo_aapl.csv")
    assert list(ds.frame.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert len(ds.frame) == 60 and ds.freq == "B"  # two holidays are missing, still trading days
    assert ds.detected["delimiter"] == "," and ds.detected["decimal"] == "." and ds.detected["date_column"] == "Date"
    assert ds.frame.index[0] == pd.Timestamp("2024-01-02")
    assert ds.frame["Close"].iloc[0] == pytest.approx(185.002731)
    assert ds.notes == ()


def test_semicolon_decimal_comma_latin1():
    ds = read_csv(GOOD / "weather_semicolon_decimal_comma.csv")
    assert_tidy(ds)
    d = ds.detected
    assert (d["delimiter"], d["decimal"], d["date_column"]) == (";", ",", "Datum")
    assert d["encoding"] in ("cp1252", "latin-1")
    assert list(ds.frame.columns) == ["Temperatur (°C)", "Niederschlag (mm)", "Windstärke"]
    assert ds.target == "Temperatur (°C)" and ds.unit == "°C"
    assert ds.frame["Temperatur (°C)"].iloc[0] == 12.5  # from "12,5"
    assert ds.frame.index[0] == pd.Timestamp("2023-03-01") and ds.frame.index[1] == pd.Timestamp("2023-03-02")
    assert ds.freq == "D" and len(ds.frame) == 30


def test_tab_with_utf8_bom():
    ds = read_csv(GOOD / "utf8_bom_tab.tsv")
    assert_tidy(ds)
    d = ds.detected
    assert (d["delimiter"], d["encoding"], d["date_column"]) == ("\t", "utf-8-sig", "timestamp")
    assert "Load (MW)" in ds.frame.columns and d["dropped_columns"] == ["site"]
    assert ds.target == "Temperatur °C"  # a temperature-like name wins over the first column
    assert ds.freq == "h" and len(ds.frame) == 48
    assert any("site" in note for note in ds.notes)


def test_pipe_delimited_with_quoted_delimiter():
    ds = read_csv(GOOD / "pipe_monthly.csv")
    assert_tidy(ds)
    assert ds.detected["delimiter"] == "|" and ds.detected["date_column"] == "month"
    assert ds.target == "sales" and ds.freq == "MS" and len(ds.frame) == 36
    assert ds.frame.index[0] == pd.Timestamp("2020-01-01")


def test_duplicates_are_averaged_and_rows_sorted():
    ds = read_csv(GOOD / "duplicates_unsorted.csv")
    assert_tidy(ds)
    assert len(ds.frame) == 10 and ds.target == "value"
    assert ds.frame.loc["2024-01-04", "value"] == pytest.approx((13.0 + 20.0) / 2)
    assert ds.frame.loc["2024-01-08", "value"] == pytest.approx((17.0 + 30.0) / 2)
    assert "Averaged 2 duplicate timestamps." in ds.notes
    assert "Rows were not in date order; sorted them." in ds.notes


def test_bytes_work_like_a_path_and_are_not_mutated():
    path = GOOD / "weather_semicolon_decimal_comma.csv"
    raw = bytearray(path.read_bytes())
    before = bytes(raw)
    from_bytes = read_csv(raw, name="wetter.csv")
    assert bytes(raw) == before
    from_path = read_csv(path)
    pd.testing.assert_frame_equal(from_bytes.frame, from_path.frame)
    assert from_bytes.source == "upload:wetter.csv" and from_bytes.name == "wetter.csv"
    assert from_bytes.detected == from_path.detected


def test_user_target_and_features():
    ds = read_csv(GOOD / "yahoo_aapl.csv", target="Volume", features=["Open", "High"])
    assert ds.target == "Volume" and ds.features == ("Open", "High")
    with pytest.raises(DataError, match=r"no numeric column 'Nope'.*Open, High, Low, Close, Adj Close, Volume"):
        read_csv(GOOD / "yahoo_aapl.csv", target="Nope")
    with pytest.raises(DataError, match=r"'Missing'.*feature.*Close"):
        read_csv(GOOD / "yahoo_aapl.csv", features=["Missing"])
    with pytest.raises(DataError, match="is the date column"):
        read_csv(GOOD / "yahoo_aapl.csv", target="Date")


def test_explicit_options_override_detection():
    text = "when;x;y\n2024-01-01;1.5;2\n2024-01-02;2.5;3\n2024-01-03;3.5;4\n"
    ds = read_csv(text.encode(), delimiter=";", decimal=".", encoding="utf-8", date_column="when", target="y")
    assert ds.target == "y" and ds.frame["x"].tolist() == [1.5, 2.5, 3.5]
    with pytest.raises(DataError, match="There is no column 'then'"):
        read_csv(text.encode(), date_column="then")
    with pytest.raises(DataError, match="not a text encoding"):
        read_csv(text.encode(), encoding="klingon")


@pytest.mark.parametrize("text, expected", [
    ("Date,Price\n2024-01-01,\"1,234.50\"\n2024-01-02,\"1,300.25\"\n2024-01-03,\"1,310.00\"\n", [1234.5, 1300.25, 1310.0]),
    ("Datum;Kurs\n01.01.2024;1.234,5\n02.01.2024;1.300,25\n03.01.2024;1.310,0\n", [1234.5, 1300.25, 1310.0]),
    ("date,v\n1/2/2024,1\n1/3/2024,2\n1/4/2024,3\n", [1.0, 2.0, 3.0]),  # US month-first
])
def test_thousands_separators_and_date_styles(text, expected):
    ds = read_csv(text.encode())
    assert ds.frame.iloc[:, 0].tolist() == expected
    assert ds.frame.index[0] == pd.Timestamp("2024-01-01") or ds.frame.index[0] == pd.Timestamp("2024-01-02")
    assert ds.frame.index[1] - ds.frame.index[0] == pd.Timedelta(days=1)


def test_dates_found_by_values_timezones_removed_and_inf_noted():
    text = ("when it happened,reading\n2024-03-01T00:00:00+01:00,1\n2024-03-01T01:00:00+01:00,inf\n"
            "2024-03-01T02:00:00+01:00,3\n2024-03-01T03:00:00+01:00,4\n")
    ds = read_csv(text.encode())
    assert_tidy(ds)
    assert ds.detected["date_column"] == "when it happened"
    assert ds.frame.index[0] == pd.Timestamp("2024-03-01 00:00")  # local wall-clock time kept
    assert np.isnan(ds.frame["reading"].iloc[1])
    assert any("infinite" in note for note in ds.notes) and ds.freq == "h"


def test_unix_timestamps_and_years_under_a_date_header():
    unix = read_csv(b"time,v\n1704067200,1\n1704070800,2\n1704074400,3\n")
    assert unix.frame.index[0] == pd.Timestamp("2024-01-01 00:00") and unix.freq == "h"
    years = read_csv(b"year,v\n2001,1\n2002,2\n2003,3\n")
    assert years.frame.index[2] == pd.Timestamp("2003-01-01")
    with pytest.raises(DataError, match="no column that looks like dates"):
        read_csv(b"a,b\n1.5,2\n2.5,3\n2023,4\n")  # plain numbers are not dates


def test_html_and_unicode_in_headers_stay_plain_text():
    text = "date,<script>alert(1)</script>,température ☀\n2024-01-01,1,2\n2024-01-02,2,3\n2024-01-03,3,4\n"
    ds = read_csv(text.encode())
    assert list(ds.frame.columns) == ["<script>alert(1)</script>", "température ☀"]
    assert ds.target == "température ☀"


def test_malformed_lines_and_bad_values_are_noted():
    text = ("date,v,w\n2024-01-01,1,2\n2024-01-02,2,3,99\n2024-01-03,oops,4\n2024-01-04,4,5\nnot a date,5,6\n"
            "2024-01-05,5,6\n")
    ds = read_csv(text.encode())
    assert len(ds.frame) == 4 and ds.frame["v"].isna().sum() == 1
    assert ds.detected["skipped_lines"] == 1
    joined = " ".join(ds.notes)
    assert "Skipped 1 malformed" in joined and "could not be read" in joined and "not numbers" in joined


# -------------------------------------------------------------------------------------------- bad CSV files

BAD_FILES = {
    "empty.csv": ("empty", {}),
    "header_only.csv": ("no data rows", {}),
    "binary_garbage.csv": ("binary", {}),
    "single_column.csv": ("only one column", {}),
    "no_date_column.csv": ("no column that looks like dates", {}),
    "no_numeric_column.csv": ("no column of numbers", {}),
    "target_all_missing.csv": ("no values in any row", {"target": "value"}),
    "too_few_rows.csv": ("at least 3 are needed", {}),
    "unparseable_dates.csv": ("could not be read as dates", {}),
}


@pytest.mark.parametrize("filename", sorted(BAD_FILES))
def test_bad_file_raises_a_specific_error(filename):
    words, options = BAD_FILES[filename]
    with pytest.raises(DataError, match=words) as caught:
        read_csv(BAD / filename, **options)
    message = str(caught.value)
    assert message.endswith(".") and "\n" not in message and "Traceback" not in message


def test_bad_file_messages_are_distinct():
    messages = set()
    for filename, (_, options) in BAD_FILES.items():
        with pytest.raises(DataError) as caught:
            read_csv(BAD / filename, **options)
        messages.add(str(caught.value))
    assert len(messages) == len(BAD_FILES)


def test_missing_path_and_limits(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="There is no file"):
        read_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_csv(tmp_path)
    wide = "date," + ",".join(f"c{i}" for i in range(csv_reader.MAX_COLUMNS + 1)) + "\n"
    with pytest.raises(DataError, match="at most 500"):
        read_csv(wide.encode())
    monkeypatch.setattr(csv_reader, "MAX_ROWS", 5)
    long = "date,v\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 10))
    with pytest.raises(DataError, match="more than 5 rows"):
        read_csv(long.encode())
    monkeypatch.setattr(csv_reader, "MAX_BYTES", 10)
    with pytest.raises(DataError, match="larger than"):
        read_csv(long.encode())


@given(st.one_of(st.binary(max_size=400), st.text(max_size=300).map(lambda s: s.encode("utf-8"))))
def test_any_input_gives_a_dataset_or_a_data_error(raw):
    try:
        ds = read_csv(raw)
    except DataError:
        return
    assert_tidy(ds)


_CSV_CELL = st.one_of(st.sampled_from(["2024-01-01", "01.02.2024", "1/2/2024", "", "NA", "1,5", "1.5", "-", "x", '"']),
                      st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(str), st.text(max_size=6))


@given(st.sampled_from([",", ";", "\t", "|"]),
       st.lists(st.lists(_CSV_CELL, min_size=1, max_size=4), min_size=1, max_size=8))
def test_csv_like_input_gives_a_dataset_or_a_data_error(delimiter, rows):
    raw = "\n".join(delimiter.join(row) for row in [["date", "value"]] + rows).encode("utf-8")
    try:
        ds = read_csv(raw)
    except DataError:
        return
    assert_tidy(ds)


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


# ------------------------------------------------------------------------------------------------- tickers

def yahoo_frame(symbol: str = "AAPL", days: int = 30) -> pd.DataFrame:
    """What yfinance 1.x download returns: (Price, Ticker) MultiIndex columns, a "Date" index."""
    index = pd.bdate_range("2024-01-02", periods=days, name="Date")
    close = np.linspace(100.0, 130.0, days)
    fields = {"Adj Close": close * 0.99, "Close": close, "High": close + 1, "Low": close - 1,
              "Open": close - 0.5, "Volume": np.full(days, 1_000_000)}
    columns = pd.MultiIndex.from_tuples([(f, symbol) for f in fields], names=["Price", "Ticker"])
    return pd.DataFrame(np.column_stack(list(fields.values())), index=index, columns=columns)


def fake_download(result=None, error: Exception | None = None, calls: list | None = None):
    def download(symbol, *, start=None, end=None, interval="1d"):
        if calls is not None:
            calls.append((symbol, start, end, interval))
        if error is not None:
            raise error
        return yahoo_frame(symbol) if result is None else result
    return download


def test_ticker_download_then_network_failure_uses_cache(tmp_path):
    calls: list = []
    first = load_ticker("aapl", start="2024-01-01", interval="1d", download=fake_download(calls=calls),
                        cache_dir=tmp_path)
    assert_tidy(first)
    assert calls == [("AAPL", "2024-01-01", None, "1d")]
    assert first.name == "AAPL" and first.source == "ticker:AAPL" and first.target == "Close"
    assert first.freq == "B" and first.unit == "USD" and first.notes == ()
    assert list(first.frame.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert len(list(tmp_path.glob("*.csv"))) == 1 and not list(tmp_path.glob("*.tmp"))

    # A fresh cache is used without asking the network at all.
    again = load_ticker("AAPL", start="2024-01-01", download=fake_download(error=AssertionError("no call")),
                        cache_dir=tmp_path)
    assert again.notes[0].startswith("Loaded from the cache (downloaded ")
    pd.testing.assert_frame_equal(again.frame, first.frame, check_freq=False)

    # Asked to refresh while offline: the stale copy comes back with a note that says so.
    offline = load_ticker("AAPL", start="2024-01-01", download=fake_download(error=ConnectionError("down")),
                          cache_dir=tmp_path, refresh=True)
    assert offline.notes[0].startswith("Yahoo Finance could not be reached (ConnectionError: no network connection?), "
                                       "so this is the cached copy downloaded ")
    pd.testing.assert_frame_equal(offline.frame, first.frame, check_freq=False)


def test_stale_cache_is_downloaded_again(tmp_path):
    calls: list = []
    load_ticker("MSFT", download=fake_download(calls=calls), cache_dir=tmp_path)
    cache = next(tmp_path.glob("*.csv"))
    old = time.time() - 13 * 3600
    os.utime(cache, (old, old))
    ds = load_ticker("MSFT", download=fake_download(calls=calls), cache_dir=tmp_path)
    assert len(calls) == 2 and ds.notes == ()
    # A finished past range never changes, so an old file is still fresh.
    load_ticker("MSFT", start="2020-01-01", end="2021-01-01", download=fake_download(calls=calls), cache_dir=tmp_path)
    cache = tmp_path / "MSFT_2020-01-01_2021-01-01_1d.csv"
    os.utime(cache, (old, old))
    assert load_ticker("MSFT", start="2020-01-01", end="2021-01-01", download=fake_download(calls=calls),
                       cache_dir=tmp_path).notes[0].startswith("Loaded from the cache")
    assert len(calls) == 3


def test_ticker_flat_columns_price_field_and_default_cache_dir():
    flat = yahoo_frame("^GSPC").droplevel("Ticker", axis=1)
    ds = load_ticker("^GSPC", price_field="adj close", download=fake_download(flat))
    assert ds.target == "Adj Close" and ds.unit == "points"
    assert list((studio_home() / "cache" / "tickers").glob("_GSPC_*.csv"))


def test_ticker_errors_without_cache(tmp_path):
    with pytest.raises(DataError, match="returned no data for 'ZZZZ'") as empty:
        load_ticker("ZZZZ", download=fake_download(pd.DataFrame()), cache_dir=tmp_path)
    assert "check the symbol and dates" in str(empty.value) and "reach" not in str(empty.value)
    with pytest.raises(DataError, match=r"Could not reach Yahoo Finance to download AAPL \(TimeoutError: no answer "
                                        r"in time; a slow or missing network connection\?\)"):
        load_ticker("AAPL", download=fake_download(error=TimeoutError()), cache_dir=tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("error", [ConnectionError("Failed to resolve query2.finance.yahoo.com"),
                                   OSError(101, "Network is unreachable"),
                                   datasets.YahooUnreachable("offline", "no connection")])
def test_unreachable_yahoo_does_not_blame_the_symbol(tmp_path, error):
    with pytest.raises(DataError) as caught:
        load_ticker("AAPL", download=fake_download(error=error), cache_dir=tmp_path)
    message = str(caught.value)
    assert message.startswith("Could not reach Yahoo Finance to download AAPL (")
    assert "no network connection?); use a built-in sample or upload a CSV." in message
    assert "check the symbol" not in message and "cache" not in message  # nothing cached: not worth a word


def test_unreachable_message_points_at_other_cached_ranges(tmp_path):
    load_ticker("AAPL", start="2020-01-01", end="2021-01-01", download=fake_download(), cache_dir=tmp_path)
    load_ticker("AAPLX", download=fake_download(), cache_dir=tmp_path)  # another symbol: not listed
    with pytest.raises(DataError) as caught:
        load_ticker("AAPL", start="2022-01-01", download=fake_download(error=ConnectionError()), cache_dir=tmp_path)
    assert str(caught.value) == (
        "Could not reach Yahoo Finance to download AAPL (ConnectionError: no network connection?); use a cached "
        "download (ask again for 2020-01-01 to 2021-01-01 at 1d), a built-in sample or upload a CSV.")


def test_other_failures_say_what_happened(tmp_path):
    with pytest.raises(DataError, match=r"refused to send AAPL because it is limiting requests.*wait a few minutes"):
        load_ticker("AAPL", download=fake_download(error=datasets.YahooUnreachable("limited")), cache_dir=tmp_path)
    with pytest.raises(DataError, match=r"Downloading AAPL from Yahoo Finance failed \(KeyError: 'chart'\); try "
                                        r"again later, or use a built-in sample or upload a CSV\."):
        load_ticker("AAPL", download=fake_download(error=KeyError("chart")), cache_dir=tmp_path)
    load_ticker("AAPL", download=fake_download(), cache_dir=tmp_path)
    stale = load_ticker("AAPL", download=fake_download(error=KeyError("chart")), cache_dir=tmp_path, refresh=True)
    assert stale.notes[0].startswith("Downloading from Yahoo Finance failed (KeyError: 'chart'), so this is the cached")


# The default download path, with yfinance.download replaced by fakes that log what yfinance 1.7 logs.

def fake_yfinance(monkeypatch, lines: list[str], answer: pd.DataFrame | None = None, reachable: bool = True):
    """yfinance.download logs `lines` through the yfinance logger and returns `answer` (empty by default)."""
    import yfinance

    def download(symbol, **kwargs):
        logger = logging.getLogger("yfinance")
        for line in lines:
            logger.error(line)
        return pd.DataFrame() if answer is None else answer

    monkeypatch.setattr(yfinance, "download", download)
    probes: list[str] = []
    monkeypatch.setattr(datasets, "_reachable", lambda *args, **kwargs: probes.append("probe") or reachable)
    return probes


def test_default_download_tells_a_dns_failure_from_a_missing_symbol(monkeypatch, tmp_path, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    probes = fake_yfinance(monkeypatch, ["Failed to get ticker 'AAPL' reason: Failed to perform, curl: (6) Could not "
                                         "resolve host: query2.finance.yahoo.com", "['AAPL']: DNSError('Failed to "
                                         "perform, curl: (6) Could not resolve host: query2.finance.yahoo.com.')"])
    with pytest.raises(DataError, match=r"^Could not reach Yahoo Finance to download AAPL \(no network connection\?\)"):
        load_ticker("AAPL", cache_dir=tmp_path)
    assert probes == []  # yfinance's own record was enough

    fake_yfinance(monkeypatch, ["['ZZZZ']: YFPricesMissingError('possibly delisted; no price data found')"])
    with pytest.raises(DataError, match="returned no data for 'ZZZZ'.*check the symbol"):
        load_ticker("ZZZZ", cache_dir=tmp_path)

    fake_yfinance(monkeypatch, ["['AAPL']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"])
    with pytest.raises(DataError, match="limiting requests"):
        load_ticker("AAPL", cache_dir=tmp_path)

    # yfinance's noise reaches neither the console nor the root logger, and the logger is left as it was.
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert not [r for r in caplog.records if r.name.startswith("yfinance")]
    assert logging.getLogger("yfinance").propagate and not logging.getLogger("yfinance").handlers


def test_default_download_checks_the_network_when_yfinance_says_nothing(monkeypatch, tmp_path):
    probes = fake_yfinance(monkeypatch, [], reachable=False)
    with pytest.raises(DataError, match=r"Could not reach Yahoo Finance to download AAPL \(no network connection\?\)"):
        load_ticker("AAPL", cache_dir=tmp_path)
    assert probes == ["probe"]
    # Reachable, yet nothing came: then it is the symbol or the dates.
    fake_yfinance(monkeypatch, [], reachable=True)
    with pytest.raises(DataError, match="check the symbol"):
        load_ticker("AAPL", cache_dir=tmp_path)
    # Behind a proxy a direct probe proves nothing, so an unexplained empty answer stays "no data".
    probes = fake_yfinance(monkeypatch, [], reachable=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    with pytest.raises(DataError, match="check the symbol"):
        load_ticker("AAPL", cache_dir=tmp_path)
    assert probes == []


def test_default_download_passes_a_good_answer_through(monkeypatch, tmp_path):
    probes = fake_yfinance(monkeypatch, [], answer=yahoo_frame("MSFT"), reachable=False)
    assert len(load_ticker("MSFT", cache_dir=tmp_path).frame) == 30 and probes == []


def test_reachable_is_bounded_and_false_for_a_closed_port():
    started = time.perf_counter()
    assert datasets._reachable("127.0.0.1", 9, timeout=1) is False  # discard port: nothing listens
    assert datasets._reachable("host.invalid", 443, timeout=1) is False
    assert time.perf_counter() - started < 5


@pytest.mark.timeout(60)
def test_real_yahoo_offline_says_unreachable_quietly(tmp_path, capfd):
    """The real yfinance path on a machine without network (skipped where Yahoo Finance answers)."""
    if datasets._reachable():
        pytest.skip("Yahoo Finance is reachable from here; this checks the offline path")
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        with pytest.raises(DataError) as error:
            load_ticker("AAPL", cache_dir=tmp_path)
    assert str(error.value) == ("Could not reach Yahoo Finance to download AAPL (no network connection?); "
                                "use a built-in sample or upload a CSV.")
    assert time.perf_counter() - started < 45
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out, err)
    assert not [w for w in caught if "yfinance" in str(w.filename)], [str(w.message) for w in caught]


@pytest.mark.parametrize("kwargs, words", [
    ({"symbol": ""}, "Ticker symbol .* is not valid"),
    ({"symbol": "AA PL"}, "Ticker symbol .* is not valid"),
    ({"symbol": "../etc"}, "Ticker symbol .* is not valid"),
    ({"symbol": "AAPL", "interval": "2d"}, "Interval '2d'"),
    ({"symbol": "AAPL", "price_field": "Median"}, "Price field 'Median'"),
    ({"symbol": "AAPL", "start": "2024-02-01", "end": "2024-01-01"}, "must be before"),
    ({"symbol": "AAPL", "start": "someday"}, "is not a date"),
])
def test_ticker_argument_errors(kwargs, words, tmp_path):
    with pytest.raises(DataError, match=words):
        load_ticker(download=fake_download(error=AssertionError("not called")), cache_dir=tmp_path, **kwargs)


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


def test_a_ticker_trading_every_day_keeps_a_daily_calendar(tmp_path):
    """Daily bars were always called "B": a coin trading on weekends would forecast weekdays only."""
    stocks = load_ticker("MSFT", download=fake_download(), cache_dir=tmp_path)
    assert stocks.freq == "B"
    every_day = yahoo_frame("BTC-USD").set_axis(pd.date_range("2024-01-01", periods=30, name="Date"))
    coin = load_ticker("BTC-USD", download=fake_download(every_day), cache_dir=tmp_path)
    assert coin.freq == "D"
