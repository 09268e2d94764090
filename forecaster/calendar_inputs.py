"""Calendar inputs known in advance: sin/cos terms of each step's timestamp, and the timestamps ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DAY_OF_YEAR_SPAN", "calendar_family", "calendar_names", "describe_calendar", "calendar_terms",
           "calendar_phases", "future_index", "next_timestamps", "known_calendar"]

# Which cycles each kind of calendar gets, as sin/cos pairs. Day of year needs two years of data: from a
# shorter series the training part never sees the days of year the test part falls on, so the term would
# only tell the network where in the series it is.
_CALENDAR_TERMS = {"hourly": ("hour", "dow", "doy"), "daily": ("dow", "doy"), "business": ("dow", "doy"),
                   "weekly": ("doy",), "monthly": ("month",), "quarterly": ("quarter",)}
_CALENDAR_FAMILIES = {"h": "hourly", "min": "hourly", "s": "hourly", "ms": "hourly", "us": "hourly", "ns": "hourly",
                      "D": "daily", "B": "business", "C": "business", "W": "weekly", "MS": "monthly", "ME": "monthly",
                      "BMS": "monthly", "BME": "monthly", "QS": "quarterly", "QE": "quarterly", "BQS": "quarterly",
                      "BQE": "quarterly"}
_TERM_NAMES = {"hour": "hour of day", "dow": "day of week", "doy": "day of year", "month": "month of year",
               "quarter": "quarter of year"}
DAY_OF_YEAR_SPAN = pd.Timedelta(days=729)  # two years: first to last day of two calendar years is 729 days or more


def calendar_family(freq: str | None) -> str | None:
    """hourly (and finer), daily, business, weekly, monthly or quarterly; None for yearly, irregular or unknown."""
    if not freq:
        return None
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return None
    family = _CALENDAR_FAMILIES.get(offset.rule_code.split("-")[0])
    if family == "hourly" and offset.nanos >= pd.Timedelta(days=1).value:  # "24h" steps like days
        return "daily"
    return family


def calendar_names(index: pd.DatetimeIndex, freq: str | None) -> tuple[str, ...]:
    """The calendar columns a series of this frequency and span gets: ("hour_sin", "hour_cos", ...); may be empty.

    An index without dates gets none.
    """
    if not isinstance(index, pd.DatetimeIndex):
        return ()
    terms = _CALENDAR_TERMS.get(calendar_family(freq), ())
    if len(index) < 2 or index[-1] - index[0] < DAY_OF_YEAR_SPAN:
        terms = tuple(term for term in terms if term != "doy")
    return tuple(f"{term}_{part}" for term in terms for part in ("sin", "cos"))


def describe_calendar(names: tuple[str, ...], freq: str | None = None) -> str:
    """The calendar columns in words, e.g. "hour of day, day of week"; empty when there are none."""
    terms = dict.fromkeys(name.rsplit("_", 1)[0] for name in names)
    words = [_TERM_NAMES[term] for term in terms]
    if "dow" in terms and calendar_family(freq) == "business":
        words[list(terms).index("dow")] = "day of the trading week"
    return ", ".join(words)


def _day_fraction(index: pd.DatetimeIndex) -> np.ndarray:
    return ((index.hour * 60 + index.minute) * 60 + index.second).to_numpy(dtype=np.float64) / 86400.0


def _phases(index: pd.DatetimeIndex, term: str, family: str | None) -> np.ndarray:
    """Where each timestamp lies in the term's cycle, from 0 (its start) to below 1."""
    day = _day_fraction(index)
    if term == "hour":
        return day
    if term == "dow":  # trading days cycle through five weekdays
        return (index.day_of_week.to_numpy() + day) / (5.0 if family == "business" else 7.0)
    if term == "doy":
        return (index.day_of_year.to_numpy() - 1 + day) / np.where(index.is_leap_year, 366.0, 365.0)
    if term == "month":
        return (index.month.to_numpy() - 1) / 12.0
    if term == "quarter":
        return (index.quarter.to_numpy() - 1) / 4.0
    raise ValueError(f"unknown calendar term {term!r}")


def calendar_terms(index: pd.DatetimeIndex, freq: str | None, names: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Sin/cos pairs in [-1, 1] of the cycles this frequency has, one row per timestamp, from the timestamps only.

    `names` asks for exactly these columns (a fitted model's); by default they are chosen by the frequency and
    the index's span (`calendar_names`). Yearly, irregular (None) and unknown frequencies get no columns, so
    switching the calendar on changes nothing for them.
    """
    index = pd.DatetimeIndex(index)
    names = calendar_names(index, freq) if names is None else tuple(names)
    family = calendar_family(freq)
    columns = {}
    for name in names:
        term, part = name.rsplit("_", 1)
        if term not in _CALENDAR_TERMS.get(family, ()) or part not in ("sin", "cos"):
            raise ValueError(f"{name!r} is not a calendar column of frequency {freq!r}")
        angle = 2 * np.pi * _phases(index, term, family)
        columns[name] = np.sin(angle) if part == "sin" else np.cos(angle)
    return pd.DataFrame(columns, index=index, columns=list(names), dtype=np.float64)


def calendar_phases(terms: pd.DataFrame) -> pd.DataFrame:
    """The inverse of calendar_terms: each sin/cos pair back to its phase in [0, 1) (e.g. hour / 24)."""
    pairs = dict.fromkeys(name.rsplit("_", 1)[0] for name in terms.columns)
    return pd.DataFrame({term: np.mod(np.arctan2(terms[f"{term}_sin"], terms[f"{term}_cos"]) / (2 * np.pi), 1.0)
                         for term in pairs}, index=terms.index)


def future_index(last: pd.Timestamp, freq: str | None, steps: int, index: pd.DatetimeIndex | None = None) -> pd.DatetimeIndex:
    """Timestamps of the next `steps` points after `last`, by frequency or else the median spacing."""
    if freq:
        try:
            dates = pd.date_range(start=last, periods=steps + 1, freq=freq)
            # date_range starts on `last` only when `last` lies on the frequency; otherwise on the next date.
            return dates[1:] if dates[0] == last else dates[:steps]
        except ValueError:
            pass
    # asi8 counts in the index's own unit (pandas 3 defaults to microseconds), not always nanoseconds.
    spacing = (pd.Timedelta(np.median(np.diff(index.asi8)), unit=index.unit) if index is not None and len(index) > 1
               else pd.Timedelta(days=1))
    return pd.DatetimeIndex([last + spacing * (k + 1) for k in range(steps)])


def next_timestamps(index: pd.DatetimeIndex, freq: str | None) -> pd.DatetimeIndex:
    """For every row, the timestamp of the step after it: the next row's, and past the end the next on the calendar.

    Row t of a window carries the calendar of time t + 1, so the origin (the last row) carries the calendar
    of the first step it forecasts, which is known in advance.
    """
    index = pd.DatetimeIndex(index)
    return index[1:].append(future_index(index[-1], freq, 1, index))


def known_calendar(index: pd.DatetimeIndex, freq: str | None, names: tuple[str, ...]) -> np.ndarray:
    """The calendar input of every row (T, len(names)): the terms of the next step's timestamp."""
    if not names:
        return np.empty((len(index), 0))
    return calendar_terms(next_timestamps(index, freq), freq, names).to_numpy()
