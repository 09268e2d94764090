"""Simple forecasts every LSTM must beat, all with one fit / predict_at contract."""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass
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
    "Season",
    "DriftForecast",
    "MovingAverage",
    "LinearOnLags",
    "ExponentialSmoothing",
    "season_length",
    "describe_season",
    "choose_season",
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
    `description` names the period in the label ("yearly, 365 days"); without it the label
    gives the number of steps.
    """

    name = "seasonal_naive"

    def __init__(self, season: int = 7, description: str | None = None) -> None:
        self.season = season
        self.description = description

    @property
    def label(self) -> str:
        return f"Seasonal naive ({self.description or f'{self.season} steps'})"

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


# --------------------------------------------------------------------------- exponential smoothing

# The fit window: at most the last ETS_WINDOW training points. Older history adds little to a model that
# forgets geometrically, and statsmodels' fit time grows with it: on Seattle's hourly temperatures (daily
# season) and the S&P 500, 2000 or 3000 points gave the same test MAE (within 0.5%) as 1000.
ETS_WINDOW = 1000
# Longest season fitted, as in R's forecast::ets: each season step is a state estimated from one point a
# cycle. On Seattle's daily weather a 365-day season took 1.4–4 s to fit (0.5 s with statsmodels' heuristic
# start) and forecast worse than naive (test MAE 2.61, heuristic 2.97, vs 2.25); without it, 0.35 s and
# 2.26 (3.39 vs 3.44 at horizon 7).
ETS_MAX_SEASON = 24
ETS_MIN_POINTS = 10  # fewer cannot tell a trend from noise


def _damped_sums(phi: float, horizon: int) -> np.ndarray:
    """φ + φ² + … + φ^k for k = 1..horizon, (horizon,): how much of the trend each step ahead adds."""
    return np.cumsum(phi ** np.arange(1, horizon + 1))


class ExponentialSmoothing(Baseline):
    """Additive Holt–Winters: a level, a damped trend and (optionally) an additive season.

    The smoothing parameters α, β, γ, φ and the initial states are estimated by statsmodels
    (`statsmodels.tsa.holtwinters.ExponentialSmoothing`, additive damped trend) on the training part
    only, and on at most its last `max_points` points (default ETS_WINDOW, 1000; `note` says when
    that left points out). Forecasting never refits: with the parameters fixed, the recursions run
    once from the initial states at the fit window's start through the series, keeping every state,
    and the forecasts from the state after each origin o, l + (φ + … + φ^k)·b + s[o + k − m·ceil(k/m)],
    are computed for all origins at once. Origins before the fit window get the naive forecast.

    `season` of None or 1 means no seasonal term; at most ETS_MAX_SEASON (24) steps, and the fit window
    must hold two full seasons. Without `fallback` a model that cannot be fitted raises ConfigError
    (season too long) or DataError (too little data, or statsmodels fails). With it the model steps down
    instead, to no season, then to no trend (simple exponential smoothing), then to the naive forecast,
    and the label says what was used and why: a registry then scores the same models on every series
    and every backtest fold, and one model's trouble never fails an evaluation.
    """

    name = "ets"

    def __init__(self, season: int | None = None, description: str | None = None,
                 max_points: int | None = None, fallback: bool = False) -> None:
        self.season = season
        self.description = description  # names the period in the label: "yearly"
        self.max_points = max_points
        self.fallback = fallback

    # ------------------------------------------------------------------ description

    def _season_name(self) -> str:
        return self.description or f"{self.season}-step"

    def _reasons(self) -> dict[str, tuple[str, str]]:
        """Why a model stepped down, by "<kind> <failure>": (words for the label, words for the note)."""
        season = self._season_name()
        return {
            "seasonal too long": (f"{season} season too long",
                                  f"its {season} season is longer than the {ETS_MAX_SEASON} steps it fits"),
            "seasonal too short": (f"too little data for a {season} season",
                                   f"the training part is too short for its {season} season"),
            "seasonal failed": (f"a {season} season would not fit", f"statsmodels could not fit its {season} season"),
            "trend too short": ("too little data for a trend", "the training part is too short for a trend"),
            "trend failed": ("a damped trend would not fit", "statsmodels could not fit a damped trend"),
            "level too short": ("too little training data",
                                f"the training part has fewer than {ETS_MIN_POINTS} points"),
            "level failed": ("it would not fit", "statsmodels could not fit it"),
        }

    def _describe(self, kind: str, reason: str = "") -> str:
        why = f": {self._reasons()[reason][0]}" if reason else ""
        text = {"seasonal": f"Holt–Winters, damped trend, {self._season_name()} season",
                "trend": f"damped trend, no season{why}", "level": f"simple{why}", "naive": f"naive{why}"}[kind]
        return f"Exponential smoothing ({text})"

    def _asked(self) -> str:
        """The label of the model asked for, before any step down."""
        return self._describe("seasonal" if (self.season or 1) > 1 else "trend")

    @property
    def label(self) -> str:
        """What was fitted, and why when it is less than was asked; before fit, what was asked."""
        if not hasattr(self, "kind_"):
            return self._asked()
        return self._describe(self.kind_, self.reason_)

    @property
    def note(self) -> str:
        """A sentence on how the fitted model departs from the asked one and which points it was fitted on."""
        if not hasattr(self, "kind_"):
            return ""
        if self.kind_ == "naive":
            return f"Exponential smoothing fell back to the naive forecast: {self._reasons()[self.reason_][1]}."
        parts = []
        if self.fit_start_ > 0:
            parts.append(f"on the last {self.train_end_ - self.fit_start_} of {self.train_end_} training points")
        if self.reason_:
            used = "without a season" if self.kind_ == "trend" else "without a trend or season"
            parts.append(f"{used}, as {self._reasons()[self.reason_][1]}")
        return f"Exponential smoothing was fitted {', '.join(parts)}." if parts else ""

    def _validate_params(self) -> None:
        if self.season is not None:
            season = _positive_int(self.season, "season")
            if season > ETS_MAX_SEASON and not self.fallback:
                raise ConfigError(f"Exponential smoothing fits seasons of at most {ETS_MAX_SEASON} steps (one "
                                  f"state per step); got season={season}. Use season=None for no season.")
        if self.max_points is not None and _positive_int(self.max_points, "max_points") < ETS_MIN_POINTS:
            raise ConfigError(f"max_points must be at least {ETS_MIN_POINTS}; got {self.max_points!r}.")

    # ------------------------------------------------------------------ fitting

    def _window(self) -> int:
        return ETS_WINDOW if self.max_points is None else int(self.max_points)

    def _fit(self, y_train: np.ndarray, horizon: int, X_train: np.ndarray | None) -> None:
        period = int(self.season or 1)
        started = time.perf_counter()
        kinds = ["seasonal", "trend", "level", "naive"] if period > 1 else ["trend", "level", "naive"]
        reason = ""  # why the last kind tried could not be used, "<kind> <failure>"
        for kind in kinds if self.fallback else kinds[:1]:
            if kind == "naive":  # nothing could be fitted: an empty fit window, so every origin gets naive
                self.kind_, self.season_, self.fit_start_ = "naive", 1, y_train.size
                break
            if kind == "seasonal" and period > ETS_MAX_SEASON:  # only with fallback: refused at validation
                reason = "seasonal too long"
                continue
            m = period if kind == "seasonal" else 1
            n = min(y_train.size, self._window())
            need = max(2 * m, ETS_MIN_POINTS)
            if n < need:
                failure = "too short"
                problem = (f"it needs {need} training points (two full seasons and at least {ETS_MIN_POINTS})"
                           if kind == "seasonal" else f"it needs at least {ETS_MIN_POINTS} training points")
                problem += f" but has {n}; use more data{' or no season' if kind == 'seasonal' else ''}"
            else:
                try:
                    self._fit_statsmodels(y_train, kind, m)
                    break
                except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
                    failure = "failed"
                    problem = f"statsmodels could not fit it ({error}); try more data or no season"
            if not self.fallback:
                raise DataError(f"Cannot fit the {self._asked()} baseline: {problem}.")
            reason = f"{kind} {failure}"
        self.reason_ = reason
        self.fit_seconds_ = time.perf_counter() - started

    def _fit_statsmodels(self, y_train: np.ndarray, kind: str, period: int) -> None:
        """Estimate the parameters on the fit window and keep them with its initial states."""
        from statsmodels.tools.sm_exceptions import ConvergenceWarning, ValueWarning
        from statsmodels.tsa.holtwinters import ExponentialSmoothing as HoltWinters

        start = max(0, y_train.size - self._window())
        seasonal, trend = kind == "seasonal", kind != "level"
        model = HoltWinters(y_train[start:], trend="add" if trend else None, damped_trend=trend,
                            seasonal="add" if seasonal else None, seasonal_periods=period if seasonal else None,
                            initialization_method="estimated")
        with warnings.catch_warnings():  # optimiser chatter on flat or short series; the result is checked below
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", ValueWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            params = model.fit().params
        names = ["smoothing_level", "initial_level"]
        names += ["smoothing_trend", "initial_trend", "damping_trend"] if trend else []
        names += ["smoothing_seasonal"] if seasonal else []
        values = {name: float(params[name]) for name in names}  # the others are None or NaN: absent terms
        seasons = np.array(params["initial_seasons"], dtype=np.float64) if seasonal else np.zeros(1)
        if not (all(np.isfinite(v) for v in values.values()) and np.all(np.isfinite(seasons))):
            raise ValueError("the estimated parameters are not finite")
        self.alpha_, self.level0_ = values["smoothing_level"], values["initial_level"]
        self.beta_ = values.get("smoothing_trend", 0.0)
        self.trend0_ = values.get("initial_trend", 0.0)
        self.phi_ = values.get("damping_trend", 1.0)
        self.gamma_ = values.get("smoothing_seasonal", 0.0)
        self.seasons0_ = seasons  # the season steps of the `period` times just before the fit window
        self.kind_, self.season_, self.fit_start_ = kind, period, start

    # ------------------------------------------------------------------ forecasting

    def states(self, y: np.ndarray, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Level, trend and season states from the fit window's start through y[stop − 1], parameters fixed.

        Returns level (n + 1,) and trend (n + 1,), n = stop − fit_start_, where entry i is the state
        after y[fit_start_ + i − 1] (entry 0: the initial state), and seasons (n + season_,), where
        entry j is the season step of time fit_start_ − season_ + j (the first season_: the initial ones).
        """
        if not hasattr(self, "kind_"):
            raise NotFittedError(f"The {self.label} baseline has not been fitted yet; call fit first.")
        if self.kind_ == "naive":
            raise NotFittedError("This exponential smoothing fell back to the naive forecast; it has no states.")
        y = _series(y)
        m, start = self.season_, self.fit_start_
        n = max(0, min(stop, y.size) - start)
        alpha, beta, gamma, phi = self.alpha_, self.beta_, self.gamma_, self.phi_
        level, trend, seasons = np.empty(n + 1), np.empty(n + 1), np.zeros(n + m)
        level[0], trend[0] = self.level0_, self.trend0_
        seasons[:m] = self.seasons0_
        seasonal = self.kind_ == "seasonal"
        # Sequential in time; plain Python floats keep a step near a microsecond (8760 steps: ~10 ms).
        lvl, trd = self.level0_, self.trend0_
        for i, value in enumerate(y[start:start + n].tolist()):
            expected = lvl + phi * trd  # level plus damped trend before y[t] is seen
            if seasonal:
                season = seasons[i]  # the same season step one period back
                lvl = alpha * (value - season) + (1 - alpha) * expected
                seasons[i + m] = gamma * (value - expected) + (1 - gamma) * season
            else:
                lvl = alpha * value + (1 - alpha) * expected
            trd = beta * (lvl - level[i]) + (1 - beta) * phi * trd
            level[i + 1], trend[i + 1] = lvl, trd
        return level, trend, seasons

    def _predict(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        out = _repeat_last(y, origins, self.horizon_)  # naive before the fit window
        if self.kind_ == "naive":
            return out
        start, m = self.fit_start_, self.season_
        use = origins >= start - 1  # the state at fit_start_ − 1 is the initial one: it has read nothing
        if not np.any(use):
            return out
        level, trend, seasons = self.states(y, int(origins[use].max()) + 1)
        rows = origins[use] - start + 1  # (n_use,) entry of the state after y[o]
        forecast = level[rows][:, None] + trend[rows][:, None] * _damped_sums(self.phi_, self.horizon_)[None, :]
        if self.kind_ == "seasonal":
            # step o + k takes the season step last updated at o + k − m·ceil(k/m), in [o − m + 1, o]
            k = np.arange(1, self.horizon_ + 1)
            offsets = (k - 1) % m - m + 1  # (horizon,)
            forecast += seasons[(origins[use] - start + m)[:, None] + offsets[None, :]]
        out[use] = forecast
        return out


# --------------------------------------------------------------------------- factory

# Seasonal cycles for each offset family, in base units: (period, name); the first is the default
# period when the data show no cycle. Multiples divide a period when they can ("2h": 12 and 84).
_CYCLES: tuple[tuple[tuple[type, ...], str, tuple[tuple[int, str], ...]], ...] = (
    ((pd_offsets.BusinessDay, pd_offsets.CustomBusinessDay), "trading days", ((5, "weekly"), (252, "yearly"))),
    ((pd_offsets.Day,), "days", ((7, "weekly"), (365, "yearly"))),
    ((pd_offsets.Hour,), "hours", ((24, "daily"), (168, "weekly"))),
    ((pd_offsets.Minute,), "minutes", ((60, "hourly"), (1440, "daily"))),
    ((pd_offsets.Week,), "weeks", ((52, "yearly"),)),
    (
        (
            pd_offsets.MonthEnd,
            pd_offsets.MonthBegin,
            pd_offsets.BusinessMonthEnd,
            pd_offsets.BusinessMonthBegin,
        ),
        "months",
        ((12, "yearly"),),
    ),
    (
        (
            pd_offsets.QuarterEnd,
            pd_offsets.QuarterBegin,
            pd_offsets.BQuarterEnd,
            pd_offsets.BQuarterBegin,
        ),
        "quarters",
        ((4, "yearly"),),
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


def _family(freq: str | None) -> tuple[int, str, tuple[tuple[int, str], ...]]:
    """(multiple, unit word, cycles) of a frequency; (1, "", ()) when it has no known cycles."""
    offset = None if freq is None else _parse_offset(freq)
    if offset is None or offset.n < 1:
        return 1, "", ()
    for classes, unit, cycles in _CYCLES:
        if isinstance(offset, classes):
            return offset.n, unit, cycles
    return offset.n, "", ()


def _candidates(freq: str | None) -> list[tuple[int, str]]:
    """(period in steps, name) of each cycle the frequency can have, default first; multiples divide."""
    n, _, cycles = _family(freq)
    return [(period // n, name) for period, name in cycles if period % n == 0 and period // n > 1]


def season_length(freq: str | None) -> int:
    """Default seasonal period for a pandas frequency alias: D → 7, B → 5, h → 24, W → 52, ME → 12, ...

    Multiples divide the period when they can ("2h" → 12, "15min" → 4); otherwise, and for
    unknown or missing frequencies, 1 (no seasonality, so seasonal naive equals naive).
    """
    n, _, cycles = _family(freq)
    if not cycles:
        return 1
    period = cycles[0][0]
    return period // n if period % n == 0 else 1


@dataclass(frozen=True)
class Season:
    """A seasonal period and how to say it: `description` for sentences, `short` for labels."""

    period: int  # in steps of the series
    name: str  # "yearly", "weekly", ...; "" for a period with no name
    span: str  # "365 days", "12 steps of 2 hours", "30 steps"
    found: bool  # True when the training part showed this cycle
    note: str = ""  # why this period was taken without being found, e.g. "no clear cycle found"

    @property
    def description(self) -> str:
        """E.g. "yearly (365 days)" or "weekly (7 days; no clear cycle found)"."""
        inner = self.span + (f"; {self.note}" if self.note else "")
        return f"{self.name} ({inner})" if self.name else inner

    @property
    def short(self) -> str:
        """E.g. "yearly, 365 days" or "weekly, 7 days; no clear cycle found" (for a label in parentheses)."""
        head = f"{self.name}, {self.span}" if self.name else self.span
        return head + (f"; {self.note}" if self.note else "")


def describe_season(freq: str | None, period: int, found: bool = False, note: str = "") -> Season:
    """The Season of a given period at frequency `freq`: named when it is one of the frequency's cycles."""
    period = _positive_int(period, "season")
    n, unit, _ = _family(freq)
    if period == 1:
        return Season(1, "", "1 step: the same as naive", found, note)
    if not unit:
        span = f"{period} steps"
    elif n == 1:
        span = f"{period} {unit}"
    else:
        span = f"{period} steps of {n} {unit}"
    name = dict((p, name) for p, name in _candidates(freq)).get(period, "")
    return Season(period, name, span, found, note)


# A cycle must beat the half-period lag by 5%: real ones do by far (Seattle's year: 0.34, its day: 0.02),
# random walks lose (S&P 500: 1.5), and the VIX's year ties at 1.002, which noise could tip either way.
CYCLE_MARGIN = 0.95


def _lag_mae(y: np.ndarray, lag: int, start: int) -> float:
    """mean |y[t] − y[t − lag]| over t in [start, len(y)); start ≥ lag."""
    return float(np.mean(np.abs(y[start:] - y[start - lag: y.size - lag])))


def choose_season(freq: str | None, y_train: np.ndarray) -> Season:
    """The seasonal period the training part shows, among the frequency's cycles (D: 7 and 365, h: 24 and 168, ...).

    A cycle counts when the training part covers it at least twice and it is real: repeating the
    value one period back beats repeating the value half a period back, mean |y[t] − y[t−s]| <
    CYCLE_MARGIN · mean |y[t] − y[t−round(s/2)]| (half a period away a true cycle is at its opposite
    phase; mere persistence makes the shorter lag win; the margin keeps noise from deciding a near
    tie). Among real cycles the one with the lowest error wins.
    With none, the frequency's default period (season_length) comes back, saying so in its note.
    Pass only the training part: whatever it holds decides.
    """
    y = _series(y_train)
    errors = {}
    for period, _ in _candidates(freq):
        if y.size < 2 * period:
            continue  # fewer than two cycles: no way to tell a cycle from chance
        error = _lag_mae(y, period, period)
        if error < CYCLE_MARGIN * _lag_mae(y, max(1, round(period / 2)), period):
            errors[period] = error
    if errors:
        best = min(errors.values())
        # Ties (a clean daily cycle repeats weekly too) go to the shorter period: it needs less history.
        period = min(p for p, error in errors.items() if error <= best * (1 + 1e-9) + 1e-12)
        return describe_season(freq, period, found=True)
    default = season_length(freq)
    return describe_season(freq, default, note="no clear cycle found" if default > 1 else "")


def make_baselines(freq: str | None, window: int, season: int | None = None,
                   y_train: np.ndarray | None = None) -> dict[str, Baseline]:
    """Unfitted baselines keyed naive, seasonal_naive, drift, moving_average, linear, ets.

    The seasonal period is `season` when given (it overrides), else the one `choose_season` finds in
    `y_train` (the training part only), else the frequency's default. `window` is the LSTM's
    lookback, used for the moving average size and the linear model's lags. Exponential smoothing
    takes the period only when it was given or found as a cycle (a default period is no evidence of
    one); it falls back to simpler forms on a short training part instead of failing, so every series
    and every backtest fold scores the same set of models.
    """
    window = _positive_int(window, "window")
    if season is not None:
        chosen = describe_season(freq, _positive_int(season, "season"))
    elif y_train is not None:
        chosen = choose_season(freq, y_train)
    else:
        chosen = describe_season(freq, season_length(freq))
    return {
        "naive": NaiveForecast(),
        "seasonal_naive": SeasonalNaive(chosen.period, chosen.short),
        "drift": DriftForecast(),
        "moving_average": MovingAverage(window),
        "linear": LinearOnLags(window),
        "ets": ExponentialSmoothing(chosen.period if chosen.found or season else None, chosen.name, fallback=True),
    }
