"""Built-in samples, and one entry point that loads any source ("sample:", "ticker:", a CSV path) as a Dataset."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecaster.csv_reader import read_csv
from forecaster.errors import DataError
from forecaster.frequency import infer_freq
from forecaster.series import Dataset, studio_home, tidy
from forecaster.tickers import INTERVALS, PRICE_FIELDS, YahooUnreachable, load_ticker

# Re-exported so that `from forecaster.datasets import ...` keeps working for the names that lived here.
__all__ = ["SampleInfo", "list_samples", "load_sample", "load_data",
           "Dataset", "studio_home", "infer_freq", "load_ticker", "read_csv", "YahooUnreachable", "INTERVALS",
           "PRICE_FIELDS"]


@dataclass(frozen=True)
class SampleInfo:
    """What a built-in sample is, shown before it is loaded."""

    name: str
    title: str
    group: str  # "Weather" or "Stocks"
    description: str
    freq: str
    target: str
    unit: str
    features: tuple[str, ...] = ()  # inputs suggested by default: measured up to each forecast's origin


# ---------------------------------------------------------------------------------------------- samples

def _monthly(symbol: str, company: str, since: str) -> SampleInfo:
    return SampleInfo(f"monthly-{symbol.lower()}", f"{company} monthly price", "Stocks",
                      f"Monthly stock price of {company} ({symbol}) in US dollars, {since} to March 2010, "
                      "from the vega_datasets package.", "MS", "price", "USD")


_SAMPLES = (
    SampleInfo("seattle-weather", "Seattle daily weather", "Weather",
               "Daily maximum and minimum temperature (°C), precipitation (mm) and wind speed (m/s) in Seattle, "
               "2012 to 2015, from NOAA via the vega_datasets package.", "D", "temp_max", "°C",
               # The day's other readings carry information the maximum alone lacks: with them the LSTM
               # beat naive by 4-6% (two seeds); without them it hovered around naive.
               ("temp_min", "precipitation", "wind")),
    SampleInfo("seattle-temps", "Seattle hourly temperature", "Weather",
               "Hourly air temperature (°F) in Seattle through 2010, from NOAA via the vega_datasets package.",
               "h", "temp", "°F"),
    SampleInfo("sf-temps", "San Francisco hourly temperature", "Weather",
               "Hourly air temperature (°F) in San Francisco through 2010, from NOAA via the vega_datasets package.",
               "h", "temp", "°F"),
    _monthly("MSFT", "Microsoft", "January 2000"),
    _monthly("AMZN", "Amazon", "January 2000"),
    _monthly("IBM", "IBM", "January 2000"),
    _monthly("GOOG", "Google", "August 2004"),
    _monthly("AAPL", "Apple", "January 2000"),
    SampleInfo("sp500", "S&P 500 daily", "Stocks",
               "Daily S&P 500 index open, high, low, close, adjusted close and volume on trading days, "
               "January 1999 to December 2018, from Yahoo Finance via the arch package.", "B", "Close", "points"),
    SampleInfo("nasdaq", "NASDAQ Composite daily", "Stocks",
               "Daily NASDAQ Composite index open, high, low, close, adjusted close and volume on trading days, "
               "January 1999 to December 2018, from Yahoo Finance via the arch package.", "B", "Close", "points"),
    SampleInfo("wti", "WTI crude oil daily", "Stocks",
               "Daily West Texas Intermediate crude oil spot price in US dollars per barrel, January 1986 to "
               "January 2019, from FRED via the arch package.", "B", "price", "USD/barrel"),
    SampleInfo("vix", "VIX volatility index daily", "Stocks",
               "Daily close of the CBOE Volatility Index (VIX), January 2014 to January 2019, "
               "from FRED via the arch package.", "B", "vix", "index points"),
)
_SAMPLE_BY_NAME = {info.name: info for info in _SAMPLES}


def list_samples() -> list[SampleInfo]:
    """The built-in samples, weather first, in display order."""
    return list(_SAMPLES)


def _vega(loader: str) -> pd.DataFrame:
    try:
        from vega_datasets import data
    except ImportError as exc:
        raise DataError("This sample needs the vega_datasets package; install it with pip install vega_datasets.") from exc
    return getattr(data, loader)().set_index("date")


def _arch_csv(name: str) -> pd.DataFrame:
    # Read the file arch ships rather than import arch: the import costs ~1.7 s, the read ~0.03 s.
    spec = importlib.util.find_spec("arch")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("This sample needs the arch package; install it with pip install arch.")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / name / f"{name}.csv.gz"
    frame = pd.read_csv(path, na_values=["."])  # FRED marks holidays with "."
    frame.index = pd.to_datetime(frame.pop("Date"), format="%m/%d/%Y")
    return frame.rename(columns={"DCOILWTICO": "price"})


def _raw_sample(name: str) -> pd.DataFrame:
    if name == "seattle-weather":
        return _vega("seattle_weather").drop(columns="weather")  # a text label, not a number
    if name in ("seattle-temps", "sf-temps"):
        return _vega(name.replace("-", "_"))
    if name.startswith("monthly-"):
        stocks = _vega("stocks")
        return stocks.loc[stocks["symbol"] == name.removeprefix("monthly-").upper(), ["price"]]
    return _arch_csv(name)


@functools.lru_cache(maxsize=None)
def _cached_sample(name: str) -> Dataset:
    info = _SAMPLE_BY_NAME[name]
    frame, notes = tidy(_raw_sample(name))
    return Dataset(frame, name, f"sample:{name}", info.target, info.features, info.freq, info.unit, info.description,
                   tuple(notes), {"rows": len(frame)})


def load_sample(name: str) -> Dataset:
    """Load a built-in sample by name (see list_samples); works offline."""
    key = str(name).strip().lower()
    if key not in _SAMPLE_BY_NAME:
        raise DataError(f"There is no built-in sample {name!r}; choose one of: {', '.join(_SAMPLE_BY_NAME)}.")
    cached = _cached_sample(key)
    # The cached frame is shared between callers: hand out a copy so nobody can change it for the next one.
    return dataclasses.replace(cached, frame=cached.frame.copy(), detected=dict(cached.detected))


def load_data(spec: str, **kwargs) -> Dataset:
    """Load "sample:NAME", "ticker:SYMBOL" (kwargs go to load_ticker) or a CSV path (kwargs go to read_csv)."""
    spec = str(spec or "").strip()
    kind, _, rest = spec.partition(":")
    if not spec:
        raise DataError("Say which data to load: sample:NAME, ticker:SYMBOL or the path of a CSV file.")
    if kind == "sample":
        if kwargs:
            raise TypeError(f"load_sample takes no options; got {sorted(kwargs)}.")
        return load_sample(rest)
    if kind == "ticker":
        return load_ticker(rest, **kwargs)
    if kind == "upload":
        raise DataError(f"The upload {rest!r} cannot be read again from its name; upload the file again.")
    return read_csv(spec, **kwargs)
