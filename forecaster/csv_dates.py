"""Finding a CSV table's date column and reading it: by header first, then by values; day-first or not; numbers too."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from forecaster.errors import DataError

__all__ = ["find_dates", "spread"]

_DATE_NAME = re.compile(r"date|time|datum|zeit|fecha|^(ds|dt|day|tag|period|month|year|week|jahr)$", re.I)
_NUMBER = r"[-+]?\d{1,3}([.,'\s]\d{3})*([.,]\d+)?|[-+]?\d*[.,]?\d+([eE][-+]?\d+)?"
_EARLIEST, _LATEST = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")


def spread(values: pd.Series, size: int = 200) -> pd.Series:
    """Up to `size` non-empty values taken evenly from the whole column, for quick verdicts."""
    present = values.dropna()
    return present.iloc[np.linspace(0, len(present) - 1, min(len(present), size)).astype(int)]


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
    if spread(text, 20).str.match(r"\d\d[./-]\d\d[./-]\d\d\d\d").all():
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
    sample = spread(text)
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


def find_dates(table: pd.DataFrame, date_column: str | None) -> tuple[str, pd.Series]:
    """The date column (the one named, else the first by name, else by values) and its values as dates."""
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
