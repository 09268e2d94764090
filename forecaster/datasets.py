"""Built-in samples, live tickers with an on-disk cache, and forgiving CSV reading, all returning a Dataset."""

from __future__ import annotations

import csv
import dataclasses
import functools
import importlib.util
import io
import os
import re
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from forecaster.errors import DataError

MIN_ROWS = 3  # fewer rows cannot even hold one input step, one target and one check
MAX_ROWS = 2_000_000  # caps memory and training time for one upload
MAX_COLUMNS = 500
MAX_BYTES = 200 * 1024 * 1024

PRICE_FIELDS = ("Open", "High", "Low", "Close", "Adj Close", "Volume")
INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk", "1mo", "3mo")  # yfinance's list
TICKER_TIMEOUT_S = 10  # seconds a Yahoo request may take before it counts as unreachable (then: cache or message)
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

def _yahoo_download(symbol: str, *, start: str | None, end: str | None, interval: str) -> pd.DataFrame:
    import yfinance  # imported here: slow to import and only needed for live tickers

    return yfinance.download(symbol, start=start, end=end, interval=interval, progress=False,
                             auto_adjust=False, threads=False, timeout=TICKER_TIMEOUT_S)


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


def load_ticker(symbol: str, start: str | None = None, end: str | None = None, interval: str = "1d",
                price_field: str = "Close", *, download: Callable | None = None,
                cache_dir: Path | None = None, refresh: bool = False) -> Dataset:
    """Download a ticker's prices from Yahoo Finance, with an on-disk cache used when the network fails.

    `download` is called as ``download(symbol, start=start, end=end, interval=interval)`` with start and
    end as "YYYY-MM-DD" strings or None, and must return a DataFrame like ``yfinance.download`` does
    (flat or (field, ticker) MultiIndex columns); an empty frame means "no data". The default calls
    yfinance. Dates follow yfinance: start inclusive, end exclusive.
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
            failure = None if frame is not None else "empty"
        except Exception as exc:  # noqa: BLE001 - yfinance and its HTTP stack raise many unrelated types
            frame, failure = None, type(exc).__name__
        if frame is not None:
            frame = _tidy(frame)[0]  # naive times: offsets that change with daylight saving would not read back
            try:
                _write_cache(frame, path)
            except OSError as exc:
                notes.append(f"Could not save the download to the cache ({exc.strerror or exc}).")
        elif cached is not None:
            reason = ("Yahoo Finance returned no data" if failure == "empty"
                      else f"Yahoo Finance could not be reached ({failure})")
            frame = cached
            notes.append(f"{reason}, so this is the cached copy downloaded {_stamp(path)}.")
        elif failure == "empty":
            raise DataError(f"Yahoo Finance returned no data for {symbol!r} between {start or 'the first day'} and "
                            f"{end or 'today'}; check the symbol and dates, or use a built-in sample or upload a CSV.")
        else:
            raise DataError(f"Could not reach Yahoo Finance to download {symbol} ({failure}); check your network, "
                            "or use a built-in sample or upload a CSV.")
    if price_field not in frame.columns:
        raise DataError(f"Yahoo Finance sent no {price_field!r} prices for {symbol}; choose one of: "
                        f"{', '.join(frame.columns)}.")
    frame, tidy_notes = _tidy(frame)
    unit = "shares" if price_field == "Volume" else "points" if symbol.startswith("^") else (
        "" if "." in symbol or "=" in symbol else "USD")  # other exchanges and FX quote in other currencies
    first, last = frame.index[0], frame.index[-1]
    return Dataset(frame, symbol, f"ticker:{symbol}", price_field, (),
                   "B" if interval == "1d" else infer_freq(frame.index), unit,
                   f"{symbol} prices from Yahoo Finance at interval {interval}, {first:%Y-%m-%d} to {last:%Y-%m-%d}.",
                   tuple(notes + tidy_notes), {"interval": interval, "cache_file": str(path), "rows": len(frame)})


# ---------------------------------------------------------------------------------------------- CSV files

_DELIMITERS = (",", ";", "\t", "|")  # ties go to the earlier one
_EXTRA_NA = [".", "-", "--", "—", "#VALUE!", "#DIV/0!", "n.a.", "k.A."]  # FRED, spreadsheets, German exports
_DATE_NAME = re.compile(r"date|time|datum|zeit|fecha|^(ds|dt|day|tag|period|month|year|week|jahr)$", re.I)
_TARGET_NAME = re.compile(r"temp|value|price|^y$|wert|preis|kurs", re.I)
_NUMBER = r"[-+]?\d{1,3}([.,'\s]\d{3})*([.,]\d+)?|[-+]?\d*[.,]?\d+([eE][-+]?\d+)?"
_COMMA_DECIMAL = re.compile(r"[-+]?(\d+,(\d{1,2}|\d{4,})|\d{1,3}(\.\d{3})+,\d+)")
_DOT_DECIMAL = re.compile(r"[-+]?(\d+\.(\d{1,2}|\d{4,})|\d{1,3}(,\d{3})+\.\d+)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EARLIEST, _LATEST = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")
_HEAD_CHARS = 65536  # sniff delimiter and decimal from this much of the file


def _read_source(source: str | Path | bytes, name: str | None) -> tuple[bytes, str, str]:
    """Raw bytes, display name and reload source of a path or an upload."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "upload.csv"
        data, origin = bytes(source), f"upload:{label}"  # bytes() copies, so the caller's buffer is never touched
    else:
        path = Path(source).expanduser()
        label, origin = name or path.name, str(path)
        try:
            if path.is_dir():
                raise DataError(f"{path} is a folder, not a file; choose a CSV file.")
            if path.stat().st_size > MAX_BYTES:
                raise DataError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB; keep fewer rows or columns.")
            data = path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"There is no file at {path}; check the path.") from None
        except (OSError, ValueError) as exc:
            raise DataError(f"Could not open {path} ({getattr(exc, 'strerror', None) or exc}); "
                            "check the path and its permissions.") from None
    if len(data) > MAX_BYTES:
        raise DataError(f"The file is larger than {MAX_BYTES // 2**20} MB; keep fewer rows or columns.")
    if not data.strip():
        raise DataError("The file is empty; choose a CSV file with a header row and rows of dates and numbers.")
    return data, label, origin


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """The file's text and the encoding that read it; refuses binary files."""
    if encoding:
        candidates: tuple[str, ...] = (encoding,)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16",)
    elif b"\x00" in data[:_HEAD_CHARS]:
        candidates = ()  # NUL bytes never occur in a single-byte or UTF-8 text file
    else:
        candidates = ("utf-8-sig", "cp1252", "latin-1")  # latin-1 reads any byte, so one always succeeds
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except LookupError:
            raise DataError(f"{encoding!r} is not a text encoding Python knows; try utf-8 or latin-1.") from None
        except UnicodeDecodeError:
            if encoding:
                raise DataError(f"The file is not valid {encoding} text; leave the encoding empty to detect it.") from None
            continue
        head = text[:_HEAD_CHARS]
        if len(_CONTROL.findall(head)) > 0.01 * len(head):
            break  # control characters are what binary data looks like when read as text
        if candidate == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            candidate = "utf-8"
        return text.lstrip("\ufeff"), candidate
    raise DataError("The file looks binary, not like text; export the data as CSV (comma, semicolon or tab separated).")


def _head_lines(text: str) -> list[str]:
    lines = text[:_HEAD_CHARS].splitlines()
    if len(text) > _HEAD_CHARS:
        lines = lines[:-1]  # the last one may be cut in the middle
    return [line for line in lines if line.strip()][:100]


def _split(lines: list[str], delimiter: str) -> list[list[str]]:
    try:
        return [row for row in csv.reader(lines, delimiter=delimiter) if any(cell.strip() for cell in row)]
    except csv.Error:
        return []


def _sniff_delimiter(lines: list[str]) -> str:
    # csv.Sniffer guesses wildly on numeric data; instead pick the delimiter that splits the header
    # into several fields and splits (nearly) every other line into the same number of fields.
    best, best_key = None, None
    for delimiter in _DELIMITERS:
        rows = _split(lines, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        width, body = len(rows[0]), rows[1:]
        consistency = sum(len(row) == width for row in body) / len(body) if body else 1.0
        key = (consistency >= 0.9, width if consistency >= 0.9 else consistency)
        if best_key is None or key > best_key:
            best, best_key = delimiter, key
    if best is None:
        raise DataError("The file has only one column; it needs a date column and a column of numbers, "
                        "separated by commas, semicolons, tabs or |.")
    return best


def _sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    cells = [cell.strip() for row in rows[1:] for cell in row]
    comma = sum(bool(_COMMA_DECIMAL.fullmatch(c)) for c in cells)
    dot = sum(bool(_DOT_DECIMAL.fullmatch(c)) for c in cells)
    if comma != dot:
        return "," if comma > dot else "."
    # Only "1,234"-like cells: semicolon files are European exports, where the comma is the decimal mark.
    return "," if delimiter == ";" and any(re.fullmatch(r"[-+]?\d{1,3},\d{3}", c) for c in cells) else "."


def _parse_table(text: str, delimiter: str, decimal: str) -> tuple[pd.DataFrame, int]:
    """The text as a table of strings and numbers, and how many malformed lines were skipped."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            table = pd.read_csv(io.StringIO(text), sep=delimiter, decimal=decimal if decimal != delimiter else ".",
                                index_col=False, skipinitialspace=True, on_bad_lines="warn",
                                na_values=_EXTRA_NA, nrows=MAX_ROWS + 1, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError("The file has no header row; the first line must name the columns.") from None
    except (pd.errors.ParserError, ValueError, OverflowError, csv.Error) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise DataError(f"The file could not be read as a table ({reason}); "
                        "check that it is a CSV file with one header row.") from None
    skipped = sum(str(w.message).count("Skipping line") for w in caught)
    names: list[str] = []
    for i, column in enumerate(table.columns):
        base = str(column).strip() or f"column {i + 1}"
        unique, n = base, 1
        while unique in names:  # names equal after trimming spaces would clash
            n += 1
            unique = f"{base} ({n})"
        names.append(unique)
    return table.set_axis(names, axis=1), skipped


def _to_datetime(text: pd.Series, dayfirst: bool, fmt: str | None) -> pd.Series:
    """Naive µs datetimes, NaT where a value does not parse; never raises."""
    parsed = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas chatters about format guessing and dayfirst
        for utc in (False, True):  # mixed UTC offsets (across daylight saving) only parse as UTC
            try:
                parsed = pd.to_datetime(text, errors="coerce", dayfirst=dayfirst, format=fmt, utc=utc)
                break
            except (ValueError, TypeError, OverflowError):
                continue
    if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed):
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_localize(None)  # keep the wall-clock times the file shows
    return _plausible(parsed)


def _plausible(parsed: pd.Series) -> pd.Series:
    # Years like -1 or 9999 come from numbers misread as dates; the bounds also keep every date
    # convertible to nanoseconds, which some libraries (plotting, older pandas) still require.
    return parsed.dt.as_unit("us").where(parsed.between(_EARLIEST, _LATEST))


def _to_dates(text: pd.Series, dayfirst: bool) -> pd.Series:
    # pandas parses ISO dates in C but 31.12.2024 or 12/31/2024 row by row (~10x slower): reorder those first.
    layout = r"^(\d\d)[./-](\d\d)[./-](\d\d\d\d)"
    if _spread(text, 20).str.match(r"\d\d[./-]\d\d[./-]\d\d\d\d").all():
        iso = text.str.replace(layout, r"\3-\2-\1" if dayfirst else r"\3-\1-\2", regex=True)
        if ((iso != text) & text.notna()).sum() == text.notna().sum():
            text, dayfirst = iso, False  # dayfirst=True would misread 2024-01-02 as 1 February
    parsed = _to_datetime(text, dayfirst, None)
    failed = parsed.isna() & text.notna()
    if failed.any():
        # pandas guesses one format from the first value; values written another way need the slow parser.
        parsed = parsed.where(~failed, _to_datetime(text[failed], dayfirst, "mixed"))
    return parsed


def _dayfirst(sample: pd.Series) -> bool:
    parts = sample.str.extract(r"^(\d{1,2})([./-])(\d{1,2})\2\d{2,4}")
    if parts[0].notna().mean() < 0.5:
        return False
    first, second = pd.to_numeric(parts[0], errors="coerce"), pd.to_numeric(parts[2], errors="coerce")
    if (first > 12).any() or (second > 12).any():
        return bool((first > 12).any())
    return bool((parts[1] == ".").mean() > 0.5)  # 31.12.2024 is day-first by convention; 1/2/2024 is US


def _numbers_as_dates(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    present = numbers.dropna()
    none = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    if present.empty or not np.isfinite(present).all() or (present != present.round()).any():
        return none
    low, high = present.min(), present.max()
    if 1000 <= low and high <= 2500 or 10000101 <= low and high <= 29991231:  # years, or 20240131
        digits = numbers.astype("Int64").astype("string")
        return _to_datetime(digits, False, "%Y" if high <= 2500 else "%Y%m%d")
    for unit, (lo, hi) in (("s", (1e8, 1e11)), ("ms", (1e11, 1e14))):  # unix time, 1973 to 2286
        if lo <= low and high < hi:
            return _plausible(pd.to_datetime(numbers, unit=unit, errors="coerce"))
    return none


def _parse_dates(values: pd.Series, by_name: bool) -> tuple[pd.Series, float, str]:
    """The column read as dates, the share of its non-empty values that parsed, and one that did not."""
    present = values.dropna()
    none = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    if present.empty or is_bool_dtype(values):
        return none, 0.0, ""
    if is_numeric_dtype(values):
        # Bare numbers are dates only under a date-like header (years, 20240131, unix seconds).
        parsed = _numbers_as_dates(values) if by_name else none
        failed = present[parsed[present.index].isna()]
        return parsed, parsed.notna().sum() / len(present), str(failed.iloc[0]) if len(failed) else ""
    text = values.astype(str).str.strip()
    sample = _spread(text)
    if not by_name:
        # 1.5 and 2023 parse as dates too easily, words like "now" too: want digits that are not a number.
        if (sample.str.contains(r"\d") & ~sample.str.fullmatch(_NUMBER)).mean() < 0.9:
            return none, 0.0, ""
    dayfirst = _dayfirst(sample)
    trial = _to_dates(sample, dayfirst)  # a verdict on a sample first: parsing a long column is slow
    example = str(sample[trial.isna()].iloc[0]) if trial.isna().any() else ""
    if trial.notna().mean() < (0.5 if by_name else 0.9):
        return none, float(trial.notna().mean()), example
    parsed = _to_dates(text, dayfirst)
    return parsed, parsed.notna().sum() / len(present), example


def _find_dates(table: pd.DataFrame, date_column: str | None) -> tuple[str, pd.Series]:
    if date_column is not None:
        if date_column not in table.columns:
            raise DataError(f"There is no column {date_column!r}; choose the date column from: "
                            f"{', '.join(table.columns)}.")
        candidates = [date_column]
    else:
        candidates = [c for c in table.columns if _DATE_NAME.search(c)]
    partial = None
    for column in candidates:
        dates, share, example = _parse_dates(table[column], by_name=True)
        if share >= 0.9:
            return column, dates
        if partial is None or share > partial[2]:
            partial = (column, dates, share, example)
    if date_column is None:
        for column in (c for c in table.columns if c not in candidates):
            dates, share, _ = _parse_dates(table[column], by_name=False)
            if share >= 0.9:
                return column, dates
    if partial is not None and partial[2] >= 0.5:
        return partial[0], partial[1]
    if partial is not None:
        raise DataError(f"Most values in the date column {partial[0]!r} could not be read as dates (e.g. "
                        f"{partial[3]!r}); write dates like 2024-01-31 or 31.01.2024.")
    raise DataError("The file has no column that looks like dates; add a date column or name it with date_column.")


def _to_numbers(values: pd.Series, decimal: str) -> pd.Series:
    """The column as float64; cells that are not numbers become NaN."""
    if is_numeric_dtype(values) or is_bool_dtype(values):
        return values.astype("float64")
    text = values.astype(str).str.strip()
    quick = pd.to_numeric(text.str.replace(",", ".", regex=False) if decimal == "," else text, errors="coerce")
    if quick.notna().sum() == text.notna().sum():
        return quick.astype("float64")
    # Slower clean-up of "$1,234.50", "12 %", "1.234,5" and "1 234". No look-arounds in these patterns:
    # pandas then runs them in C through pyarrow instead of row by row in Python.
    text = text.str.replace(r"^([-+]?)[$€£¥]\s*", r"\1", regex=True).str.replace(r"\s*%$", "", regex=True)
    separators = "\\s\u00a0'’" + ("." if decimal == "," else ",")
    for _ in range(2):  # one pass removes every other separator of 1.234.567
        text = text.str.replace(rf"(\d)[{separators}](\d\d\d)(\D|$)", r"\1\2\3", regex=True)
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _spread(values: pd.Series, size: int = 200) -> pd.Series:
    """Up to `size` non-empty values taken evenly from the whole column, for quick verdicts."""
    present = values.dropna()
    return present.iloc[np.linspace(0, len(present) - 1, min(len(present), size)).astype(int)]


def _numeric_columns(table: pd.DataFrame, decimal: str) -> tuple[dict[str, pd.Series], list[str], list[str], int]:
    """Columns that hold numbers, those dropped as text, those empty, and how many cells were not numbers."""
    numbers, dropped, empty, bad = {}, [], [], 0
    for column in table.columns:
        values = table[column]
        present = int(values.notna().sum())
        if present == 0:
            empty.append(column)
        elif _to_numbers(_spread(values), decimal).notna().mean() < 0.5:  # mostly text: skip the full pass
            dropped.append(column)
        else:
            parsed = _to_numbers(values, decimal)
            ok = int(parsed.notna().sum())
            if ok >= 0.5 * present:  # mostly numbers: the odd "n/a" or typo becomes a gap
                numbers[column], bad = parsed, bad + present - ok
            else:
                dropped.append(column)
    return numbers, dropped, empty, bad


def _check_column(column: str, role: str, frame: pd.DataFrame, empty: list[str], date_column: str) -> None:
    available = ", ".join(frame.columns)
    if column in frame.columns and frame[column].notna().any():
        return
    if column in frame.columns or column in empty:
        raise DataError(f"The {role} column {column!r} has no values in any row; choose one of: {available}.")
    if column == date_column:
        raise DataError(f"{column!r} is the date column, so it cannot be the {role}; choose one of: {available}.")
    raise DataError(f"There is no numeric column {column!r} for the {role}; choose one of: {available}.")


def read_csv(source: str | Path | bytes, *, name: str | None = None, date_column: str | None = None,
             target: str | None = None, features: Sequence[str] | None = None,
             delimiter: str | None = None, decimal: str | None = None, encoding: str | None = None) -> Dataset:
    """Read a CSV path or uploaded bytes, detecting encoding, delimiter, decimal mark and date column."""
    data, label, origin = _read_source(source, name)
    text, encoding = _decode(data, encoding)
    if not text.strip():
        raise DataError("The file is empty; choose a CSV file with a header row and rows of dates and numbers.")
    lines = _head_lines(text)
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise DataError(f"Delimiter {delimiter!r} cannot separate columns; use one character such as , ; | or tab.")
    delimiter = delimiter or _sniff_delimiter(lines)
    rows = _split(lines, delimiter)
    if rows and len(rows[0]) > MAX_COLUMNS:
        raise DataError(f"The file has {len(rows[0])} columns; at most {MAX_COLUMNS} are supported, so keep fewer.")
    if decimal is not None and decimal not in (".", ","):
        raise DataError(f"Decimal mark {decimal!r} is not supported; use . or , (or leave it empty to detect it).")
    decimal = decimal or _sniff_decimal(rows, delimiter)

    table, skipped = _parse_table(text, delimiter, decimal)
    if len(table.columns) > MAX_COLUMNS:
        raise DataError(f"The file has {len(table.columns)} columns; at most {MAX_COLUMNS} are supported, so keep fewer.")
    if len(table.columns) < 2:
        raise DataError("The file has only one column; it needs a date column and a column of numbers, "
                        "separated by commas, semicolons, tabs or |.")
    if table.empty:
        raise DataError(f"The file has a header row but no data rows; add at least {MIN_ROWS} rows below the header.")
    if len(table) > MAX_ROWS:
        raise DataError(f"The file has more than {MAX_ROWS:,} rows; keep fewer rows or aggregate them first.")
    date_col, dates = _find_dates(table, date_column)
    numbers, dropped, empty, bad = _numeric_columns(table.drop(columns=date_col), decimal)
    if not numbers:
        raise DataError(f"The file has dates in {date_col!r} but no column of numbers; add a numeric column to forecast.")

    notes = []
    if skipped:
        notes.append(f"Skipped {skipped} malformed lines that had the wrong number of fields.")
    unread = int(dates.isna().sum())
    if unread:
        notes.append(f"Dropped {unread} rows whose date is missing or could not be read.")
    if dropped:
        notes.append(f"Ignored columns that do not hold numbers: {', '.join(dropped)}.")
    if bad:
        notes.append(f"Treated {bad} values that are not numbers as missing.")
    raw = pd.DataFrame(numbers).set_axis(pd.DatetimeIndex(dates), axis=0).loc[dates.notna().to_numpy()]
    frame, tidy_notes = _tidy(raw)

    if target is None:
        filled = [c for c in frame.columns if frame[c].notna().any()]
        named = [c for c in filled if _TARGET_NAME.search(c)]
        target = next((c for c in ("Close", "Adj Close") if c in filled), None) or (named or filled or [None])[0]
        if target is None:
            raise DataError("Every numeric column is empty in the rows that have dates; check the file's values.")
    _check_column(target, "target", frame, empty, date_col)
    features = [features] if isinstance(features, str) else features or ()
    chosen = tuple(dict.fromkeys(str(f) for f in features if f != target))
    for feature in chosen:
        _check_column(feature, "feature", frame, empty, date_col)
    usable = int(frame[target].notna().sum())
    if usable < MIN_ROWS:
        raise DataError(f"Only {usable} rows have both a date and a value in {target!r}; at least {MIN_ROWS} "
                        "are needed, so add more rows.")

    unit = re.search(r"[(\[]\s*([^()\[\]]{1,12}?)\s*[)\]]\s*$", target)
    first, last = frame.index[0], frame.index[-1]
    return Dataset(frame, label, origin, target, chosen, infer_freq(frame.index), unit.group(1) if unit else "",
                   f"{len(frame)} rows from {first:%Y-%m-%d} to {last:%Y-%m-%d} read from {label}.",
                   tuple(notes + tidy_notes),
                   {"delimiter": delimiter, "decimal": decimal, "encoding": encoding, "date_column": date_col,
                    "numeric_columns": list(frame.columns), "dropped_columns": dropped + empty,
                    "rows": len(frame), "skipped_lines": skipped})


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
