"""Pure data preparation: cleaning, chronological split, scaling, target transforms, windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster.config import MAX_HORIZON, MAX_WINDOW, DataConfig
from forecaster.datasets import infer_freq
from forecaster.errors import ConfigError, DataError


# ---------------------------------------------------------------- cleaning

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


# ---------------------------------------------------------------- calendar gaps

_CALENDARS = {"D": ("daily", "day"), "h": ("hourly", "hour"), "min": ("minute", "minute"), "s": ("second", "second"),
              "MS": ("monthly", "month"), "ME": ("monthly", "month"), "W": ("weekly", "week"),
              "QS": ("quarterly", "quarter"), "QE": ("quarterly", "quarter"), "YS": ("yearly", "year"),
              "YE": ("yearly", "year")}
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
        offset = pd.tseries.frequencies.to_offset(self.freq)
        base = offset.rule_code.split("-")[0]
        adjective, unit = _CALENDARS.get(base, (f"{self.freq!r}", ""))
        calendar = adjective if offset.n == 1 or not unit else f"{offset.n}-{unit}"
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


def split_points(n_rows: int, split: tuple[float, float, float]) -> tuple[int, int]:
    """Row indices where validation and test begin, for a chronological split."""
    train_end = int(round(n_rows * split[0]))
    val_end = int(round(n_rows * (split[0] + split[1])))
    return train_end, val_end


# ---------------------------------------------------------------- target transforms

def transform_target(y: np.ndarray, kind: str) -> np.ndarray:
    """Changes (diff) or log returns (logret) of a level series; element 0 is NaN for both."""
    y = np.asarray(y, dtype=np.float64)
    if kind == "none":
        return y.copy()
    out = np.full_like(y, np.nan)
    if kind == "diff":
        out[1:] = np.diff(y)
    elif kind == "logret":
        if np.any(y <= 0):
            raise DataError("Log returns need a series above zero everywhere; choose the transform 'diff' or 'none'.")
        out[1:] = np.diff(np.log(y))
    else:
        raise ConfigError(f"transform must be none, diff or logret; got {kind!r}.")
    return out


def inverse_transform_paths(paths: np.ndarray, last_level: np.ndarray, kind: str) -> np.ndarray:
    """Turn forecast paths of transformed values back into levels, starting from each origin's last level."""
    paths = np.asarray(paths, dtype=np.float64)  # (n_origins, horizon)
    last = np.asarray(last_level, dtype=np.float64)[:, None]  # (n_origins, 1)
    if kind == "none":
        return paths.copy()
    if kind == "diff":
        return last + np.cumsum(paths, axis=1)
    if kind == "logret":
        return last * np.exp(np.cumsum(paths, axis=1))
    raise ConfigError(f"transform must be none, diff or logret; got {kind!r}.")


# ---------------------------------------------------------------- scaling

@dataclass(frozen=True)
class Scaler:
    """Per-column affine map (x - center) / scale, learned from training rows by scikit-learn."""

    kind: str
    center: np.ndarray  # (n_columns,)
    scale: np.ndarray  # (n_columns,)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.center) / self.scale

    def inverse(self, values: np.ndarray, column: int | None = None) -> np.ndarray:
        """Back to original units; with `column`, treat every value as belonging to that column."""
        if column is None:
            return values * self.scale + self.center
        return values * self.scale[column] + self.center[column]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "center": self.center.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, raw: dict) -> "Scaler":
        center = np.asarray(raw["center"], dtype=np.float64)
        scale = np.asarray(raw["scale"], dtype=np.float64)
        if center.shape != scale.shape or center.ndim != 1 or not np.all(np.isfinite(center)) \
                or not np.all(np.isfinite(scale)) or np.any(scale == 0):
            raise ValueError("scaler parameters are malformed")
        return cls(kind=str(raw["kind"]), center=center, scale=scale)


def fit_scaler(train_values: np.ndarray, kind: str) -> Scaler:
    """Fit a standard, min-max or robust scaler on training rows (n_rows, n_columns)."""
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    train_values = np.asarray(train_values, dtype=np.float64)
    if kind == "standard":
        fitted = StandardScaler().fit(train_values)
        center, scale = fitted.mean_, fitted.scale_
    elif kind == "minmax":
        fitted = MinMaxScaler().fit(train_values)
        # MinMaxScaler maps x -> x * scale_ + min_; rewrite as (x - center) / scale.
        scale = 1.0 / fitted.scale_
        center = -fitted.min_ * scale
    elif kind == "robust":
        fitted = RobustScaler().fit(train_values)
        center, scale = fitted.center_, fitted.scale_
    else:
        raise ConfigError(f"scaler must be standard, minmax or robust; got {kind!r}.")
    scale = np.where(np.asarray(scale) > 0, scale, 1.0)  # a constant column stays finite
    return Scaler(kind=kind, center=np.asarray(center, dtype=np.float64), scale=np.asarray(scale, dtype=np.float64))


# ---------------------------------------------------------------- windows

def make_windows(values: np.ndarray, target: np.ndarray, origins: np.ndarray, window: int,
                 horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs values[o-window+1 : o+1] and targets target[o+1 : o+1+horizon] for each origin o."""
    origins = np.asarray(origins, dtype=np.int64)
    steps_back = np.arange(-window + 1, 1)  # (window,)
    steps_ahead = np.arange(1, horizon + 1)  # (horizon,)
    inputs = values[origins[:, None] + steps_back]  # (n, window, n_columns)
    targets = target[origins[:, None] + steps_ahead]  # (n, horizon)
    return inputs, targets


def input_windows(values: np.ndarray, origins: np.ndarray, window: int) -> np.ndarray:
    """Only the inputs for each origin; targets may lie beyond the data (forecasting)."""
    origins = np.asarray(origins, dtype=np.int64)
    return values[origins[:, None] + np.arange(-window + 1, 1)]  # (n, window, n_columns)


# ---------------------------------------------------------------- calendar terms known in advance

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


# ---------------------------------------------------------------- the whole path

@dataclass(frozen=True)
class Prepared:
    """A cleaned series with its split, fitted scaler and the origins of every window."""

    frame: pd.DataFrame  # cleaned: target first, then features; original units
    y: np.ndarray  # (T,) target levels, original units
    # (T, n_columns + n_calendar) network inputs: the scaled columns (column 0 the (transformed) target),
    # then the calendar columns (unscaled, already in [-1, 1]) when the data config asks for them.
    inputs: np.ndarray
    target: np.ndarray  # (T,) scaled (transformed) target, what the network learns
    scaler: Scaler
    train_end: int  # first validation row
    val_end: int  # first test row
    train_origins: np.ndarray  # origins whose targets lie in the training part
    val_origins: np.ndarray  # ... in the validation part
    test_origins: np.ndarray  # ... in the test part
    calendar_columns: tuple[str, ...] = ()  # names of the inputs after the scaled columns: row t's next step's calendar

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.frame.index


def clean(frame: pd.DataFrame, config: DataConfig, target: str) -> pd.DataFrame:
    """Columns chosen, resampled, put on the full calendar and gap-filled: all before the split that needs no fitting.

    The calendar is inferred from the index (`datasets.infer_freq`), so every caller cleans alike.
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


def origins_between(first: int, last: int) -> np.ndarray:
    """Origins first..last inclusive (empty when last < first)."""
    return np.arange(first, last + 1, dtype=np.int64) if last >= first else np.empty(0, dtype=np.int64)


def _origin_ranges(n_rows: int, window: int, horizon: int, split: tuple[float, float, float],
                   transform: str) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(first, last) origin of the training, validation and test windows; the one rule prepare uses."""
    train_end, val_end = split_points(n_rows, split)
    first_origin = (0 if transform == "none" else 1) + window - 1  # a transform loses the first row
    return ((first_origin, train_end - 1 - horizon), (max(first_origin, train_end - 1), val_end - 1 - horizon),
            (max(first_origin, val_end - 1), n_rows - 1 - horizon))


def window_counts(n_rows: int, window: int, horizon: int, split: tuple[float, float, float],
                  transform: str = "none") -> tuple[int, int, int]:
    """How many training, validation and test windows a cleaned series of `n_rows` gives."""
    counts = (max(0, last - first + 1) for first, last in _origin_ranges(n_rows, window, horizon, split, transform))
    return tuple(counts)  # type: ignore[return-value]


def fits(n_rows: int, window: int, horizon: int, split: tuple[float, float, float], transform: str = "none") -> bool:
    """Whether prepare accepts the series: at least 2 training windows, 1 validation and 1 test window."""
    train, val, test = window_counts(n_rows, window, horizon, split, transform)
    return train >= 2 and val >= 1 and test >= 1


def _last_fitting(fit, candidates: range) -> int | None:
    """The last candidate before the first that does not fit (None if the first does not)."""
    best = None
    for candidate in candidates:
        if not fit(candidate):
            break
        best = candidate
    return best


def largest_window(n_rows: int, horizon: int, split: tuple[float, float, float], transform: str = "none") -> int | None:
    """The longest window (2 to MAX_WINDOW) that fits with this horizon; None when not even 2 does."""
    # A longer window only removes training windows, so the first misfit ends the search.
    return _last_fitting(lambda window: fits(n_rows, window, horizon, split, transform), range(2, MAX_WINDOW + 1))


def largest_horizon(n_rows: int, window: int, split: tuple[float, float, float], transform: str = "none") -> int | None:
    """The longest horizon (1 to MAX_HORIZON) that fits with this window; None when not even 1 does."""
    # A longer horizon removes windows from every part, so again the first misfit ends the search.
    return _last_fitting(lambda horizon: fits(n_rows, window, horizon, split, transform), range(1, MAX_HORIZON + 1))


def rows_needed(window: int, horizon: int, split: tuple[float, float, float], transform: str = "none") -> int:
    """The fewest rows from which on every longer series fits this window, horizon and split."""
    first_row = 0 if transform == "none" else 1
    # From here on each part is big enough whatever the rounding of the split (each part's rows are
    # at least n * share - 1); below it, rounding can make a longer series fail where a shorter one fit.
    bound = int(np.ceil((window + horizon + first_row + 2) / min(split)))
    needed = bound
    while needed > 1 and fits(needed - 1, window, horizon, split, transform):
        needed -= 1
    return needed


def short_series_message(n_rows: int, split: tuple[float, float, float], transform: str = "none",
                         resample: str | None = None) -> str | None:
    """The sentence saying why no model at all fits `n_rows` with this split; None when the smallest one fits."""
    if fits(n_rows, 2, 1, split, transform):
        return None
    counts = window_counts(n_rows, 2, 1, split, transform)
    short = [name for name, count, least in zip(("training", "validation", "test"), counts, (2, 1, 1)) if count < least]
    advice = ["load more data"]
    if n_rows >= (0 if transform == "none" else 1) + 6:  # 4 rows for two training windows of 2 + 1, 1 each for the rest
        advice.append(f"give the {' and '.join(short)} part{'s' if len(short) > 1 else ''} a larger share")
    if resample:
        advice.append("resample less coarsely")
    return (f"The series has {n_rows} usable rows, too few for any model with a "
            f"{'/'.join(f'{s:.0%}' for s in split)} split: even the smallest (a window of 2 and a horizon of 1) "
            f"needs at least {rows_needed(2, 1, split, transform)} rows; {', '.join(advice[:-1])}"
            f"{' or ' if len(advice) > 1 else ''}{advice[-1]}.")


def _too_few_rows(n_rows: int, config: DataConfig) -> str:
    window, horizon, split, transform = config.window, config.horizon, config.split, config.transform
    hopeless = short_series_message(n_rows, split, transform, config.resample)
    if hopeless is not None:
        return hopeless
    shorter_window = largest_window(n_rows, horizon, split, transform)
    shorter_horizon = largest_horizon(n_rows, window, split, transform)
    options = []
    if shorter_window is not None:
        options.append(f"a shorter window (the largest window that fits is {shorter_window})")
    if shorter_horizon is not None:
        options.append(f"a shorter horizon (at most {shorter_horizon} with a window of {window})")
    if not options:
        options.append(f"a shorter window and horizon (with a horizon of 1 the largest window that fits is "
                       f"{largest_window(n_rows, 1, split, transform)})")
    return (f"The series has {n_rows} usable rows, too few for a window of {window} and a horizon of {horizon} "
            f"with a {'/'.join(f'{s:.0%}' for s in split)} split; use {' or '.join(options)}, or more data.")


def _calendar_inputs(index: pd.Index, config: DataConfig, freq: str | None,
                     names: tuple[str, ...] | None) -> tuple[tuple[str, ...], np.ndarray]:
    """(names, values (T, n_calendar)) of the calendar inputs; none when the config does not ask for them."""
    if not config.calendar:
        return (), np.empty((len(index), 0))
    if not isinstance(index, pd.DatetimeIndex):
        if names:
            raise DataError("This model reads calendar inputs, which need dates; load the data with a date column.")
        return (), np.empty((len(index), 0))
    freq = config.resample or freq or infer_freq(index)
    names = calendar_names(index, freq) if names is None else tuple(names)
    return names, known_calendar(index, freq, names)


def prepare(frame: pd.DataFrame, config: DataConfig, target: str, scaler: Scaler | None = None, *,
            freq: str | None = None, calendar: tuple[str, ...] | None = None) -> Prepared:
    """Clean, split by time, fit the scaler on training rows only, and find every window's origin.

    Pass a fitted `scaler` to prepare new data exactly as a saved model saw its own, and with a calendar
    model its `calendar` columns and `freq` too. With `config.calendar` the calendar inputs follow the
    scaled columns; `freq` (default: the resample rule, else inferred from the dates) picks their terms.
    """
    cleaned = clean(frame, config, target)
    n_rows = len(cleaned)
    train_end, val_end = split_points(n_rows, config.split)
    cleaned = clip_outliers(cleaned, config.outliers, train_end)

    y = cleaned[target].to_numpy(dtype=np.float64)
    columns = cleaned.to_numpy(dtype=np.float64).copy()
    columns[:, 0] = transform_target(y, config.transform)
    first_row = 0 if config.transform == "none" else 1  # a transform loses the first row

    if not fits(n_rows, config.window, config.horizon, config.split, config.transform):
        raise DataError(_too_few_rows(n_rows, config))
    train_origins, val_origins, test_origins = (
        origins_between(first, last)
        for first, last in _origin_ranges(n_rows, config.window, config.horizon, config.split, config.transform))

    if scaler is None:
        scaler = fit_scaler(columns[first_row:train_end], config.scaler)
    elif scaler.center.shape != (columns.shape[1],):
        raise DataError(f"The data has {columns.shape[1]} input columns but the model was trained on "
                        f"{scaler.center.shape[0]}; use the same target and feature columns.")
    scaled = scaler.transform(columns)  # (T, n_columns)
    scaled[:first_row] = 0.0  # never read: no origin reaches before first_row
    names, known = _calendar_inputs(cleaned.index, config, freq, calendar)  # (T, n_calendar), from dates only
    inputs = np.concatenate([scaled, known], axis=1)  # (T, n_columns + n_calendar)
    return Prepared(frame=cleaned, y=y, inputs=inputs.astype(np.float32), target=scaled[:, 0].astype(np.float32),
                    scaler=scaler, train_end=train_end, val_end=val_end, train_origins=train_origins,
                    val_origins=val_origins, test_origins=test_origins, calendar_columns=names)
