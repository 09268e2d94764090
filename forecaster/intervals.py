"""Prediction intervals: split-conformal bands per step ahead, Monte Carlo dropout, and their test coverage."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from forecaster.errors import ConfigError
from forecaster.mc_dropout import DEFAULT_PASSES, mc_band, mc_dropout_paths  # noqa: F401 - re-exported
from forecaster.metrics import finite_or_none
from forecaster.prepare import Prepared

DEFAULT_LEVELS = (0.8, 0.95)
METHODS = ("conformal", "mc_dropout")
METHOD_LABELS = {"conformal": "Conformal (validation residuals)", "mc_dropout": "Monte Carlo dropout"}


# ---------------------------------------------------------------- levels

def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """Levels as sorted unique floats strictly between 0 and 1, or a ConfigError naming the bad one."""
    out = []
    for level in levels:
        try:
            value = float(level)
        except (TypeError, ValueError):
            raise ConfigError(f"interval levels must be numbers between 0 and 1 such as 0.8 or 0.95; got {level!r}.") from None
        if not (0.0 < value < 1.0) or not math.isfinite(value):
            raise ConfigError(f"interval levels must lie strictly between 0 and 1 (e.g. 0.8, 0.95); got {level!r}.")
        out.append(value)
    if not out:
        raise ConfigError("give at least one interval level, e.g. 0.8,0.95.")
    return tuple(sorted(set(out)))


def level_key(level: float) -> str:
    """How a level is written in JSON: 0.9 -> "0.9"."""
    return f"{float(level):g}"


def level_suffix(level: float) -> str:
    """How a level is written in column names: 0.8 -> "80", 0.975 -> "97.5"."""
    return f"{round(float(level) * 100, 6):g}"


# ---------------------------------------------------------------- split conformal

def conformal_quantile(abs_residuals: np.ndarray, level: float) -> float:
    """The finite-sample split-conformal quantile: the ceil((n+1)·level)-th smallest |residual|.

    With n exchangeable calibration residuals, point ± this value covers a new point with
    probability at least `level`. When (n+1)·level exceeds n there are too few residuals
    for that guarantee and the band is infinite.
    """
    values = np.sort(np.asarray(abs_residuals, dtype=np.float64).ravel())
    n = values.size
    if n == 0:
        return math.inf
    rank = math.ceil((n + 1) * level - 1e-9)  # tolerance: 0.8 * 10 is 8.000000000000002 in floats
    return math.inf if rank > n else float(values[rank - 1])


@dataclass
class ConformalCalibration:
    """Absolute validation residuals of the LSTM, sorted, one array per step ahead (original units)."""

    abs_residuals: list[np.ndarray]  # horizon arrays of shape (n_val,)

    @property
    def horizon(self) -> int:
        return len(self.abs_residuals)

    @property
    def n(self) -> int:
        return int(self.abs_residuals[0].size) if self.abs_residuals else 0

    def quantiles(self, level: float) -> np.ndarray:
        """(horizon,) half-widths q_k for each step ahead k = 1..H."""
        return np.array([conformal_quantile(r, level) for r in self.abs_residuals])

    def half_widths(self, level: float, steps: int) -> np.ndarray:
        """(steps,) half-widths for a forecast `steps` long, beyond the horizon too.

        Within the horizon each step has its own calibrated quantile. Past it the model feeds
        its own forecasts back in and no validation residuals exist, so the last step's
        quantile is widened by sqrt(step / horizon), the growth of a random walk's spread:
        an honest guess, not a calibrated band.
        """
        q = self.quantiles(level)
        k = np.arange(1, steps + 1)
        out = q[np.minimum(k, self.horizon) - 1].astype(np.float64)
        beyond = k > self.horizon
        out[beyond] = q[-1] * np.sqrt(k[beyond] / self.horizon)
        return out

    def band(self, point: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds around forecasts (n, horizon)."""
        q = self.quantiles(level)[None, :]  # (1, horizon)
        return point - q, point + q

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: saved in the model folder so `forecast` can draw bands without the data."""
        return {"method": "split_conformal", "abs_residuals": [[float(f"{v:.6g}") for v in r] for r in self.abs_residuals]}

    @classmethod
    def from_dict(cls, raw: Any) -> "ConformalCalibration | None":
        """Rebuild from to_dict's output; None when the record is missing or malformed."""
        try:
            arrays = [np.sort(np.abs(np.asarray(r, dtype=np.float64))) for r in raw["abs_residuals"]]
        except (KeyError, TypeError, ValueError):
            return None
        if not arrays or any(a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)) for a in arrays):
            return None
        return cls(abs_residuals=arrays)


def calibrate(model: Any, prepared: Prepared | None = None) -> ConformalCalibration:
    """A fitted model's absolute residuals on the validation windows, per step ahead (any model of the contract).

    The validation part was used only to choose the LSTM's epoch, never to fit weights, so its
    residuals stand in for the errors on unseen data (early stopping makes them slightly
    optimistic; the test coverage shows by how much).
    """
    prepared = prepared if prepared is not None else model.prepared_
    origins = prepared.val_origins
    point = model.predict_prepared(prepared, origins)  # (n_val, horizon)
    horizon = point.shape[1]
    actual = prepared.y[origins[:, None] + np.arange(1, horizon + 1)]  # (n_val, horizon)
    residuals = np.abs(actual - point)
    return ConformalCalibration(abs_residuals=[np.sort(residuals[:, k]) for k in range(horizon)])


def calibration_for(model: Any, prepared: Prepared | None = None) -> ConformalCalibration | None:
    """From prepared data when there is some (a fresh fit keeps its own), else from the saved model's record."""
    if prepared is None:
        prepared = getattr(model, "prepared_", None)
    if prepared is not None:
        return calibrate(model, prepared)
    return ConformalCalibration.from_dict((getattr(model, "extra_", None) or {}).get("conformal"))


def add_bands(forecast: pd.DataFrame, target: str, calibration: ConformalCalibration,
              levels: Sequence[float]) -> pd.DataFrame:
    """A copy of a forecast frame with lower_XX / upper_XX columns for each level (conformal)."""
    out = forecast.copy()
    point = out[target].to_numpy(dtype=np.float64)
    for level in check_levels(levels):
        half = calibration.half_widths(level, len(out))
        suffix = level_suffix(level)
        out[f"lower_{suffix}"] = point - half
        out[f"upper_{suffix}"] = point + half
    return out


# ---------------------------------------------------------------- scoring on the test part

def coverage_width(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[float, float]:
    """Share of actual values inside [lower, upper], and the mean width of the band."""
    actual = np.asarray(actual, dtype=np.float64)
    inside = (actual >= lower) & (actual <= upper)
    return float(np.mean(inside)), float(np.mean(upper - lower))


@dataclass
class IntervalReport:
    """Bands on the test windows for each method and level, with their empirical coverage and width."""

    levels: tuple[float, ...]
    actual: np.ndarray  # (n, horizon) test actuals
    point: np.ndarray  # (n, horizon) the LSTM's test forecasts
    bands: dict[str, dict[float, tuple[np.ndarray, np.ndarray]] | None]  # method -> level -> (lower, upper)
    calibration: ConformalCalibration
    passes: int = DEFAULT_PASSES
    notes: list[str] = field(default_factory=list)
    why_no_dropout_bands: str = "the model has no dropout"  # shown when bands["mc_dropout"] is None

    def score(self, method: str, level: float) -> dict[str, float] | None:
        bands = self.bands.get(method)
        if bands is None:
            return None
        coverage, width = coverage_width(self.actual, *bands[level])
        return {"coverage": coverage, "width": width}

    def to_dict(self) -> dict[str, dict[str, dict[str, float | None]] | None]:
        """{"conformal": {"0.8": {"coverage": .., "width": ..}}, "mc_dropout": {...} or None}."""
        clean = finite_or_none
        out: dict[str, Any] = {}
        for method in METHODS:
            if self.bands.get(method) is None:
                out[method] = None
                continue
            out[method] = {level_key(level): {k: clean(v) for k, v in self.score(method, level).items()}
                           for level in self.levels}
        return out

    def frame(self) -> pd.DataFrame:
        """One row per method and level: nominal level, coverage, mean width (NaN where unavailable)."""
        rows = []
        for method in METHODS:
            for level in self.levels:
                score = self.score(method, level)
                rows.append({"method": METHOD_LABELS[method], "nominal": level,
                             "coverage": np.nan if score is None else score["coverage"],
                             "width": np.nan if score is None else score["width"]})
        return pd.DataFrame(rows)

    def summary_lines(self) -> list[str]:
        """Short text lines for the CLI report."""
        lines = []
        for method in METHODS:
            if self.bands.get(method) is None:
                lines.append(f"  {METHOD_LABELS[method]}: unavailable ({self.why_no_dropout_bands}).")
                continue
            parts = []
            for level in self.levels:
                score = self.score(method, level)
                parts.append(f"{level:.0%} → covers {score['coverage']:.1%}, width {score['width']:.4g}")
            lines.append(f"  {METHOD_LABELS[method]}: " + "; ".join(parts))
        return lines


def interval_report(model: Any, prepared: Prepared | None = None, levels: Sequence[float] = DEFAULT_LEVELS,
                    passes: int = DEFAULT_PASSES, seed: int = 0) -> IntervalReport:
    """Conformal and Monte Carlo dropout bands on the test windows, scored against what happened."""
    levels = check_levels(levels)
    prepared = prepared if prepared is not None else model.prepared_
    horizon = model.config.data.horizon
    origins = prepared.test_origins
    actual = prepared.y[origins[:, None] + np.arange(1, horizon + 1)]  # (n, horizon)
    point = model.predict_prepared(prepared, origins)
    calibration = calibrate(model, prepared)
    bands: dict[str, dict[float, tuple[np.ndarray, np.ndarray]] | None] = {
        "conformal": {level: calibration.band(point, level) for level in levels}}
    notes = []
    too_high = [level for level in levels if math.isinf(calibration.quantiles(level).max())]
    if too_high:
        notes.append(f"Only {calibration.n} validation windows: too few for a finite conformal band at "
                     f"{', '.join(f'{lv:.0%}' for lv in too_high)}.")
    samples = mc_dropout_paths(model, prepared, origins, passes, seed)
    why = "the model has no dropout"
    if samples is None:
        bands["mc_dropout"] = None
        notes.append("Monte Carlo dropout is unavailable: the model was trained without dropout.")
    elif np.ptp(samples, axis=0).max() <= 1e-9 * max(1.0, float(np.abs(point).max())):
        # Every pass agrees: dropout acts only on the recurrent part, and a model that kept its simple start
        # (the head still at zero) forecasts through the linear skip alone. Zero-width bands would claim certainty.
        bands["mc_dropout"] = None
        why = "dropout does not change this model's forecasts"
        notes.append("Monte Carlo dropout is unavailable: the model kept its simple start, so its recurrent part, "
                     "where dropout acts, adds nothing and every pass gives the same forecast.")
    else:
        bands["mc_dropout"] = {level: mc_band(samples, level) for level in levels}
    return IntervalReport(levels=levels, actual=actual, point=point, bands=bands, calibration=calibration,
                          passes=passes, notes=notes, why_no_dropout_bands=why)
