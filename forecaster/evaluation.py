"""Score the LSTM and every baseline on the test part, in original units, and say who won."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from forecaster.metrics import METRIC_LABELS, compute_metrics, finite_or_none, per_step_metrics, skill, zero_actuals

if TYPE_CHECKING:
    from forecaster.prepare import Prepared

LSTM = "lstm"
NAIVE = "naive"

# Where the LSTM stands against the baselines: the one judgement every screen colours and words alike.
BEATS_ALL = "beats_all"  # lower test MAE than every baseline
BEATS_NAIVE = "beats_naive"  # beats the naive forecast but not the best baseline
LOSES = "loses"  # no better than the naive forecast
UNMEASURED = "unmeasured"  # the naive forecast is perfect, so no skill can be measured


def best_baseline_of(metrics: Mapping[str, Mapping[str, float | None]]) -> str | None:
    """The baseline with the lowest finite test MAE (the first listed on a tie); None if none has one.

    Works on an Evaluation's metrics and on a stored run's metrics JSON alike (None for undefined values).
    """
    best, lowest = None, math.inf
    for name, values in metrics.items():
        mae = values.get("mae")
        if name != LSTM and mae is not None and math.isfinite(mae) and mae < lowest:
            best, lowest = name, mae
    return best


def in_sentence(label: str) -> str:
    """A display label as it reads inside a sentence: "Seasonal naive (…)" -> "seasonal naive (…)", "ETS" kept."""
    first = label.split(" ", 1)[0]
    if len(first) > 1 and first[:2].isupper():  # an acronym: LSTM, ETS
        return label
    return label[:1].lower() + label[1:]


def _percent(value: float) -> str:
    return f"{value:.0%}" if value >= 0.005 else "less than 1%"


@dataclass
class Evaluation:
    """Test-part forecasts and metrics of the LSTM and each baseline."""

    target: str
    unit: str
    index: pd.DatetimeIndex  # timestamps of the whole cleaned series
    origins: np.ndarray  # (n,) test origins: last observed row of each forecast
    actual: np.ndarray  # (n, horizon) what happened
    last_levels: np.ndarray  # (n,) the value at each origin
    predictions: dict[str, np.ndarray]  # model name -> (n, horizon)
    labels: dict[str, str]  # model name -> display label
    metrics: dict[str, dict[str, float]]  # model name -> metric -> value
    season: int
    train_values: np.ndarray  # (train_end,) the training part's target, which scales MASE
    notes: list[str] = field(default_factory=list)

    @property
    def horizon(self) -> int:
        return self.actual.shape[1]

    @property
    def skill(self) -> float:
        """1 - MAE_lstm / MAE_naive: above 0 means the LSTM beats the naive forecast."""
        return skill(self.metrics[LSTM]["mae"], self.metrics["naive"]["mae"])

    @property
    def best_baseline(self) -> str:
        """The baseline with the lowest test MAE: the forecast the LSTM has to beat."""
        return best_baseline_of(self.metrics) or NAIVE

    @property
    def skill_vs_best(self) -> float:
        """1 - MAE_lstm / MAE_best: above 0 means the LSTM beats every baseline (NaN if the best is perfect)."""
        return skill(self.metrics[LSTM]["mae"], self.metrics[self.best_baseline]["mae"])

    @property
    def standing(self) -> str:
        """BEATS_ALL, BEATS_NAIVE, LOSES or UNMEASURED: what the verdict says and the screens colour."""
        vs_naive = self.skill
        if math.isnan(vs_naive):
            return UNMEASURED
        if not vs_naive > 0:
            return LOSES
        return BEATS_ALL if self.best_baseline == NAIVE or self.skill_vs_best > 0 else BEATS_NAIVE

    def metrics_frame(self) -> pd.DataFrame:
        """One row per model (LSTM first), columns headed MAE, RMSE, ... ."""
        frame = pd.DataFrame.from_dict(self.metrics, orient="index").rename(columns=METRIC_LABELS)
        frame.index = [self.labels[name] for name in frame.index]
        frame.index.name = "Model"
        return frame

    def predictions_frame(self, step: int = 1) -> pd.DataFrame:
        """Actual and every model's forecast `step` points ahead, indexed by the forecast time."""
        if not 1 <= step <= self.horizon:
            raise ValueError(f"step must be from 1 to {self.horizon}; got {step}.")
        times = self.index[self.origins + step]
        columns = {"actual": self.actual[:, step - 1]}
        columns.update({name: pred[:, step - 1] for name, pred in self.predictions.items()})
        return pd.DataFrame(columns, index=pd.DatetimeIndex(times, name="date"))

    def predictions_table(self) -> pd.DataFrame:
        """Every forecast as rows: origin time, step ahead, forecast time, actual and each model (for CSV)."""
        n, horizon = self.actual.shape
        steps = np.tile(np.arange(1, horizon + 1), n)  # (n * horizon,)
        origins = np.repeat(self.origins, horizon)
        table = pd.DataFrame({"origin": self.index[origins], "step": steps, "date": self.index[origins + steps],
                              "actual": self.actual.ravel()})
        for name, pred in self.predictions.items():
            table[name] = pred.ravel()
        return table

    def per_step(self) -> dict[str, list[dict[str, float]]]:
        """Every metric for each step ahead, for each model."""
        return {name: per_step_metrics(self.actual, pred, self.last_levels, self.train_values)
                for name, pred in self.predictions.items()}

    def verdict(self) -> str:
        """One plain sentence: does the model beat every baseline, only naive, or none, and by how much."""
        model = self.labels.get(LSTM, "LSTM")
        best = self.best_baseline
        lstm, naive, best_mae = (self.metrics[name]["mae"] for name in (LSTM, NAIVE, best))
        best_label = in_sentence(self.labels.get(best, best))
        standing = self.standing
        if standing == UNMEASURED:
            return "The naive forecast is perfect on the test part, so no skill can be measured."
        if standing == BEATS_ALL:
            return (f"The {model} beats every baseline: its test MAE is {_percent(self.skill_vs_best)} below the best, "
                    f"{best_label} ({lstm:.4g} vs {best_mae:.4g}).")
        if standing == BEATS_NAIVE:
            return (f"The {model} beats naive but not the {best_label} baseline (MAE {lstm:.4g} vs {best_mae:.4g}), "
                    "so that baseline is the forecast to use.")
        head = f"The {model} does not beat the naive forecast (test MAE {lstm:.4g} vs {naive:.4g}, skill {self.skill:.2f})."
        if best == NAIVE:
            return (f"{head} Train longer or try other settings; if nothing beats naive, the series may be close to "
                    "a random walk, and the naive forecast is the one to use.")
        return (f"{head} The best baseline is {best_label} (MAE {best_mae:.4g}): it is the forecast to use unless "
                "longer training or other settings do better.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: metrics per model, skill against naive and the best baseline, verdict, notes."""
        clean = finite_or_none
        best = self.best_baseline
        return {"metrics": {name: {k: clean(v) for k, v in m.items()} for name, m in self.metrics.items()},
                "skill_vs_naive": clean(self.skill), "best_baseline": best,
                "best_baseline_label": self.labels.get(best, best), "skill_vs_best": clean(self.skill_vs_best),
                "standing": self.standing, "verdict": self.verdict(), "notes": self.notes,
                "test_points": int(self.actual.size), "test_start": str(self.index[self.origins[0] + 1]),
                "test_end": str(self.index[self.origins[-1] + self.horizon])}


def evaluate(model: Any, prepared: Prepared | None = None, unit: str = "", season: int | None = None) -> Evaluation:
    """Fit every registered baseline on the training part and score them and the fitted `model` on the test windows.

    `model` is the fitted model being judged (an LSTMForecaster); it and the baselines meet only through the
    model contract (`forecaster.contract.ForecastModel`), so a model added to `baselines.BASELINES` is scored
    here, and in every backtest fold, with no other change.
    """
    from forecaster.baselines import make_baselines  # here: scikit-learn only loads when something is scored

    if prepared is None:
        prepared = model.prepared_
    horizon, window = model.config.data.horizon, model.config.data.window
    origins = prepared.test_origins
    y = prepared.y
    actual = y[origins[:, None] + np.arange(1, horizon + 1)]  # (n, horizon)
    y_train = y[: prepared.train_end]

    baselines = make_baselines(model.freq_, window, season, y_train)  # the period found in training only
    season_used = getattr(baselines.get("seasonal_naive"), "season", 1)
    models = {LSTM: model, **{name: baseline.fit_prepared(prepared, horizon) for name, baseline in baselines.items()}}
    predictions = {name: each.predict_prepared(prepared, origins) for name, each in models.items()}
    labels = {name: each.label for name, each in models.items()}
    metrics = {name: compute_metrics(actual, pred, y[origins], y_train) for name, pred in predictions.items()}

    notes = []
    zeros = zero_actuals(actual)
    if zeros:
        notes.append(f"MAPE skips {zeros} test points whose actual value is 0.")
    return Evaluation(target=model.target_, unit=unit, index=prepared.index, origins=origins, actual=actual,
                      last_levels=y[origins], predictions=predictions, labels=labels, metrics=metrics,
                      season=season_used, train_values=y_train, notes=notes)
