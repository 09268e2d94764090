"""Simple forecasts every LSTM must beat, all with one fit / predict_at contract."""

from __future__ import annotations

import re
from numbers import Real

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pandas.tseries.frequencies import to_offset
from pandas.tseries import offsets as pd_offsets
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from forecaster.errors import ConfigError, DataError, NotFittedError

__all__ = [
    "Baseline",
    "NaiveForecast",
    "SeasonalNaive",
    "DriftForecast",
    "MovingAverage",
    "LinearOnLags",
    "season_length",
    "make_baselines",
]


# --------------------------------------------------------------------------- validation


def _positive_int(value: object, name: str) -> int:
    """Return `value` as int if it is a positive integer, else raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _series(y: np.ndarray) -> np.ndarray:
    """Return the target as a new 1-D float64 array, refusing NaN, inf and empty input."""
    arr = np.array(y, dtype=np.float64)  # a copy: callers' arrays are never touched
    if arr.ndim != 1:
        raise DataError(f"The target series must be 1-D (T,); got shape {arr.shape}.")
    if arr.size == 0:
        raise DataError("The target series is empty.")
    if not np.all(np.isfinite(arr)):
        raise DataError("The target series contains NaN or infinite values; clean it before forecasting.")
    return arr


def _features(X: np.ndarray | None, n_rows: int) -> np.ndarray | None:
    """Return extra feature columns as a new (T, F) float64 array aligned with y, or None."""
    if X is None:
        return None
    arr = np.array(X, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]  # one feature column given as (T,)
    if arr.ndim != 2 or arr.shape[0] != n_rows:
        raise DataError(
            f"Feature columns X must have shape ({n_rows}, n_features), one row per point of y; "
            f"got {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise DataError("The feature columns contain NaN or infinite values; clean them first.")
    return arr


def _origins(origins: np.ndarray, n: int) -> np.ndarray:
    """Return origins as a new 1-D int64 array, each a valid index of the last observed point."""
    arr = np.asarray(origins)
    if arr.ndim != 1:
        raise DataError(f"origins must be a 1-D array of indices; got shape {arr.shape}.")
    if arr.size and arr.dtype.kind not in "iu":
        raise DataError(f"origins must be integer indices; got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() > n - 1):
        raise DataError(
            f"origins must lie in [0, {n - 1}] (indices of observed points of y); "
            f"got values from {arr.min()} to {arr.max()}."
        )
    return arr


# --------------------------------------------------------------------------- contract


class Baseline:
    """A simple forecaster: fit on y[:train_end], then forecast `horizon` steps from any origin.

    Subclasses implement `_fit` (optional) and `_predict`; the base class validates inputs
    and enforces the scikit-learn contract (fit returns self, state ends in `_`).
    """

    name: str = "baseline"

    @property
    def label(self) -> str:
        """Human-readable name for tables and legends."""
        return self.name

    def fit(
        self, y: np.ndarray, train_end: int, horizon: int, X: np.ndarray | None = None
    ) -> "Baseline":
        """Learn from y[:train_end] (and X[:train_end]) to forecast `horizon` steps ahead.

        y: (T,) full target series in original units, no NaN. X: optional (T, F) extra
        columns, used only by `LinearOnLags`. Nothing at or after train_end is read.
        """
        y = _series(y)
        horizon = _positive_int(horizon, "horizon")
        train_end = _positive_int(train_end, "train_end")
        if train_end > y.size:
            raise DataError(f"train_end ({train_end}) is past the end of the series ({y.size} points).")
        X = _features(X, y.size)
        self._validate_params()
        train_X = None if X is None else X[:train_end]  # (train_end, F)
        self._fit(y[:train_end], horizon, train_X)
        self.horizon_ = horizon
        self.train_end_ = train_end
        return self

    def predict_at(
        self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None = None
    ) -> np.ndarray:
        """Forecast y[o+1 : o+1+horizon] for each origin o, using only y[:o+1] (and X[:o+1]).

        Returns (n_origins, horizon) float64. The horizon may run past the end of y,
        which is how a forecast of the unseen future is made (origin = len(y) − 1).
        """
        if not hasattr(self, "horizon_"):
            raise NotFittedError(
                f"The {self.label} baseline has not been fitted yet; call fit first."
            )
        y = _series(y)
        origins = _origins(origins, y.size)
        X = _features(X, y.size)
        if origins.size == 0:
            return np.empty((0, self.horizon_), dtype=np.float64)
        out = self._predict(y, origins, X)  # (n_origins, horizon)
        assert out.shape == (origins.size, self.horizon_), out.shape
        return out.astype(np.float64, copy=False)

    # subclasses override these -------------------------------------------------------

    def _validate_params(self) -> None:
        """Raise ConfigError for bad constructor parameters (checked at fit, as in sklearn)."""

    def _fit(self, y_train: np.ndarray, horizon: int, X_train: np.ndarray | None) -> None:
        """Learn state from the training part only; most baselines need none."""

    def _predict(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


def _repeat_last(y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Naive forecast: y[o] for every step ahead, (n_origins, horizon)."""
    return np.repeat(y[origins][:, None], horizon, axis=1)


# --------------------------------------------------------------------------- baselines


class NaiveForecast(Baseline):
    """Repeat the last observed value."""

    name = "naive"

    @property
    def label(self) -> str:
        return "Naive (last value)"

    def _predict(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        return _repeat_last(y, origins, self.horizon_)


class SeasonalNaive(Baseline):
    """Repeat the last full season: y[o+k] = y[o + k − season·ceil(k/season)].

    Origins with fewer than `season` observed points have no full season behind them;
    they get the naive forecast instead of an error, so a backtest can start anywhere.
    """

    name = "seasonal_naive"

    def __init__(self, season: int = 7) -> None:
        self.season = season

    @property
    def label(self) -> str:
        return f"Seasonal naive ({self.season})"

    def _validate_params(self) -> None:
        _positive_int(self.season, "season")

    def _predict(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        s = int(self.season)
        k = np.arange(1, self.horizon_ + 1)
        # o + k − s·ceil(k/s) == o − s + 1 + (k − 1) mod s: always within the last season
        offsets = (k - 1) % s - s + 1  # (horizon,), each in [−s+1, 0]
        idx = origins[:, None] + offsets  # (n_origins, horizon)
        short = origins < s - 1  # not a full season of history yet: index would go negative
        idx = np.where(short[:, None], origins[:, None], idx)  # naive for those rows
        return y[idx]


class DriftForecast(Baseline):
    """Extend the straight line from the first point to the last observed one.

    y[o+k] = y[o] + k·(y[o] − y[0]) / o; naive at o == 0, where no slope exists.
    """

    name = "drift"

    @property
    def label(self) -> str:
        return "Drift"

    def _predict(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        last = y[origins]  # (n_origins,)
        steps = np.maximum(origins, 1)  # avoid 0/0; the numerator is 0 there anyway
        slope = (last - y[0]) / steps  # (n_origins,)
        k = np.arange(1, self.horizon_ + 1)  # (horizon,)
        return last[:, None] + slope[:, None] * k[None, :]


class MovingAverage(Baseline):
    """Repeat the mean of the last `size` observed values (fewer near the start)."""

    name = "moving_average"

    def __init__(self, size: int = 30) -> None:
        self.size = size

    @property
    def label(self) -> str:
        return f"Moving average ({self.size})"

    def _validate_params(self) -> None:
        _positive_int(self.size, "size")

    def _predict(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        size = int(self.size)
        # NaN padding lets one sliding window serve the short histories at the start too
        padded = np.concatenate([np.full(size - 1, np.nan), y])
        windows = sliding_window_view(padded, size)[origins]  # (n_origins, size)
        means = np.nanmean(windows, axis=1)  # (n_origins,)
        return np.repeat(means[:, None], self.horizon_, axis=1)


class LinearOnLags(Baseline):
    """Ridge regression from the last `window` values to the next `horizon` values.

    The same lag window the LSTM sees. Targets are changes from the last value,
    y[o+k] − y[o], and the y lags are expressed relative to y[o] too, so the model
    carries over to levels never seen in training (a trending price, say). Extra
    feature columns X, if given, enter as their last `window` raw values. A
    StandardScaler fit on the training rows only sits in front of the Ridge.
    Trained on the origins whose targets lie inside [0, train_end). Origins with fewer
    than `window` observed points get the naive forecast, as in SeasonalNaive.
    """

    name = "linear"

    def __init__(self, window: int = 30, alpha: float = 1.0) -> None:
        self.window = window
        self.alpha = alpha

    @property
    def label(self) -> str:
        return "Linear (ridge on lags)"

    def _validate_params(self) -> None:
        _positive_int(self.window, "window")
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, Real) or not (np.isfinite(alpha) and alpha >= 0):
            raise ConfigError(f"alpha must be a finite number ≥ 0; got {self.alpha!r}.")

    def _design(self, y: np.ndarray, X: np.ndarray | None, origins: np.ndarray) -> np.ndarray:
        """Model inputs at each origin, (n_origins, window · (1 + F)); origins ≥ window − 1."""
        w = int(self.window)
        rows = origins - (w - 1)  # window i covers y[i : i + w], ending at origin i + w − 1
        lags = sliding_window_view(y, w)[rows]  # (n_origins, window)
        parts = [lags - y[origins][:, None]]
        if X is not None:
            # (n_origins, F, window) → (n_origins, F · window)
            x_lags = sliding_window_view(X, w, axis=0)[rows]
            parts.append(x_lags.reshape(len(origins), -1))
        return np.concatenate(parts, axis=1)

    def _fit(self, y_train: np.ndarray, horizon: int, X_train: np.ndarray | None) -> None:
        w = int(self.window)
        # origins o with a full window behind (o ≥ w − 1) and all targets before train_end
        n_windows = y_train.size - horizon - w + 1
        if n_windows < 2:
            raise DataError(
                f"The training part is too short for the linear baseline with window {w}; "
                "use a shorter window or more data."
            )
        origins = np.arange(w - 1, w - 1 + n_windows)  # (n_windows,)
        inputs = self._design(y_train, X_train, origins)  # (n_windows, window · (1 + F))
        future = sliding_window_view(y_train[1:], horizon)[origins]  # (n_windows, horizon)
        targets = future - y_train[origins][:, None]  # changes from the last value
        model: Pipeline = make_pipeline(StandardScaler(), Ridge(alpha=float(self.alpha)))
        self.model_ = model.fit(inputs, targets)
        self.n_features_ = 0 if X_train is None else X_train.shape[1]

    def _predict(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        n_features = 0 if X is None else X.shape[1]
        if n_features != self.n_features_:
            raise DataError(
                f"The linear baseline was fitted with {self.n_features_} feature column(s) "
                f"but predict_at got {n_features}; pass the same X columns to both."
            )
        w = int(self.window)
        out = _repeat_last(y, origins, self.horizon_)  # naive where history is too short
        full = origins >= w - 1
        if np.any(full):
            changes = self.model_.predict(self._design(y, X, origins[full]))  # (n_full, horizon)
            out[full] = y[origins[full]][:, None] + changes.reshape(-1, self.horizon_)
        return out


# --------------------------------------------------------------------------- factory

# Seasonal period in base units for each offset family; multiples divide it ("2h" → 12).
_PERIODS: tuple[tuple[tuple[type, ...], int], ...] = (
    ((pd_offsets.BusinessDay, pd_offsets.CustomBusinessDay), 5),  # a trading week
    ((pd_offsets.Day,), 7),
    ((pd_offsets.Hour,), 24),
    ((pd_offsets.Minute,), 60),
    ((pd_offsets.Week,), 52),
    (
        (
            pd_offsets.MonthEnd,
            pd_offsets.MonthBegin,
            pd_offsets.BusinessMonthEnd,
            pd_offsets.BusinessMonthBegin,
        ),
        12,
    ),
    (
        (
            pd_offsets.QuarterEnd,
            pd_offsets.QuarterBegin,
            pd_offsets.BQuarterEnd,
            pd_offsets.BQuarterBegin,
        ),
        4,
    ),
)

# Aliases older pandas accepted and pandas 3 refuses; users' CSVs and docs still use them.
_LEGACY_ALIASES = {"H": "h", "T": "min", "M": "ME", "BM": "BME", "Q": "QE", "BQ": "BQE"}


def _parse_offset(freq: str) -> pd_offsets.BaseOffset | None:
    """Parse a pandas offset alias, also accepting legacy ones; None if unparseable."""
    try:
        return to_offset(freq)
    except (ValueError, TypeError):
        pass
    match = re.fullmatch(r"\s*(\d*)\s*([A-Za-z]+)(-\w+)?\s*", str(freq))
    if match is None or match.group(2) not in _LEGACY_ALIASES:
        return None
    mult, base, anchor = match.group(1), _LEGACY_ALIASES[match.group(2)], match.group(3) or ""
    try:
        return to_offset(f"{mult}{base}{anchor}")
    except (ValueError, TypeError):
        return None


def season_length(freq: str | None) -> int:
    """Seasonal period for a pandas frequency alias: D → 7, B → 5, h → 24, W → 52, ME → 12, ...

    Multiples divide the period when they can ("2h" → 12, "15min" → 4); otherwise, and for
    unknown or missing frequencies, 1 (no seasonality, so seasonal naive equals naive).
    """
    if freq is None:
        return 1
    offset = _parse_offset(freq)
    if offset is None or offset.n < 1:
        return 1
    for classes, period in _PERIODS:
        if isinstance(offset, classes):
            return period // offset.n if period % offset.n == 0 else 1
    return 1


def make_baselines(freq: str | None, window: int, season: int | None = None) -> dict[str, Baseline]:
    """Unfitted baselines keyed naive, seasonal_naive, drift, moving_average, linear.

    `season` overrides the one guessed from `freq`; `window` is the LSTM's lookback,
    used for the moving average size and the linear model's lags.
    """
    window = _positive_int(window, "window")
    season = season_length(freq) if season is None else _positive_int(season, "season")
    return {
        "naive": NaiveForecast(),
        "seasonal_naive": SeasonalNaive(season),
        "drift": DriftForecast(),
        "moving_average": MovingAverage(window),
        "linear": LinearOnLags(window),
    }
