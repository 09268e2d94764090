"""The whole preparation: clean, split by time, transform the target, fit the scaler on training rows, window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster.calendar_inputs import (
    DAY_OF_YEAR_SPAN,
    calendar_family,
    calendar_names,
    calendar_phases,
    calendar_terms,
    describe_calendar,
    future_index,
    known_calendar,
    next_timestamps,
)
from forecaster.cleaning import (
    CalendarGaps,
    add_missing_timestamps,
    calendar_gaps,
    clean,
    clip_outliers,
    fill_missing,
    missing_timestamps,
    resample_frame,
    select_columns,
)
from forecaster.config import DataConfig
from forecaster.errors import ConfigError, DataError
from forecaster.frequency import infer_freq
from forecaster.windows import (
    fits,
    input_windows,
    largest_horizon,
    largest_window,
    origin_ranges,
    origins_between,
    rows_needed,
    short_series_message,
    split_points,
    too_few_rows_message,
    window_counts,
)

# This module's own names first; the rest are re-exported so that `from forecaster.prepare import ...`
# keeps working for every name that lived here before cleaning, windows and calendar inputs moved out.
__all__ = ["Prepared", "prepare", "Scaler", "fit_scaler", "transform_target", "inverse_transform_paths",
           # cleaning
           "select_columns", "resample_frame", "missing_timestamps", "add_missing_timestamps", "CalendarGaps",
           "calendar_gaps", "fill_missing", "clip_outliers", "clean",
           # windows
           "split_points", "origins_between", "window_counts", "fits", "largest_window", "largest_horizon",
           "rows_needed", "short_series_message", "input_windows",
           # calendar inputs
           "DAY_OF_YEAR_SPAN", "calendar_family", "calendar_names", "describe_calendar", "calendar_terms",
           "calendar_phases", "future_index", "next_timestamps", "known_calendar"]


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
        raise DataError(too_few_rows_message(n_rows, config))
    train_origins, val_origins, test_origins = (
        origins_between(first, last)
        for first, last in origin_ranges(n_rows, config.window, config.horizon, config.split, config.transform))

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
