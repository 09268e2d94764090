"""Is the LSTM really better, and is structure left over? Diebold–Mariano and Ljung–Box, in plain numpy/scipy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from forecaster.errors import ConfigError, DataError

ALPHA = 0.05  # the significance level the sentences speak of


def _finite_1d(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise DataError(f"{name} must be a non-empty 1-D array of finite numbers; got shape {arr.shape}.")
    return arr


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


# ---------------------------------------------------------------- Diebold–Mariano

@dataclass(frozen=True)
class DieboldMariano:
    """DM test of model A against model B: a negative statistic means A's loss is lower."""

    statistic: float
    p_value: float
    mean_difference: float  # mean of loss(A) - loss(B)
    n: int
    horizon: int
    loss: str
    model: str = "the LSTM"
    other: str = "naive"

    @property
    def better(self) -> bool:
        return self.mean_difference < 0

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    def sentence(self) -> str:
        """One plain sentence with the p-value."""
        if self.mean_difference == 0:
            return (f"{self.model[0].upper()}{self.model[1:]} and the {self.other} forecast make the same errors "
                    f"on the test part; neither is better ({_p_text(self.p_value)}, Diebold–Mariano).")
        word = "better" if self.better else "worse"
        tail = ("and the difference is unlikely to be chance" if self.significant
                else "but the difference could well be chance")
        return (f"{self.model[0].upper()}{self.model[1:]} is {word} than the {self.other} forecast, {tail} "
                f"({_p_text(self.p_value)}, Diebold–Mariano on {self.n} test forecasts).")

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "p_value": self.p_value, "mean_loss_difference": self.mean_difference,
                "n": self.n, "horizon": self.horizon, "loss": self.loss, "better": self.better,
                "significant": self.significant, "sentence": self.sentence()}


def autocovariance(x: np.ndarray, lag: int) -> float:
    """Sample autocovariance at `lag` with the 1/n normalisation (keeps the HAC variance positive-ish)."""
    n = x.size
    centred = x - x.mean()
    return float(np.dot(centred[lag:], centred[: n - lag]) / n)


def long_run_variance(d: np.ndarray, horizon: int) -> float:
    """γ0 + 2 Σ_{k=1}^{h-1} γk of a loss differential of h-step forecasts (overlapping, so MA(h-1)); the plain
    variance where that estimate is not positive."""
    n = d.size
    variance = autocovariance(d, 0) + 2 * sum(autocovariance(d, k) for k in range(1, min(horizon, n)))
    return variance if variance > 0 else autocovariance(d, 0)


def diebold_mariano(errors_a: Any, errors_b: Any, horizon: int = 1, loss: str = "absolute",
                    model: str = "the LSTM", other: str = "naive") -> DieboldMariano:
    """Diebold–Mariano test with the Harvey–Leybourne–Newbold small-sample correction.

    errors_*: (n,) forecast errors in time order, or (n, H) multi-step errors, whose losses are
    averaged over the steps of each origin. The loss differential d_t = L(a_t) - L(b_t) has
    long-run variance γ0 + 2 Σ_{k=1}^{h-1} γk (h-step forecasts overlap, so d is MA(h-1));
    DM = mean(d) / sqrt(var / n), scaled by sqrt((n + 1 - 2h + h(h-1)/n) / n) and compared with
    Student's t with n-1 degrees of freedom, two-sided.
    """
    a = np.asarray(errors_a, dtype=np.float64)
    b = np.asarray(errors_b, dtype=np.float64)
    if a.shape != b.shape:
        raise DataError(f"Both error series must have the same shape; got {a.shape} and {b.shape}.")
    if loss == "absolute":
        la, lb = np.abs(a), np.abs(b)
    elif loss == "squared":
        la, lb = a ** 2, b ** 2
    else:
        raise ConfigError(f"loss must be absolute or squared; got {loss!r}.")
    d = la - lb
    if d.ndim == 2:
        d = d.mean(axis=1)
    d = _finite_1d(d, "The loss differential")
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ConfigError(f"horizon must be a positive whole number; got {horizon!r}.")
    n, h = d.size, int(horizon)
    if n < 3:
        raise DataError(f"The Diebold–Mariano test needs at least 3 forecasts; got {n}.")
    mean = float(d.mean())
    variance = long_run_variance(d, h)
    if variance <= 0 or mean == 0:  # identical losses: no evidence either way
        return DieboldMariano(0.0, 1.0, mean, n, h, loss, model, other)
    dm = mean / math.sqrt(variance / n)
    correction = math.sqrt(max(n + 1 - 2 * h + h * (h - 1) / n, 1e-12) / n)
    statistic = dm * correction
    p_value = float(2 * stats.t.sf(abs(statistic), df=n - 1))
    return DieboldMariano(float(statistic), p_value, mean, n, h, loss, model, other)


def compare_with_baselines(evaluation: Any, baselines: tuple[str, ...] | None = None,
                           loss: str = "absolute") -> dict[str, DieboldMariano]:
    """DM tests of the LSTM against each named baseline on the test errors of an Evaluation.

    By default naive, seasonal naive and the best baseline (the one the verdict names). The absolute
    loss matches the MAE the verdict speaks of. Multi-step forecasts use each origin's mean loss over
    the horizon, with h = horizon in the variance.
    """
    if baselines is None:
        best = getattr(evaluation, "best_baseline", None)
        baselines = tuple(dict.fromkeys(("naive", "seasonal_naive", *((best,) if best else ()))))
    actual = evaluation.actual
    lstm_errors = actual - evaluation.predictions["lstm"]
    out = {}
    for name in baselines:
        if name not in evaluation.predictions:
            continue
        label = evaluation.labels.get(name, name).split(" (")[0].lower()
        out[name] = diebold_mariano(lstm_errors, actual - evaluation.predictions[name], evaluation.horizon, loss,
                                    other=label)
    return out


# ---------------------------------------------------------------- Ljung–Box

def acf(x: Any, lags: int) -> np.ndarray:
    """Sample autocorrelations ρ_1..ρ_lags (the usual biased estimator, as in Box–Jenkins)."""
    x = _finite_1d(x, "The residuals")
    centred = x - x.mean()
    denominator = float(np.dot(centred, centred))
    if denominator == 0:
        return np.zeros(lags)
    return np.array([np.dot(centred[k:], centred[: x.size - k]) / denominator for k in range(1, lags + 1)])


def default_lags(n: int, season: int = 1) -> int:
    """min(10, n/5), or two seasons when the series has one (still at most n/5), at least 1."""
    wanted = 2 * season if season and season > 1 else 10
    return max(1, min(wanted, n // 5))


@dataclass(frozen=True)
class LjungBox:
    """Autocorrelation of residuals and the Ljung–Box portmanteau test over the first `lags` lags."""

    acf: np.ndarray  # (lags,) ρ_1..ρ_lags
    statistic: float
    p_value: float
    lags: int
    n: int

    @property
    def band(self) -> float:
        """±1.96/sqrt(n): autocorrelations inside it are what white noise shows by chance."""
        return 1.96 / math.sqrt(self.n)

    def sentence(self) -> str:
        if self.p_value < ALPHA:
            return (f"The LSTM's errors are still correlated with their own past (Ljung–Box {_p_text(self.p_value)} "
                    f"over {self.lags} lags): some structure is left unexplained; a longer window, extra features "
                    "or another target transform may capture it.")
        return (f"No sign of structure left in the LSTM's errors (Ljung–Box {_p_text(self.p_value)} over "
                f"{self.lags} lags): they look like noise.")

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "p_value": self.p_value, "lags": self.lags, "n": self.n,
                "acf": [float(v) for v in self.acf], "sentence": self.sentence()}


def ljung_box(residuals: Any, lags: int | None = None, season: int = 1) -> LjungBox:
    """Q = n(n+2) Σ_{k=1..m} ρ_k² / (n-k), p-value from chi² with m degrees of freedom."""
    x = _finite_1d(residuals, "The residuals")
    n = x.size
    if n < 5:
        raise DataError(f"The Ljung–Box test needs at least 5 residuals; got {n}.")
    m = default_lags(n, season) if lags is None else int(lags)
    if not 1 <= m < n:
        raise ConfigError(f"lags must be from 1 to {n - 1}; got {lags!r}.")
    rho = acf(x, m)
    q = float(n * (n + 2) * np.sum(rho ** 2 / (n - np.arange(1, m + 1))))
    return LjungBox(acf=rho, statistic=q, p_value=float(stats.chi2.sf(q, df=m)), lags=m, n=n)


def residual_diagnostics(evaluation: Any) -> LjungBox:
    """Ljung–Box on the LSTM's one-step test residuals, in time order.

    Only step 1: errors of overlapping multi-step forecasts are correlated by construction.
    """
    residuals = evaluation.actual[:, 0] - evaluation.predictions["lstm"][:, 0]
    return ljung_box(residuals, season=evaluation.season)
