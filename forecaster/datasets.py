"""Built-in samples and live tickers with an on-disk cache, returning a Dataset; CSV files load via csv_reader."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import logging
import os
import re
import socket
import tempfile
import threading
import time
import urllib.request
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from forecaster.errors import DataError

PRICE_FIELDS = ("Open", "High", "Low", "Close", "Adj Close", "Volume")
INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk", "1mo", "3mo")  # yfinance's list
TICKER_TIMEOUT_S = 10  # seconds a Yahoo request may take before it counts as unreachable (then: cache or message)
YAHOO_HOST = "query2.finance.yahoo.com"  # where yfinance 1.x asks for prices
PROBE_TIMEOUT_S = 3  # seconds the reachability check may take when an answer came back empty
CACHE_FRESH_SECONDS = 12 * 3600  # a download younger than this is reused without asking Yahoo again


@dataclass(frozen=True)
class Dataset:
    """One loaded series: numeric float64 columns on a naive, sorted, unique DatetimeIndex named "date"."""

    frame: pd.DataFrame
    name: str  # short display name
    source: str  # how to load it again: "sample:NAME", "ticker:SYM", a CSV path or "upload:<filename>"
    target: str  # default column to forecast
    features: tuple[str, ...] = ()  # suggested extra input columns
    freq: str | None = None  # pandas offset alias, None when the spacing is irregular
    unit: str = ""
    description: str = ""
    notes: tuple[str, ...] = ()  # sentences to show the user about what loading changed or assumed
    detected: dict = field(default_factory=dict, compare=False, hash=False)


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


def studio_home() -> Path:
    """Folder for the studio's own files: $FORECASTER_HOME or ~/.forecaster (callers create it when writing)."""
    return Path(os.environ.get("FORECASTER_HOME") or Path.home() / ".forecaster").expanduser()


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
    frame, notes = _tidy(_raw_sample(name))
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


# ---------------------------------------------------------------------------------------------- shared tidying

def _tidy(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Bring any source to one shape: naive sorted unique "date" index (µs), float64 columns; never mutates."""
    notes: list[str] = []
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_localize(None)  # keep local wall-clock times, so market hours stay readable
    keep = ~index.isna()
    frame = frame.astype("float64").set_axis(index.as_unit("us"), axis=0).loc[keep]
    frame.columns = [str(c) for c in frame.columns]
    infinite = int(np.isinf(frame.to_numpy()).sum())
    if infinite:
        frame = frame.replace([np.inf, -np.inf], np.nan)
        notes.append(f"Treated {infinite} infinite values as missing.")
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        notes.append("Rows were not in date order; sorted them.")
    duplicates = int(frame.index.duplicated().sum())
    if duplicates:
        frame = frame.groupby(level=0).mean()
        notes.append(f"Averaged {duplicates} duplicate timestamps.")
    frame = frame.rename_axis("date")
    missing = frame.isna().sum()
    if missing.sum():
        where = ", ".join(f"{col}: {n}" for col, n in missing[missing > 0].items())
        notes.append(f"{int(missing.sum())} values are missing ({where}); the cleaning step will fill or drop them.")
    return frame, notes


def _step_alias(step: pd.Timedelta) -> str:
    day = pd.Timedelta(days=1)
    if step % day == pd.Timedelta(0):
        return "D" if step == day else f"{step // day}D"  # to_offset would say "24h"
    return pd.tseries.frequencies.to_offset(step).freqstr


def infer_freq(index: pd.DatetimeIndex) -> str | None:
    """The series' pandas frequency alias; tolerates a few gaps (holidays, a skipped hour); None if irregular."""
    index = pd.DatetimeIndex(index).dropna().unique().sort_values()
    if len(index) < 3:
        return None
    with pd.option_context("future.infer_freq_returns_offset", True):
        exact = pd.infer_freq(index)
    if exact is not None:
        return getattr(exact, "freqstr", exact)
    steps = pd.Series(np.diff(index.to_numpy()))
    step = pd.Timedelta(steps.mode().iloc[0])
    midnight = bool((index == index.normalize()).all())
    if midnight and index.is_month_start.all():
        candidate = "MS"
    elif midnight and index.is_month_end.all():
        candidate = "ME"
    elif step == pd.Timedelta(days=1) and (index.day_of_week < 5).all():
        candidate = "B"  # trading days: weekdays with a few holidays missing
    elif step == pd.Timedelta(days=7) and index.day_of_week.nunique() == 1:
        candidate = f"W-{index[0].day_name()[:3].upper()}"
    else:
        candidate = _step_alias(step)
    # A gappy series must sit on the candidate's grid and fill most of it, else it is truly irregular.
    if candidate not in ("MS", "ME", "B") and (index[-1] - index[0]) / step > 1.25 * len(index):
        return None
    grid = pd.date_range(index[0], index[-1], freq=candidate)
    if len(grid) == 0 or not index.isin(grid).all() or len(index) < 0.8 * len(grid):
        return None
    return candidate


# ---------------------------------------------------------------------------------------------- tickers

class YahooUnreachable(ConnectionError):
    """Yahoo Finance did not answer; `kind` is "offline", "timeout" or "limited" (it refuses: too many requests)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind


# What yfinance logs per symbol when the network, not the symbol, failed; and when Yahoo throttles us.
_NETWORK_WORDS = re.compile(r"DNSError|ConnectionError|ConnectTimeout|Could not resolve|Failed to perform, curl|"
                            r"Network is unreachable|Connection refused|No route to host|timed out|Timeout", re.I)
_LIMIT_WORDS = re.compile(r"RateLimit|Too Many Requests|Rate limited", re.I)


class _SymbolErrors(logging.Handler):
    """Collects the yfinance log lines about one symbol that the calling thread produces."""

    def __init__(self, symbol: str) -> None:
        super().__init__(logging.WARNING)
        self.thread, self.symbol, self.messages = threading.get_ident(), symbol.upper(), []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record must not break the download
            return
        # Only lines naming the symbol: a failed cookie fetch alone (ad blockers) does not stop prices.
        if record.thread == self.thread and (f"'{self.symbol}'" in message or f"${self.symbol}" in message):
            self.messages.append(message)


_quiet_lock = threading.Lock()
_quiet_state = {"depth": 0, "propagate": True}  # calls inside _quiet_yfinance now; the logger's own setting


@contextmanager
def _quiet_yfinance(symbol: str) -> Iterator[list[str]]:
    """Keep yfinance's log lines and warnings off the console during a call; yield its lines about `symbol`.

    yfinance 1.x keeps its per-symbol errors in a per-call object (yfinance.shared._ERRORS stays empty), so its
    log lines are the record of what went wrong. Stdout is not redirected: that would swallow other threads'.
    """
    logger = logging.getLogger("yfinance")
    collector = _SymbolErrors(symbol)
    # Its own warnings (pandas deprecations inside yfinance) are not the user's business; the filter is idempotent.
    warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
    with _quiet_lock:  # several sessions may download at once: the first in silences, the last out restores
        if _quiet_state["depth"] == 0:
            _quiet_state["propagate"] = logger.propagate
            logger.propagate = False
        _quiet_state["depth"] += 1
        logger.addHandler(collector)  # a handler present also keeps logging's last-resort printer away
    try:
        yield collector.messages
    finally:
        with _quiet_lock:
            logger.removeHandler(collector)
            _quiet_state["depth"] -= 1
            if _quiet_state["depth"] == 0:
                logger.propagate = _quiet_state["propagate"]


def _reachable(host: str = YAHOO_HOST, port: int = 443, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to host:port opens within about `timeout` seconds (name lookup included)."""
    result: list[bool] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    # getaddrinfo has no timeout of its own: a thread bounds the whole check.
    worker = threading.Thread(target=connect, name="yahoo-probe", daemon=True)
    worker.start()
    worker.join(2 * timeout)
    return bool(result and result[0])


def _behind_proxy() -> bool:
    """A proxy may reach Yahoo where a direct connection cannot, so a failed direct probe would prove nothing."""
    proxies = urllib.request.getproxies()
    if any(proxies.get(scheme) for scheme in ("https", "all")):
        return True
    try:
        import yfinance

        return bool(yfinance.config.network.proxy)
    except (ImportError, AttributeError):
        return False


def _yahoo_download(symbol: str, *, start: str | None, end: str | None, interval: str) -> pd.DataFrame:
    """yfinance.download, quiet; raises YahooUnreachable when an empty answer is the network's fault, not the symbol's."""
    import yfinance  # imported here: slow to import and only needed for live tickers

    with _quiet_yfinance(symbol) as errors:
        raw = yfinance.download(symbol, start=start, end=end, interval=interval, progress=False,
                                auto_adjust=False, threads=False, timeout=TICKER_TIMEOUT_S)
    if _yahoo_frame(raw) is not None:
        return raw
    said = " ".join(errors)
    if _LIMIT_WORDS.search(said):
        raise YahooUnreachable("limited", said)
    if _NETWORK_WORDS.search(said):
        raise YahooUnreachable("timeout" if re.search(r"timed out|Timeout", said, re.I) else "offline", said)
    # yfinance said nothing useful (or changed how it says it): check the network ourselves.
    if not _behind_proxy() and not _reachable():
        raise YahooUnreachable("offline", f"no connection to {YAHOO_HOST}")
    return raw


def _check_ticker_args(symbol: str, start, end, interval: str, price_field: str) -> tuple[str, str | None, str | None, str]:
    symbol, interval, price_field = str(symbol or "").strip().upper(), interval or "1d", price_field or "Close"
    if not re.fullmatch(r"[A-Z0-9.^=\-]{1,20}", symbol):
        raise DataError(f"Ticker symbol {symbol!r} is not valid; use letters, digits and . ^ - = as Yahoo Finance "
                        "writes them, e.g. AAPL, ^GSPC or EURUSD=X.")
    if interval not in INTERVALS:
        raise DataError(f"Interval {interval!r} is not one Yahoo Finance offers; choose one of: {', '.join(INTERVALS)}.")
    fields = {f.lower(): f for f in PRICE_FIELDS}
    if str(price_field).strip().lower() not in fields:
        raise DataError(f"Price field {price_field!r} is unknown; choose one of: {', '.join(PRICE_FIELDS)}.")
    dates = []
    for label, value in (("start", start), ("end", end)):
        if value is None or str(value).strip() == "":
            dates.append(None)
            continue
        try:
            dates.append(pd.Timestamp(str(value).strip()).strftime("%Y-%m-%d"))
        except (ValueError, TypeError, OverflowError, NotImplementedError):
            raise DataError(f"The {label} date {value!r} is not a date; write it like 2024-01-31.") from None
    if dates[0] and dates[1] and dates[0] >= dates[1]:
        raise DataError(f"The start date {dates[0]} must be before the end date {dates[1]}.")
    return symbol, dates[0], dates[1], fields[str(price_field).strip().lower()]


def _yahoo_frame(raw: object) -> pd.DataFrame | None:
    """yfinance's answer as a flat frame of the known price columns, or None when it is empty."""
    if not isinstance(raw, pd.DataFrame) or raw.empty:
        return None
    columns = raw.columns
    if isinstance(columns, pd.MultiIndex):
        # yfinance 1.x answers with (field, ticker) columns; keep the level that names the fields.
        known = {f.lower() for f in PRICE_FIELDS}
        level = next((i for i in range(columns.nlevels)
                      if known & {str(v).lower() for v in columns.get_level_values(i)}), 0)
        columns = columns.get_level_values(level)
    canonical = {f.lower(): f for f in PRICE_FIELDS}
    frame = raw.set_axis([canonical.get(str(c).strip().lower(), str(c)) for c in columns], axis=1)
    frame = frame.loc[:, ~frame.columns.duplicated()][[f for f in PRICE_FIELDS if f in frame.columns]]
    frame = frame.apply(pd.to_numeric, errors="coerce").dropna(how="all")
    if frame.empty:
        return None
    frame.index = pd.to_datetime(frame.index, errors="coerce", utc=False)
    return frame


def _read_cache(path: Path) -> pd.DataFrame | None:
    try:
        frame = pd.read_csv(path, index_col=0).apply(pd.to_numeric, errors="coerce")
        frame.index = pd.to_datetime(frame.index, format="ISO8601")
    except (OSError, ValueError, pd.errors.ParserError):
        return None  # no cache, or a damaged one: treat both as absent
    return frame if not frame.empty else None


def _write_cache(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a crash or a second session never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index_label="date")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _stamp(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")


def _failure_kind(exc: BaseException) -> str:
    """What a failed download means: "offline", "timeout", "limited" (Yahoo throttles) or "error" (anything else)."""
    if isinstance(exc, YahooUnreachable):
        return exc.kind
    if _LIMIT_WORDS.search(f"{type(exc).__name__} {exc}"):
        return "limited"
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        return "timeout"
    return "offline" if isinstance(exc, OSError) else "error"  # ConnectionError, socket.gaierror, curl errors


def _failure_reason(exc: BaseException) -> str:
    """The words in parentheses after "could not reach Yahoo Finance"; names the exception a caller raised."""
    kind = _failure_kind(exc)
    name = "" if isinstance(exc, YahooUnreachable) else f"{type(exc).__name__}: "
    if kind == "timeout":
        return f"{name}no answer in time; a slow or missing network connection?"
    if kind == "limited":
        return f"{name}it is limiting requests from here for now"
    if kind == "offline":
        return f"{name}no network connection?"
    return f"{type(exc).__name__}: {str(exc)[:200]}" if str(exc) else type(exc).__name__


def _failure_note(exc: BaseException | None) -> str:
    """The start of the note on a cached copy used because the download failed (None: it came back empty)."""
    if exc is None:
        return "Yahoo Finance returned no data"
    if _failure_kind(exc) == "error":
        return f"Downloading from Yahoo Finance failed ({_failure_reason(exc)})"
    return f"Yahoo Finance could not be reached ({_failure_reason(exc)})"


def _other_downloads(folder: Path, key: str, path: Path, most: int = 3) -> list[str]:
    """The other date ranges of this symbol in the cache, in words ("2020-01-01 to 2021-01-01 at 1d"), newest first."""
    try:
        files = sorted(folder.glob(f"{key}_*.csv"), key=lambda f: f.stat().st_mtime, reverse=True)
    except OSError:
        return []
    ranges = []
    for file in files:
        parts = file.name[len(key) + 1:-len(".csv")].split("_")
        if file != path and len(parts) == 3 and parts[2] in INTERVALS:
            first, last, interval = parts
            ranges.append(f"{'the first day' if first == 'first' else first} to "
                          f"{'today' if last == 'latest' else last} at {interval}")
    return ranges[:most] + ([f"{len(ranges) - most} more"] if len(ranges) > most else [])


def _failure_message(symbol: str, exc: BaseException, cached: list[str]) -> str:
    """One sentence for a download that failed with no cached copy of the range: what happened, what to do."""
    ways = (f"use a cached download (ask again for {', or '.join(cached)}), a built-in sample or upload a CSV"
            if cached else "use a built-in sample or upload a CSV")
    kind = _failure_kind(exc)
    if kind == "limited":
        return (f"Yahoo Finance refused to send {symbol} because it is limiting requests from here for now; "
                f"wait a few minutes and try again, or {ways}.")
    if kind == "error":
        return f"Downloading {symbol} from Yahoo Finance failed ({_failure_reason(exc)}); try again later, or {ways}."
    return f"Could not reach Yahoo Finance to download {symbol} ({_failure_reason(exc)}); {ways}."


def load_ticker(symbol: str, start: str | None = None, end: str | None = None, interval: str = "1d",
                price_field: str = "Close", *, download: Callable | None = None,
                cache_dir: Path | None = None, refresh: bool = False) -> Dataset:
    """Download a ticker's prices from Yahoo Finance, with an on-disk cache used when the network fails.

    `download` is called as ``download(symbol, start=start, end=end, interval=interval)`` with start and
    end as "YYYY-MM-DD" strings or None, and must return a DataFrame like ``yfinance.download`` does
    (flat or (field, ticker) MultiIndex columns). An empty frame means "no data for this symbol and these
    dates" (the message blames them); raising OSError (ConnectionError, TimeoutError, socket.gaierror, ...) means
    "Yahoo Finance could not be reached" (the message says so); any other exception is a failed download. The
    default calls yfinance quietly and raises YahooUnreachable (a ConnectionError) itself when its empty answer
    was the network's fault. In every failure a cached copy of the same request is used, with a note.
    Dates follow yfinance: start inclusive, end exclusive.
    """
    symbol, start, end, price_field = _check_ticker_args(symbol, start, end, interval, price_field)
    folder = Path(cache_dir) if cache_dir is not None else studio_home() / "cache" / "tickers"
    key = re.sub(r"[^A-Z0-9.=\-]", "_", symbol)  # "^" is not safe in every file system
    path = folder / f"{key}_{start or 'first'}_{end or 'latest'}_{interval}.csv"
    cached = _read_cache(path)
    immutable = end is not None and pd.Timestamp(end) <= pd.Timestamp.now().normalize()
    notes: list[str] = []
    if cached is not None and not refresh and (immutable or time.time() - path.stat().st_mtime < CACHE_FRESH_SECONDS):
        frame = cached
        notes.append(f"Loaded from the cache (downloaded {_stamp(path)}).")
    else:
        fetch = download or _yahoo_download
        try:
            frame = _yahoo_frame(fetch(symbol, start=start, end=end, interval=interval))
            failure = None
        except Exception as exc:  # noqa: BLE001 - yfinance and its HTTP stack raise many unrelated types
            frame, failure = None, exc
        if frame is not None:
            frame = _tidy(frame)[0]  # naive times: offsets that change with daylight saving would not read back
            try:
                _write_cache(frame, path)
            except OSError as exc:
                notes.append(f"Could not save the download to the cache ({exc.strerror or exc}).")
        elif cached is not None:
            frame = cached
            notes.append(f"{_failure_note(failure)}, so this is the cached copy downloaded {_stamp(path)}.")
        elif failure is None:
            raise DataError(f"Yahoo Finance returned no data for {symbol!r} between {start or 'the first day'} and "
                            f"{end or 'today'}; check the symbol and dates, or use a built-in sample or upload a CSV.")
        else:
            raise DataError(_failure_message(symbol, failure, _other_downloads(folder, key, path)))
    if price_field not in frame.columns:
        raise DataError(f"Yahoo Finance sent no {price_field!r} prices for {symbol}; choose one of: "
                        f"{', '.join(frame.columns)}.")
    frame, tidy_notes = _tidy(frame)
    unit = "shares" if price_field == "Volume" else "points" if symbol.startswith("^") else (
        "" if "." in symbol or "=" in symbol else "USD")  # other exchanges and FX quote in other currencies
    first, last = frame.index[0], frame.index[-1]
    return Dataset(frame, symbol, f"ticker:{symbol}", price_field, (),
                   # Inferred, not assumed "B" for daily bars: crypto and some indices trade every day.
                   infer_freq(frame.index) or ("B" if interval == "1d" else None), unit,
                   f"{symbol} prices from Yahoo Finance at interval {interval}, {first:%Y-%m-%d} to {last:%Y-%m-%d}.",
                   tuple(notes + tidy_notes), {"interval": interval, "cache_file": str(path), "rows": len(frame)})



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
    from forecaster.csv_reader import read_csv  # it builds on this module's Dataset and tidying

    return read_csv(spec, **kwargs)
