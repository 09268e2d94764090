"""Tests for forecaster.tickers and forecaster.yahoo: downloads with a fake yfinance, the cache, failures in words."""

from __future__ import annotations

import logging
import os
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from forecaster import yahoo
from forecaster.errors import DataError
from forecaster.series import studio_home
from forecaster.tickers import load_ticker
from forecaster.yahoo import YahooUnreachable
from tests.test_series import assert_tidy


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
                                   YahooUnreachable("offline", "no connection")])
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
        load_ticker("AAPL", download=fake_download(error=YahooUnreachable("limited")), cache_dir=tmp_path)
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
    monkeypatch.setattr(yahoo, "_reachable", lambda *args, **kwargs: probes.append("probe") or reachable)
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
    assert yahoo._reachable("127.0.0.1", 9, timeout=1) is False  # discard port: nothing listens
    assert yahoo._reachable("host.invalid", 443, timeout=1) is False
    assert time.perf_counter() - started < 5


@pytest.mark.timeout(60)
def test_real_yahoo_offline_says_unreachable_quietly(tmp_path, capfd):
    """The real yfinance path on a machine without network (skipped where Yahoo Finance answers)."""
    if yahoo._reachable():
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


def test_a_ticker_trading_every_day_keeps_a_daily_calendar(tmp_path):
    """Daily bars were always called "B": a coin trading on weekends would forecast weekdays only."""
    stocks = load_ticker("MSFT", download=fake_download(), cache_dir=tmp_path)
    assert stocks.freq == "B"
    every_day = yahoo_frame("BTC-USD").set_axis(pd.date_range("2024-01-01", periods=30, name="Date"))
    coin = load_ticker("BTC-USD", download=fake_download(every_day), cache_dir=tmp_path)
    assert coin.freq == "D"
