"""Cleaning before the split: columns chosen, resampled, put on the full calendar, gaps filled, outliers clipped."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster.config import DataConfig
from forecaster.errors import ConfigError, DataError
from forecaster.frequency import calendar_word, infer_freq

__all__ = ["select_columns", "resample_frame", "missing_timestamps", "add_missing_timestamps", "CalendarGaps",
           "calendar_gaps", "fill_missing", "clip_outliers", "clean"]


def select_columns(frame: pd.DataFrame, target: str, features: tuple[str, ...]) -> pd.DataFrame:
    """The target followed by the features, as float64; names a missing column clearly."""
    columns = [target, *features]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        available = ", ".join(map(str, frame.columns))
        raise DataError(f"Column {missing[0]!r} is not in the data; available columns are: {available}.")
    try:
        selected = frame[columns].astype("float64")
    except (TypeError, ValueError) as error:
        raise DataError(f"Columns {columns} must be numeric ({error}); pick numeric columns.") from None
    if selected[target].notna().sum() == 0:
        raise DataError(f"The target column {target!r} has no values at all; pick another target column.")
    return selected.replace([np.inf, -np.inf], np.nan)


def resample_frame(frame: pd.DataFrame, rule: str | None) -> pd.DataFrame:
    """Average onto a coarser calendar (e.g. 'W'); None keeps the frame as it is."""
    if not rule:
        return frame
    try:
        pd.tseries.frequencies.to_offset(rule)
    except ValueError:
        raise ConfigError(f"resample {rule!r} is not a pandas frequency; use e.g. 'D', 'W', 'MS' or 'h'.") from None
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError("Resampling needs a date index; load the data with a date column.")
    resampled = frame.resample(rule).mean()
    if len(resampled) > 1.1 * len(frame) + 1:
        raise DataError(f"Resampling to {rule!r} is finer than the data itself and would invent "
                        f"{len(resampled) - len(frame):,} rows; choose a coarser frequency or keep the original.")
    return resampled


_GAP_HANDLING = {"interpolate": "filled by interpolation", "ffill": "filled with the last value before each",
                 "drop": "left as gaps, so windows span them"}


def missing_timestamps(index: pd.DatetimeIndex, freq: str | None) -> pd.DatetimeIndex:
    """Timestamps of the regular `freq` calendar between the index's first and last that the index lacks.

    Empty for irregular series (freq None), for an index that does not lie on that calendar, and for
    business-day (trading-day) calendars: markets close on holidays, so a weekday without a price is
    not a missing value and must not be invented.
    """
    unit = index.unit if isinstance(index, pd.DatetimeIndex) else "us"
    none = pd.DatetimeIndex([], dtype=f"datetime64[{unit}]", name=getattr(index, "name", None))
    if not freq or not isinstance(index, pd.DatetimeIndex) or index.dropna().size < 2:
        return none
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return none
    if "Business" in type(offset).__name__:
        return none
    present = index.dropna()
    grid = pd.date_range(present.min(), present.max(), freq=offset, unit=unit, name=index.name)
    if not present.isin(grid).all():
        return none
    return grid.difference(present)


def add_missing_timestamps(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame on its full calendar (inferred from the index): absent timestamps become rows of NaN."""
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or not index.is_unique or not index.is_monotonic_increasing:
        return frame
    missing = missing_timestamps(index, infer_freq(index))
    return frame if missing.empty else frame.reindex(index.union(missing))


@dataclass(frozen=True)
class CalendarGaps:
    """Timestamps absent from a series' regular calendar, and what cleaning does with them."""

    freq: str | None
    missing: pd.DatetimeIndex
    method: str  # the missing-value method: interpolate, ffill or drop

    def __len__(self) -> int:
        return len(self.missing)

    def note(self, shown: int = 5) -> str:
        """One sentence for the user, e.g. '2 dates missing from the daily calendar: ... (filled by interpolation).'"""
        if self.missing.empty:
            return ""
        calendar = calendar_word(self.freq)
        dated = (self.missing == self.missing.normalize()).all()
        noun = ("date" if dated else "timestamp") + ("s" if len(self.missing) > 1 else "")
        listed = ", ".join(self.missing[:shown].strftime("%Y-%m-%d" if dated else "%Y-%m-%d %H:%M"))
        more = f" and {len(self.missing) - shown:,} more" if len(self.missing) > shown else ""
        return (f"{len(self.missing):,} {noun} missing from the {calendar} calendar: {listed}{more} "
                f"({_GAP_HANDLING.get(self.method, self.method)}).")


def calendar_gaps(frame: pd.DataFrame, config: DataConfig) -> CalendarGaps:
    """The timestamps that `clean` adds to the series' calendar (with 'drop': leaves out of it)."""
    index = frame.index
    if config.resample or not isinstance(index, pd.DatetimeIndex):  # resampling yields the full calendar itself
        return CalendarGaps(config.resample, missing_timestamps(index, None), config.missing)
    freq = infer_freq(index)
    return CalendarGaps(freq, missing_timestamps(index, freq), config.missing)


def fill_missing(frame: pd.DataFrame, method: str) -> pd.DataFrame:
    """Fill gaps (interpolate by time, or forward fill) or drop incomplete rows; leading gaps are dropped."""
    if method == "drop":
        return frame.dropna()
    if method == "interpolate":
        use_time = isinstance(frame.index, pd.DatetimeIndex)
        filled = frame.interpolate(method="time" if use_time else "linear", limit_area="inside")
    elif method == "ffill":
        filled = frame.ffill()
    else:
        raise ConfigError(f"missing must be interpolate, ffill or drop; got {method!r}.")
    # What remains is leading (or trailing) gaps that nothing before them can fill.
    return filled.dropna()


def clip_outliers(frame: pd.DataFrame, method: str, train_end: int) -> pd.DataFrame:
    """Clip each column to bounds computed on the training rows only, so the test part cannot move them."""
    if method == "none":
        return frame
    train = frame.iloc[:train_end]
    if method == "iqr":
        q1, q3 = train.quantile(0.25), train.quantile(0.75)
        lower, upper = q1 - 3.0 * (q3 - q1), q3 + 3.0 * (q3 - q1)
    elif method == "zscore":
        mean, std = train.mean(), train.std(ddof=0)
        lower, upper = mean - 4.0 * std, mean + 4.0 * std
    else:
        raise ConfigError(f"outliers must be none, iqr or zscore; got {method!r}.")
    return frame.clip(lower=lower, upper=upper, axis=1)


def clean(frame: pd.DataFrame, config: DataConfig, target: str) -> pd.DataFrame:
    """Columns chosen, resampled, put on the full calendar and gap-filled: all before the split that needs no fitting.

    The calendar is inferred from the index (`frequency.infer_freq`), so every caller cleans alike.
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise DataError("The data is empty; load a series with at least a few rows.")
    selected = select_columns(frame, target, config.features)
    # Missing timestamps are missing values: put them on the calendar first, so the chosen method fills
    # (or drops) them like any other gap, instead of windows silently spanning them.
    regular = add_missing_timestamps(resample_frame(selected, config.resample))
    filled = fill_missing(regular, config.missing)
    if filled.empty:
        raise DataError(f"No complete rows are left after handling missing values with {config.missing!r}; "
                        "try 'interpolate' or 'ffill', or drop the feature columns with gaps.")
    return filled
