"""Simple forecasts every LSTM must beat, and the registry that builds them all for a series."""

from __future__ import annotations

from numbers import Real

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from forecaster.contract import Baseline, positive_int, repeat_last
from forecaster.errors import ConfigError, DataError
from forecaster.frequency import Season, choose_season, describe_season, season_length
from forecaster.smoothing import ExponentialSmoothing

__all__ = [
    "Baseline",
    "NaiveForecast",
    "SeasonalNaive",
    "DriftForecast",
    "MovingAverage",
    "LinearOnLags",
    "ExponentialSmoothing",
    "BASELINES",
    "make_baselines",
]


# --------------------------------------------------------------------------- baselines


class NaiveForecast(Baseline):
    """Repeat the last observed value."""

    name = "naive"

    @property
    def label(self) -> str:
        return "Naive (last value)"

    def _predict(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        return repeat_last(y, origins, self.horizon_)


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

    @classmethod
    def for_series(cls, season: Season, window: int, season_given: bool = False) -> "SeasonalNaive":
        return cls(season.period, season.short)

    @property
    def label(self) -> str:
        return f"Seasonal naive ({self.description or f'{self.season} steps'})"

    def _validate_params(self) -> None:
        positive_int(self.season, "season")

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

    @classmethod
    def for_series(cls, season: Season, window: int, season_given: bool = False) -> "MovingAverage":
        return cls(window)  # as long as the LSTM's lookback

    @property
    def label(self) -> str:
        return f"Moving average ({self.size})"

    def _validate_params(self) -> None:
        positive_int(self.size, "size")

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

    @classmethod
    def for_series(cls, season: Season, window: int, season_given: bool = False) -> "LinearOnLags":
        return cls(window)  # the LSTM's own lags

    @property
    def label(self) -> str:
        return "Linear (ridge on lags)"

    def _validate_params(self) -> None:
        positive_int(self.window, "window")
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
        out = repeat_last(y, origins, self.horizon_)  # naive where history is too short
        full = origins >= w - 1
        if np.any(full):
            changes = self.model_.predict(self._design(y, X, origins[full]))  # (n_full, horizon)
            out[full] = y[origins[full]][:, None] + changes.reshape(-1, self.horizon_)
        return out


# --------------------------------------------------------------------------- registry

# Every baseline scored beside the LSTM, in table order: a new model is one class and one line here.
BASELINES: dict[str, type[Baseline]] = {
    "naive": NaiveForecast,
    "seasonal_naive": SeasonalNaive,
    "drift": DriftForecast,
    "moving_average": MovingAverage,
    "linear": LinearOnLags,
    "ets": ExponentialSmoothing,
}


def make_baselines(freq: str | None, window: int, season: int | None = None,
                   y_train: np.ndarray | None = None) -> dict[str, Baseline]:
    """Unfitted baselines of the registry, keyed as in BASELINES (naive, seasonal_naive, drift, ...).

    The seasonal period is `season` when given (it overrides), else the one `choose_season` finds in
    `y_train` (the training part only), else the frequency's default. `window` is the LSTM's
    lookback, used for the moving average size and the linear model's lags. Each class's
    `for_series` builds it from these (exponential smoothing takes the period only when given or found).
    """
    window = positive_int(window, "window")
    if season is not None:
        chosen = describe_season(freq, positive_int(season, "season"))
    elif y_train is not None:
        chosen = choose_season(freq, y_train)
    else:
        chosen = describe_season(freq, season_length(freq))
    return {name: kind.for_series(chosen, window, season_given=season is not None) for name, kind in BASELINES.items()}
