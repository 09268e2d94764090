"""The one contract every model follows: fit on a prepared series, forecast at origins in original units."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from forecaster.errors import ConfigError, DataError, NotFittedError

if TYPE_CHECKING:
    from typing import Self

    from forecaster.frequency import Season
    from forecaster.prepare import Prepared


@runtime_checkable
class ForecastModel(Protocol):
    """What evaluation, backtests and intervals need of a model; the LSTM and every baseline have it.

    `fit_prepared` learns from the training part only (rows before `prepared.train_end`) and returns the
    model; `predict_prepared` forecasts y[o+1 : o+1+horizon] for each origin o from the data up to o,
    (n_origins, horizon) float64 in the series' original units, and raises NotFittedError before a fit.
    """

    name: str  # the key in metrics and tables: "lstm", "naive", ...

    @property
    def label(self) -> str:
        """How screens name the model."""
        ...

    def fit_prepared(self, prepared: Prepared, horizon: int) -> Self:
        ...

    def predict_prepared(self, prepared: Prepared, origins: np.ndarray) -> np.ndarray:
        ...


def features_of(prepared: Prepared) -> np.ndarray | None:
    """The extra columns after the target, (T, F) in original units, or None when there are none."""
    return prepared.frame.to_numpy(dtype=np.float64)[:, 1:] if prepared.frame.shape[1] > 1 else None


# --------------------------------------------------------------------------- checked inputs


def positive_int(value: object, name: str) -> int:
    """`value` as int if it is a positive integer, else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def finite_series(y: np.ndarray) -> np.ndarray:
    """The target as a new 1-D float64 array, refusing NaN, inf and empty input."""
    arr = np.array(y, dtype=np.float64)  # a copy: callers' arrays are never touched
    if arr.ndim != 1:
        raise DataError(f"The target series must be 1-D (T,); got shape {arr.shape}.")
    if arr.size == 0:
        raise DataError("The target series is empty.")
    if not np.all(np.isfinite(arr)):
        raise DataError("The target series contains NaN or infinite values; clean it before forecasting.")
    return arr


def feature_rows(X: np.ndarray | None, n_rows: int) -> np.ndarray | None:
    """Extra feature columns as a new (T, F) float64 array aligned with y, or None."""
    if X is None:
        return None
    arr = np.array(X, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]  # one feature column given as (T,)
    if arr.ndim != 2 or arr.shape[0] != n_rows:
        raise DataError(f"Feature columns X must have shape ({n_rows}, n_features), one row per point of y; "
                        f"got {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise DataError("The feature columns contain NaN or infinite values; clean them first.")
    return arr


def origin_indices(origins: np.ndarray, n: int) -> np.ndarray:
    """Origins as a new 1-D int64 array, each a valid index of the last observed point."""
    arr = np.asarray(origins)
    if arr.ndim != 1:
        raise DataError(f"origins must be a 1-D array of indices; got shape {arr.shape}.")
    if arr.size and arr.dtype.kind not in "iu":
        raise DataError(f"origins must be integer indices; got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() > n - 1):
        raise DataError(f"origins must lie in [0, {n - 1}] (indices of observed points of y); "
                        f"got values from {arr.min()} to {arr.max()}.")
    return arr


# --------------------------------------------------------------------------- the simple models' base


class Baseline:
    """A simple forecaster: fit on y[:train_end], then forecast `horizon` steps from any origin.

    Subclasses implement `_fit` (optional) and `_predict`, and `for_series` when their constructor takes
    parameters; the base class validates inputs and keeps the scikit-learn contract (fit returns self,
    state ends in `_`). `fit` / `predict_at` take plain arrays; `fit_prepared` / `predict_prepared` are
    the model contract, on a prepared series with its feature columns.
    """

    name: str = "baseline"

    @classmethod
    def for_series(cls, season: Season, window: int, season_given: bool = False) -> "Baseline":
        """The model as the registry builds it for a series: its seasonal period (`season_given` when the
        user named it rather than the data showing it) and the LSTM's lookback `window`."""
        return cls()

    @property
    def label(self) -> str:
        """Human-readable name for tables and legends."""
        return self.name

    def fit(self, y: np.ndarray, train_end: int, horizon: int, X: np.ndarray | None = None) -> "Baseline":
        """Learn from y[:train_end] (and X[:train_end]) to forecast `horizon` steps ahead.

        y: (T,) full target series in original units, no NaN. X: optional (T, F) extra
        columns, used only by `LinearOnLags`. Nothing at or after train_end is read.
        """
        y = finite_series(y)
        horizon = positive_int(horizon, "horizon")
        train_end = positive_int(train_end, "train_end")
        if train_end > y.size:
            raise DataError(f"train_end ({train_end}) is past the end of the series ({y.size} points).")
        X = feature_rows(X, y.size)
        self._validate_params()
        train_X = None if X is None else X[:train_end]  # (train_end, F)
        self._fit(y[:train_end], horizon, train_X)
        self.horizon_ = horizon
        self.train_end_ = train_end
        return self

    def predict_at(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None = None) -> np.ndarray:
        """Forecast y[o+1 : o+1+horizon] for each origin o, using only y[:o+1] (and X[:o+1]).

        Returns (n_origins, horizon) float64. The horizon may run past the end of y,
        which is how a forecast of the unseen future is made (origin = len(y) − 1).
        """
        if not hasattr(self, "horizon_"):
            raise NotFittedError(f"The {self.label} baseline has not been fitted yet; call fit first.")
        y = finite_series(y)
        origins = origin_indices(origins, y.size)
        X = feature_rows(X, y.size)
        if origins.size == 0:
            return np.empty((0, self.horizon_), dtype=np.float64)
        out = self._predict(y, origins, X)  # (n_origins, horizon)
        assert out.shape == (origins.size, self.horizon_), out.shape
        return out.astype(np.float64, copy=False)

    def fit_prepared(self, prepared: Prepared, horizon: int) -> "Baseline":
        """The contract's fit: the prepared target and feature columns, trained on rows before train_end."""
        return self.fit(prepared.y, prepared.train_end, horizon, features_of(prepared))

    def predict_prepared(self, prepared: Prepared, origins: np.ndarray) -> np.ndarray:
        """The contract's forecast at origins of a prepared series, (n_origins, horizon), original units."""
        return self.predict_at(prepared.y, origins, features_of(prepared))

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


def repeat_last(y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Naive forecast: y[o] for every step ahead, (n_origins, horizon)."""
    return np.repeat(y[origins][:, None], horizon, axis=1)
