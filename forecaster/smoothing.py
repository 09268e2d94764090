"""Exponential smoothing as a baseline: additive Holt–Winters fitted once by statsmodels, forecast by its recursions."""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

import numpy as np

from forecaster.contract import Baseline, finite_series, positive_int, repeat_last
from forecaster.errors import ConfigError, DataError, NotFittedError

if TYPE_CHECKING:
    from forecaster.frequency import Season


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

    @classmethod
    def for_series(cls, season: Season, window: int, season_given: bool = False) -> "ExponentialSmoothing":
        """The period only when given or found as a cycle (a default period is no evidence of one), and the
        fallback on, so every series and every backtest fold scores the same set of models."""
        return cls(season.period if season.found or season_given else None, season.name, fallback=True)

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
            season = positive_int(self.season, "season")
            if season > ETS_MAX_SEASON and not self.fallback:
                raise ConfigError(f"Exponential smoothing fits seasons of at most {ETS_MAX_SEASON} steps (one "
                                  f"state per step); got season={season}. Use season=None for no season.")
        if self.max_points is not None and positive_int(self.max_points, "max_points") < ETS_MIN_POINTS:
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
        y = finite_series(y)
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
        out = repeat_last(y, origins, self.horizon_)  # naive before the fit window
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
