"""What every screen shows about a model: metrics, verdict, significance, residual checks, intervals and bands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from forecaster.diagnostics import DieboldMariano, LjungBox, compare_with_baselines, residual_diagnostics
from forecaster.errors import DataError
from forecaster.evaluation import LSTM, NAIVE, Evaluation
from forecaster.intervals import (
    DEFAULT_LEVELS,
    DEFAULT_PASSES,
    ConformalCalibration,
    IntervalReport,
    add_bands,
    calibrate,
    calibration_for,
    interval_report,
    level_suffix,
)

# How a band's test coverage stands against its nominal level: within COVERAGE_TOLERANCE it is calibrated.
CALIBRATED, TOO_NARROW, TOO_WIDE, UNAVAILABLE = "calibrated", "too_narrow", "too_wide", "unavailable"
COVERAGE_TOLERANCE = 0.05


def _number(value: float | None, fmt: str, missing: str = "—") -> str:
    return missing if value is None or value != value else format(value, fmt)


# ---------------------------------------------------------------- metrics and verdict

@dataclass(frozen=True)
class MetricsRows:
    """The metrics table: one row per model (LSTM first), with the LSTM's standing and the best baseline's row."""

    values: pd.DataFrame  # floats headed MAE, RMSE, ...; index: display labels
    model: str  # the LSTM row's label
    best: str  # the best baseline's row label: the forecast to beat
    standing: str  # evaluation.BEATS_ALL, BEATS_NAIVE, LOSES or UNMEASURED

    def text(self) -> pd.DataFrame:
        """The values as the pages show them: three decimals, "—" where undefined (a forecast that never moves)."""
        return self.values.map(lambda v: _number(v, ",.3f"))

    def table(self) -> str:
        """The values as the command line prints them."""
        return self.values.to_string(float_format=lambda v: f"{v:.4g}")


def metrics_rows(evaluation: Evaluation) -> MetricsRows:
    return MetricsRows(values=evaluation.metrics_frame(), model=evaluation.labels[LSTM],
                       best=evaluation.labels.get(evaluation.best_baseline, evaluation.best_baseline),
                       standing=evaluation.standing)


@dataclass(frozen=True)
class Verdict:
    """Where the LSTM stands: its skill against the best baseline and against naive, and the sentence saying so."""

    standing: str
    sentence: str
    best_baseline: str  # the baseline's name
    best_label: str  # its display label
    skill_vs_best: float  # 1 - MAE_lstm / MAE_best (NaN when the best is perfect)
    skill_vs_naive: float

    def lines(self) -> list[str]:
        """The command line's wording."""
        return [f"Skill vs best baseline, {self.best_label} (1 - MAE_lstm / MAE_best): {self.skill_vs_best:+.3f}",
                f"Skill vs naive (1 - MAE_lstm / MAE_naive): {self.skill_vs_naive:+.3f}", self.sentence]


def verdict(evaluation: Evaluation) -> Verdict:
    best = evaluation.best_baseline
    return Verdict(standing=evaluation.standing, sentence=evaluation.verdict(), best_baseline=best,
                   best_label=evaluation.labels.get(best, best), skill_vs_best=evaluation.skill_vs_best,
                   skill_vs_naive=evaluation.skill)


def scale_sentence(evaluation: Evaluation, unit: str) -> str:
    """How far off the model was on the test part, in the series' units, beside the naive forecast."""
    ahead = ("one step ahead" if evaluation.horizon == 1 else
             f"averaged over the 1 to {evaluation.horizon} steps ahead of each forecast")
    return (f"For scale: on the test part this model's forecasts missed by {evaluation.metrics[LSTM]['mae']:.4g} "
            f"{unit} on average (MAE, {ahead}), against {evaluation.metrics[NAIVE]['mae']:.4g} for the naive "
            "forecast.")


# ---------------------------------------------------------------- significance and residuals

def significance(evaluation: Evaluation) -> dict[str, DieboldMariano]:
    """Diebold–Mariano of the LSTM against naive, seasonal naive and the best baseline; {} on too short a test."""
    try:
        return compare_with_baselines(evaluation)
    except DataError:  # a very short test part is too few points for the test; the rest of the judgement stands
        return {}


def residual_check(evaluation: Evaluation) -> LjungBox | None:
    """Ljung–Box on the LSTM's one-step test errors; None when the test part is too short for it."""
    try:
        return residual_diagnostics(evaluation)
    except DataError:
        return None


def interval_check(model: Any, prepared: Any = None, levels: Sequence[float] = DEFAULT_LEVELS,
                   passes: int = DEFAULT_PASSES) -> IntervalReport:
    """Conformal and Monte Carlo dropout bands on the test windows, with their coverage and width."""
    return interval_report(model, prepared, levels, passes=passes)


@dataclass(frozen=True)
class Judgement:
    """Everything said about one evaluated model; intervals only when the model itself was at hand."""

    verdict: Verdict
    metrics: MetricsRows
    diebold_mariano: Mapping[str, DieboldMariano]
    ljung_box: LjungBox | None
    intervals: IntervalReport | None = None

    def significance_text(self) -> str:
        """The Diebold–Mariano sentences as one paragraph ("" when the test part was too short)."""
        return " ".join(test.sentence() for test in self.diebold_mariano.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the command line: intervals (if any), their notes, the tests."""
        out: dict[str, Any] = {}
        if self.intervals is not None:
            out.update(intervals=self.intervals.to_dict(), interval_notes=self.intervals.notes)
        out["diebold_mariano"] = {name: test.to_dict() for name, test in self.diebold_mariano.items()}
        out["ljung_box"] = self.ljung_box.to_dict() if self.ljung_box is not None else None
        return out

    def report_lines(self) -> list[str]:
        """The command line's text after the metrics: intervals and their notes, then the tests."""
        lines = []
        if self.intervals is not None:
            lines += ["", "Prediction intervals on the test part (nominal level → share of actual values inside, "
                          "mean width):", *self.intervals.summary_lines(),
                      *(f"Note: {note}" for note in self.intervals.notes)]
        lines += ["", *(test.sentence() for test in self.diebold_mariano.values())]
        if self.ljung_box is not None:
            lines.append(self.ljung_box.sentence())
        return lines


def judge(evaluation: Evaluation, model: Any = None, prepared: Any = None, levels: Sequence[float] = DEFAULT_LEVELS,
          passes: int = DEFAULT_PASSES) -> Judgement:
    """The judgement of an evaluation; with the model (and its prepared data), its intervals too."""
    intervals = interval_check(model, prepared, levels, passes) if model is not None else None
    return Judgement(verdict=verdict(evaluation), metrics=metrics_rows(evaluation),
                     diebold_mariano=significance(evaluation), ljung_box=residual_check(evaluation),
                     intervals=intervals)


# ---------------------------------------------------------------- intervals as the pages show them

def coverage_standing(coverage: float, nominal: float) -> str:
    """CALIBRATED within 5 points of the nominal level, else TOO_NARROW below or TOO_WIDE above; or UNAVAILABLE."""
    if coverage != coverage:  # NaN: the method is unavailable
        return UNAVAILABLE
    gap = coverage - nominal
    return CALIBRATED if abs(gap) <= COVERAGE_TOLERANCE else TOO_NARROW if gap < 0 else TOO_WIDE


@dataclass(frozen=True)
class IntervalRows:
    """The interval table as text, and each row's coverage standing (for colour)."""

    table: pd.DataFrame  # Method, Nominal level, Coverage on test, Mean width (unit)
    standings: list[str] = field(default_factory=list)


def interval_rows(report: IntervalReport, unit: str = "") -> IntervalRows:
    frame = report.frame()
    width = f"Mean width ({unit})" if unit else "Mean width"
    table = pd.DataFrame({"Method": frame["method"],
                          "Nominal level": frame["nominal"].map(lambda v: f"{v:.0%}"),
                          "Coverage on test": frame["coverage"].map(lambda v: _number(v, ".1%", "unavailable")),
                          width: frame["width"].map(lambda v: _number(v, ",.3f"))})
    return IntervalRows(table=table, standings=[coverage_standing(c, n)
                                                for c, n in zip(frame["coverage"], frame["nominal"])])


@dataclass(frozen=True)
class StepBands:
    """One step ahead of every test forecast: times, actual, the LSTM's forecast and its conformal bands."""

    index: pd.DatetimeIndex
    actual: np.ndarray  # (n,)
    point: np.ndarray  # (n,)
    bands: dict[str, tuple[np.ndarray, np.ndarray]]  # "80% band" -> (lower, upper)


def step_bands(report: IntervalReport, evaluation: Evaluation, step: int) -> StepBands:
    bands = {f"{level_suffix(level)}% band": (lower[:, step - 1], upper[:, step - 1])
             for level, (lower, upper) in report.bands["conformal"].items()}
    return StepBands(index=evaluation.index[evaluation.origins + step], actual=report.actual[:, step - 1],
                     point=report.point[:, step - 1], bands=bands)


# ---------------------------------------------------------------- bands around a forecast of the future

def band_calibration(model: Any, data: Callable[[], Any] | None = None) -> ConformalCalibration | None:
    """Validation residuals for conformal bands: the fit's own or the saved record, else from `data()`'s.

    `data` is called only when the model carries none; its DataError (data the model cannot read) propagates.
    """
    calibration = calibration_for(model)
    if calibration is None and data is not None:
        calibration = calibrate(model, model.prepare(data()))
    return calibration


def forecast_notes(model: Any, steps: int) -> list[str]:
    """What to keep in mind reading a forecast `steps` long: recursion past the horizon, features held still."""
    horizon, notes = model.config.data.horizon, []
    if steps > horizon:
        notes.append(f"The model forecasts {horizon} step{'s' if horizon > 1 else ''} at a time; beyond that it feeds "
                     "its own forecasts back in, so errors compound the further out you go.")
    if len(model.columns_) > 1:
        notes.append(f"The extra features ({', '.join(model.columns_[1:])}) are unknown in the future and are held "
                     "at their last value.")
    return notes


@dataclass(frozen=True)
class ForecastBands:
    """A forecast frame with lower_XX / upper_XX columns, and what to say about them."""

    frame: pd.DataFrame
    uncalibrated: bool  # levels were asked for, but the model carries no validation errors to draw them from
    notes: list[str] = field(default_factory=list)


def forecast_bands(forecast: pd.DataFrame, model: Any, calibration: ConformalCalibration | None,
                   levels: Sequence[float]) -> ForecastBands:
    """Conformal bands at `levels` around a forecast; past the horizon widened as a random walk's spread grows."""
    if not levels or calibration is None:
        return ForecastBands(frame=forecast, uncalibrated=bool(levels))
    notes, horizon = [], model.config.data.horizon
    if len(forecast) > horizon:
        notes.append(f"Past {horizon} step{'s' if horizon > 1 else ''} the bands are widened by the square root of "
                     "the distance, as a random walk's spread grows: a rough guide, not a calibrated band.")
    return ForecastBands(frame=add_bands(forecast, model.target_, calibration, levels), uncalibrated=False,
                         notes=notes)
