"""Live tickers from Yahoo Finance as a Dataset, with an on-disk cache used when the network fails."""

from __future__ import annotations

import os
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

import pandas as pd

from forecaster import yahoo
from forecaster.errors import DataError
from forecaster.frequency import infer_freq
from forecaster.series import Dataset, studio_home, tidy
from forecaster.yahoo import INTERVALS, PRICE_FIELDS, YahooUnreachable

__all__ = ["load_ticker", "INTERVALS", "PRICE_FIELDS", "YahooUnreachable", "CACHE_FRESH_SECONDS"]

CACHE_FRESH_SECONDS = 12 * 3600  # a download younger than this is reused without asking Yahoo again


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


def load_ticker(symbol: str, start: str | None = None, end: str | None = None, interval: str = "1d",
                price_field: str = "Close", *, download: Callable | None = None,
                cache_dir: Path | None = None, refresh: bool = False) -> Dataset:
    """Download a ticker's prices from Yahoo Finance, with an on-disk cache used when the network fails.

    `download` is called as ``download(symbol, start=start, end=end, interval=interval)`` with start and
    end as "YYYY-MM-DD" strings or None, and must return a DataFrame like ``yfinance.download`` does
    (flat or (field, ticker) MultiIndex columns). An empty frame means "no data for this symbol and these
    dates" (the message blames them); raising OSError (ConnectionError, TimeoutError, socket.gaierror, ...) means
    "Yahoo Finance could not be reached" (the message says so); any other exception is a failed download. The
    default (`yahoo.download`) calls yfinance quietly and raises YahooUnreachable (a ConnectionError) itself when
    its empty answer was the network's fault. In every failure a cached copy of the same request is used, with a
    note. Dates follow yfinance: start inclusive, end exclusive.
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
        fetch = download or yahoo.download  # looked up at call time, so tests can replace yahoo.download
        try:
            frame = yahoo.price_frame(fetch(symbol, start=start, end=end, interval=interval))
            failure = None
        except Exception as exc:  # noqa: BLE001 - yfinance and its HTTP stack raise many unrelated types
            frame, failure = None, exc
        if frame is not None:
            frame = tidy(frame)[0]  # naive times: offsets that change with daylight saving would not read back
            try:
                _write_cache(frame, path)
            except OSError as exc:
                notes.append(f"Could not save the download to the cache ({exc.strerror or exc}).")
        elif cached is not None:
            frame = cached
            notes.append(f"{yahoo.failure_note(failure)}, so this is the cached copy downloaded {_stamp(path)}.")
        elif failure is None:
            raise DataError(f"Yahoo Finance returned no data for {symbol!r} between {start or 'the first day'} and "
                            f"{end or 'today'}; check the symbol and dates, or use a built-in sample or upload a CSV.")
        else:
            raise DataError(yahoo.failure_message(symbol, failure, _other_downloads(folder, key, path)))
    if price_field not in frame.columns:
        raise DataError(f"Yahoo Finance sent no {price_field!r} prices for {symbol}; choose one of: "
                        f"{', '.join(frame.columns)}.")
    frame, tidy_notes = tidy(frame)
    unit = "shares" if price_field == "Volume" else "points" if symbol.startswith("^") else (
        "" if "." in symbol or "=" in symbol else "USD")  # other exchanges and FX quote in other currencies
    first, last = frame.index[0], frame.index[-1]
    return Dataset(frame, symbol, f"ticker:{symbol}", price_field, (),
                   # Inferred, not assumed "B" for daily bars: crypto and some indices trade every day.
                   infer_freq(frame.index) or ("B" if interval == "1d" else None), unit,
                   f"{symbol} prices from Yahoo Finance at interval {interval}, {first:%Y-%m-%d} to {last:%Y-%m-%d}.",
                   tuple(notes + tidy_notes), {"interval": interval, "cache_file": str(path), "rows": len(frame)})
