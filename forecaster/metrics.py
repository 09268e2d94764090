"""Forecast error metrics in the series' original units (MAE, RMSE, MAPE, sMAPE, R², MASE, direction)."""

from __future__ import annotations

import math

import numpy as np

from forecaster.errors import ConfigError, DataError

# Inputs: y_true and y_pred have identical shape, either (n,) or (n_origins, horizon),
# and are scored flattened. NaN or inf in them raises DataError (a ValueError): callers
# must never pass NaN, because silently skipping points would make models evaluated on
# different points look comparable when they are not.

METRIC_LABELS: dict[str, str] = {
    "mae": "MAE",
    "rmse": "RMSE",
    "mape": "MAPE %",
    "smape": "sMAPE %",
    "r2": "R²",
    "mase": "MASE",
    "direction": "Direction %",
}

LOWER_IS_BETTER: dict[str, bool] = {
    "mae": True,
    "rmse": True,
    "mape": True,
    "smape": True,
    "r2": False,
    "mase": True,
    "direction": False,
}


def _finite_array(values: np.ndarray, name: str) -> np.ndarray:
    """Return `values` as a new float64 array, refusing empty, non-numeric or non-finite input."""
    try:
        arr = np.array(values, dtype=np.float64)  # a copy: callers' arrays are never touched
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numeric; got {type(values).__name__} ({exc}).") from exc
    if arr.size == 0:
        raise DataError(f"{name} is empty; there is nothing to score.")
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise DataError(
            f"{name} contains {bad} NaN or infinite value(s); fill or drop them before scoring."
        )
    return arr


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (y_true, y_pred) pair and return both flattened to (n,)."""
    t = _finite_array(y_true, "y_true")
    p = _finite_array(y_pred, "y_pred")
    if t.shape != p.shape:
        raise DataError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}; they must match.")
    if t.ndim not in (1, 2):
        raise DataError(f"Expected 1-D (n,) or 2-D (n_origins, horizon) arrays; got shape {t.shape}.")
    return t.ravel(), p.ravel()


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error."""
    t, p = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def zero_actuals(y_true: np.ndarray) -> int:
    """Number of actual values that are exactly 0 (the points MAPE has to skip)."""
    return int(np.count_nonzero(_finite_array(y_true, "y_true") == 0.0))


def mape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute percentage error in percent, skipping zero actuals (NaN if all are zero)."""
    t, p = _pair(y_true, y_pred)
    keep = t != 0.0  # a zero actual makes the ratio infinite; zero_actuals() lets callers say how many
    if not np.any(keep):
        return float("nan")
    return float(100.0 * np.mean(np.abs((t[keep] - p[keep]) / t[keep])))


def smape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Symmetric MAPE in percent (0–200): mean of 2|e| / (|y| + |ŷ|), 0 where both are 0."""
    t, p = _pair(y_true, y_pred)
    denom = np.abs(t) + np.abs(p)
    num = 2.0 * np.abs(t - p)
    # both zero means a perfect forecast of zero, so the term is 0 rather than 0/0
    terms = np.divide(num, denom, out=np.zeros_like(num), where=denom != 0.0)
    return float(100.0 * np.mean(terms))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination 1 − SSE/SST (NaN when the actuals are constant)."""
    t, p = _pair(y_true, y_pred)
    # test constancy exactly rather than SST == 0: the mean of equal floats can be off by
    # one ulp, which would turn "undefined" into a huge negative number
    if np.all(t == t[0]):
        return float("nan")
    sse = np.sum((t - p) ** 2)
    sst = np.sum((t - np.mean(t)) ** 2)
    return float(1.0 - sse / sst)


def _naive_scale(y_train: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast on the training series (NaN if undefined)."""
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 1:
        raise ConfigError(f"season must be a positive integer; got {season!r}.")
    train = _finite_array(y_train, "y_train")
    if train.ndim != 1:
        raise DataError(f"y_train must be 1-D (T,); got shape {train.shape}.")
    if train.size <= season:
        return float("nan")
    scale = float(np.mean(np.abs(train[season:] - train[:-season])))
    return scale if scale > 0.0 else float("nan")


def mase(y_true: np.ndarray, y_pred: np.ndarray, y_train: np.ndarray, season: int = 1) -> float:
    """MAE scaled by the in-sample (seasonal) naive MAE of the training series.

    NaN when the training series is too short (≤ season points) or that naive MAE is 0.
    Below 1 means better than the naive forecast did in-sample.
    """
    scale = _naive_scale(y_train, season)
    err = mae(y_true, y_pred)
    return float("nan") if np.isnan(scale) else err / scale


def _origin_pairs(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as (n_origins, horizon); 1-D input is one step per origin."""
    t = _finite_array(y_true, "y_true")
    p = _finite_array(y_pred, "y_pred")
    if t.shape != p.shape:
        raise DataError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}; they must match.")
    if t.ndim == 1:
        t, p = t[:, None], p[:, None]  # (n_origins, 1)
    if t.ndim != 2:
        raise DataError(f"Expected 1-D (n,) or 2-D (n_origins, horizon) arrays; got shape {t.shape}.")
    return t, p


def direction_accuracy(y_true: np.ndarray, y_pred: np.ndarray, y_last: np.ndarray) -> float:
    """Percent of (origin, step) pairs where the forecast moves the same way as the actual.

    y_true, y_pred: (n_origins, horizon), or (n_origins,) meaning one step per origin.
    y_last: (n_origins,) the last observed value at each origin. Pairs whose actual change
    is exactly 0 have no direction and are skipped (NaN if none are left). A forecast that
    never moves (the naive one) states no direction at all and gets NaN rather than 0%;
    otherwise a flat step counts as a miss.
    """
    t, p = _origin_pairs(y_true, y_pred)
    last = _finite_array(y_last, "y_last")
    if last.shape != (t.shape[0],):
        raise DataError(
            f"y_last must have shape ({t.shape[0]},), one value per origin; got {last.shape}."
        )
    actual = np.sign(t - last[:, None])  # (n_origins, horizon)
    predicted = np.sign(p - last[:, None])  # (n_origins, horizon)
    keep = actual != 0.0
    if not np.any(keep) or not np.any(predicted != 0.0):
        return float("nan")
    return float(100.0 * np.mean(actual[keep] == predicted[keep]))


def compute_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_last: np.ndarray,
    y_train: np.ndarray,
    season: int = 1,
) -> dict[str, float]:
    """All metrics at once, keyed mae, rmse, mape, smape, r2, mase, direction (in that order)."""
    return {
        "mae": mae(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "mape": mape(y_true, y_pred),
        "smape": smape(y_true, y_pred),
        "r2": r2(y_true, y_pred),
        "mase": mase(y_true, y_pred, y_train, season),
        "direction": direction_accuracy(y_true, y_pred, y_last),
    }


def per_step_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_last: np.ndarray,
    y_train: np.ndarray,
    season: int = 1,
) -> list[dict[str, float]]:
    """One compute_metrics dict per step ahead (per column of (n_origins, horizon) input).

    1-D input (n_origins,) is read as a single step, giving a list of one dict.
    """
    t, p = _origin_pairs(y_true, y_pred)
    return [
        compute_metrics(t[:, k], p[:, k], y_last, y_train, season) for k in range(t.shape[1])
    ]


def skill(model_mae: float, naive_mae: float) -> float:
    """Skill score 1 − model/naive: 0 is no better than naive, 1 is perfect (NaN if naive is 0)."""
    if naive_mae == 0:
        return float("nan")
    return float(1.0 - model_mae / naive_mae)


def finite_or_none(value: float | None) -> float | None:
    """The value as a float, or None when it is missing, NaN or infinite: how JSON, tables and the store keep it."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
