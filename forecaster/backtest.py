"""Walk-forward backtests: refit on each origin's past only, score the LSTM and baselines on what came next."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from forecaster.cleaning import add_missing_timestamps, fill_missing, resample_frame, select_columns
from forecaster.config import ForecasterConfig
from forecaster.errors import DataError
from forecaster.evaluation import LSTM, NAIVE, best_baseline_of, evaluate, in_sentence
from forecaster.folds import MAX_FOLDS, MODES, Fold, plan_folds  # noqa: F401 - re-exported
from forecaster.frequency import describe_season
from forecaster.metrics import finite_or_none
from forecaster.prepare import Scaler
from forecaster.training import EpochReport


@dataclass
class FoldResult:
    """One fold's outcome: its dates, fitted scaler, training summary and every model's test metrics."""

    fold: Fold
    train_start: str
    test_start: str
    test_end: str
    metrics: dict[str, dict[str, float]]  # model -> metric -> value
    scaler: Scaler
    epochs_run: int
    seconds: float
    test_points: int

    def to_dict(self) -> dict[str, Any]:
        return {"fold": self.fold.number, "train_start": self.train_start, "test_start": self.test_start,
                "test_end": self.test_end, "history_rows": self.fold.origin - self.fold.start,
                "test_rows": self.fold.end - self.fold.origin, "test_points": self.test_points,
                "epochs_run": self.epochs_run, "seconds": round(self.seconds, 3),
                "metrics": {name: {k: finite_or_none(v) for k, v in m.items()} for name, m in self.metrics.items()}}


@dataclass(frozen=True)
class BacktestProgress:
    """What the progress callback receives: after each epoch of a fold, and when a fold is done."""

    fold: int  # 1-based fold being fitted
    folds: int
    epoch: EpochReport | None = None  # the fold's latest epoch, None when reporting a finished fold
    result: FoldResult | None = None  # set once the fold is scored
    share: float | None = None  # the share done, when folds run side by side (on a cluster)

    @property
    def fraction(self) -> float:
        """Share of the whole backtest done, counting epochs of the current fold."""
        if self.share is not None:
            return min(1.0, self.share)
        done = self.fold if self.result is not None else self.fold - 1
        within = 0.0 if self.epoch is None or self.result is not None else self.epoch.epoch / self.epoch.max_epochs
        return min(1.0, (done + within) / self.folds)


@dataclass
class BacktestResult:
    """Per-fold metrics of every model, their mean and spread, and a plain verdict."""

    mode: str
    folds: list[FoldResult]
    planned: int
    step: int
    initial: int
    labels: dict[str, str]
    stopped: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def models(self) -> list[str]:
        return list(self.folds[0].metrics) if self.folds else []

    def metric_frame(self, metric: str = "mae") -> pd.DataFrame:
        """Folds as rows (1..K), models as columns, one metric."""
        return pd.DataFrame({name: [f.metrics[name][metric] for f in self.folds] for name in self.models},
                            index=pd.Index([f.fold.number for f in self.folds], name="fold"))

    def summary(self) -> dict[str, dict[str, dict[str, float | None]]]:
        """model -> metric -> {mean, std} over the folds (std with ddof=1; None for one fold)."""
        out: dict[str, dict[str, dict[str, float | None]]] = {}
        for name in self.models:
            out[name] = {}
            for metric in self.folds[0].metrics[name]:
                values = np.array([f.metrics[name][metric] for f in self.folds], dtype=np.float64)
                values = values[np.isfinite(values)]
                out[name][metric] = {"mean": finite_or_none(values.mean()) if values.size else None,
                                     "std": finite_or_none(values.std(ddof=1)) if values.size > 1 else None}
        return out

    @property
    def wins_vs_naive(self) -> int:
        """Folds where the LSTM's MAE is below the naive forecast's."""
        return sum(f.metrics[LSTM]["mae"] < f.metrics[NAIVE]["mae"] for f in self.folds)

    @property
    def best_baselines(self) -> list[str]:
        """Each fold's best baseline (lowest MAE on that fold's test window), fold by fold."""
        return [best_baseline_of(f.metrics) or NAIVE for f in self.folds]

    @property
    def wins_vs_best(self) -> int:
        """Folds where the LSTM's MAE is below that of the fold's best baseline, i.e. of every baseline."""
        return sum(f.metrics[LSTM]["mae"] < f.metrics[best]["mae"] for f, best in zip(self.folds, self.best_baselines))

    def _best_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for best in self.best_baselines:
            counts[best] = counts.get(best, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1]))  # most often best first; ties keep order

    def verdict(self) -> str:
        k = len(self.folds)
        if k == 0:
            return "The backtest was stopped before any fold finished."
        summary = self.summary()
        lstm, naive = summary[LSTM]["mae"], summary[NAIVE]["mae"]
        spread = f" ± {lstm['std']:.3g}" if lstm["std"] is not None else ""

        def share(wins: int) -> str:
            return "in every fold" if wins == k else "in no fold" if wins == 0 else f"in {wins} of {k} folds"

        wins, counts = self.wins_vs_naive, self._best_counts()
        naive_always_best = list(counts) == [NAIVE]
        head = f"The {self.labels.get(LSTM, 'LSTM')} beat the naive forecast {share(wins)}"
        if wins == k:
            tail = ": a consistent edge, not one lucky split."
        elif wins == 0:
            tail = (": on this series the naive forecast is the one to use." if naive_always_best else
                    ": on this series a baseline is the forecast to use.")
        elif wins * 2 > k:
            tail = ": usually better, but not reliably."
        else:
            tail = ": its edge on a single split may be luck."
        if naive_always_best:
            best = " Naive was the best baseline in every fold."
        else:
            which = ", ".join(f"{in_sentence(self.labels.get(name, name))} "
                              f"{'in every fold' if n == k else f'in {n} fold' + ('s' if n > 1 else '')}"
                              for name, n in counts.items())
            best = f" Against each fold's best baseline it won {share(self.wins_vs_best)} (the best: {which})."
        return (f"{head} (mean MAE {lstm['mean']:.4g}{spread} vs {naive['mean']:.4g} for naive){tail}{best}"
                + (" The backtest was stopped early; only finished folds count." if self.stopped else ""))

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "folds_planned": self.planned, "folds_done": len(self.folds),
                "step": self.step, "initial": self.initial, "stopped": self.stopped,
                "seconds": round(self.seconds, 3), "wins_vs_naive": self.wins_vs_naive if self.folds else 0,
                "wins_vs_best": self.wins_vs_best, "best_baselines": self.best_baselines,
                "verdict": self.verdict(), "labels": self.labels, "notes": self.notes,
                "folds": [f.to_dict() for f in self.folds], "summary": self.summary()}


def _fold_config(config: ForecasterConfig, history: int, test: int) -> ForecasterConfig:
    """The config's train/validation ratio applied to the history; the test part is the fold's window."""
    train_share, val_share, _ = config.data.split
    total = history + test
    train = history * train_share / (train_share + val_share) / total
    val = history / total - train
    return config.replace(data={"split": (train, val, 1.0 - train - val), "resample": None})


# ---------------------------------------------------------------- running

def _per_fold_seasons(seasons: list[int], freq: str | None,
                      labels: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Labels and notes for folds that found different seasonal periods: one label, a note on which used which."""
    if len(set(seasons)) < 2:
        return labels, []
    labels = {**labels, "seasonal_naive": "Seasonal naive (period per fold)"}
    runs: list[list[int]] = []  # [period, first fold, last fold]
    for number, period in enumerate(seasons, start=1):
        if runs and runs[-1][0] == period:
            runs[-1][2] = number
        else:
            runs.append([period, number, number])
    parts = [f"{describe_season(freq, period).description} in fold{'s' if a != b else ''} "
             f"{a if a == b else f'{a}–{b}'}" for period, a, b in runs]
    return labels, [f"Each fold found its seasonal naive period in its own training part: {', '.join(parts)}."]


def fold_outcome(model: Any, season: int | None) -> dict[str, Any]:
    """A fitted fold model scored on its test window: metrics, labels, season, scaler and dates, as plain data."""
    evaluation = evaluate(model, season=season)
    prepared = model.prepared_
    return {"metrics": evaluation.metrics, "labels": evaluation.labels, "season": int(evaluation.season),
            "scaler": prepared.scaler.to_dict(), "train_start": str(prepared.index[0]),
            "test_start": str(prepared.index[prepared.val_end]), "test_end": str(prepared.index[-1]),
            "epochs_run": model.history_.epochs_run, "seconds": float(model.history_.seconds),
            "test_points": int(evaluation.actual.size)}


def _run_folds_here(folds_in: list, freq: str | None, season: int | None,
                    progress: Callable[[BacktestProgress], None] | None,
                    stop_event: threading.Event | None) -> tuple[list, bool]:
    """Fit and score the folds one after another in this thread: ([(plan, outcome)], stopped)."""
    from forecaster.estimator import LSTMForecaster

    outcomes: list = []
    for plan, fold_frame, fold_config in folds_in:
        if stop_event is not None and stop_event.is_set():
            return outcomes, True

        def on_epoch(report: EpochReport, number: int = plan.number) -> None:
            if progress is not None:
                progress(BacktestProgress(fold=number, folds=len(folds_in), epoch=report))

        model = LSTMForecaster(fold_config).fit(fold_frame, freq=freq, progress=on_epoch, stop_event=stop_event)
        if model.history_.stopped_by_user:
            return outcomes, True  # a half-trained fold would understate the LSTM: drop it
        outcomes.append((plan, fold_outcome(model, season)))
        if progress is not None:
            progress(BacktestProgress(fold=plan.number, folds=len(folds_in), result=_result_of(plan, outcomes[-1][1])))
    return outcomes, False


def _result_of(plan: Fold, out: dict[str, Any]) -> FoldResult:
    return FoldResult(fold=plan, scaler=Scaler.from_dict(out["scaler"]), metrics=out["metrics"],
                      **{k: out[k] for k in ("train_start", "test_start", "test_end", "epochs_run", "seconds",
                                             "test_points")})


def backtest(data: Any, config: ForecasterConfig, folds: int = 5, mode: str = "expanding", step: int | None = None,
             initial: int | None = None, season: int | None = None,
             progress: Callable[[BacktestProgress], None] | None = None,
             stop_event: threading.Event | None = None, cluster: str | None = None) -> BacktestResult:
    """Walk-forward backtest of `config` on a Dataset or a DataFrame.

    Each fold receives only the rows up to the end of its own test window (later rows are
    never passed in), refits the scaler and a fresh LSTM on its history (split into training
    and validation by the config's ratio), and `evaluate` refits every registered baseline on
    the fold's training part through the model contract and scores them all on its test window.
    Setting `stop_event` ends the current fold's training and returns the folds finished so far.
    With `cluster` (a Dask scheduler address) every fold is one task on the cluster's workers, side by side.
    """
    from forecaster.estimator import _frame_of

    started = time.perf_counter()
    frame, default_target, data_freq, info = _frame_of(data)
    target = config.data.target or default_target or (str(frame.columns[0]) if len(frame.columns) else None)
    if target is None:
        raise DataError("The data has no columns; load a series with at least one numeric column.")
    config = config.replace(data={"target": target})
    # Column choice and resampling act bucket by bucket, never across time, so they are done once;
    # gap filling looks at neighbours, so each fold does it again on its own rows.
    # Missing calendar dates are added once too, so the plan counts the rows each fold's fit will see.
    raw = add_missing_timestamps(resample_frame(select_columns(frame, target, config.data.features),
                                                config.data.resample))
    cleaned_index = fill_missing(raw, config.data.missing).index
    freq = config.data.resample or data_freq
    plans = plan_folds(len(cleaned_index), folds, mode, step, initial)
    horizon = config.data.horizon
    if plans[0].end - plans[0].origin < horizon:
        raise DataError(f"Each fold's test window has {plans[0].end - plans[0].origin} rows, fewer than the horizon "
                        f"{horizon}; use fewer folds or a larger step.")

    folds_in = []  # (plan, its rows, its config): nothing after each fold's test window
    for plan in plans:
        start_time, end_time = cleaned_index[plan.start], cleaned_index[plan.end - 1]
        folds_in.append((plan, raw.loc[start_time:end_time], _fold_config(config, plan.origin - plan.start,
                                                                            plan.end - plan.origin)))
    if cluster:
        from forecaster.remote_folds import run_folds_on_cluster

        outcomes, stopped = run_folds_on_cluster(cluster, folds_in, freq, season, progress, stop_event)
    else:
        outcomes, stopped = _run_folds_here(folds_in, freq, season, progress, stop_event)
    results = [_result_of(plan, out) for plan, out in outcomes]
    labels = outcomes[-1][1]["labels"] if outcomes else {}
    seasons = [out["season"] for _, out in outcomes]  # each fold's seasonal naive period, from its training part

    labels, notes = _per_fold_seasons(seasons, freq, labels)
    if horizon > 1:
        notes.append(f"Each fold scores {plans[0].end - plans[0].origin - horizon + 1} forecasts of {horizon} steps "
                     "whose targets all lie inside the fold's test window.")
    return BacktestResult(mode=mode, folds=results, planned=len(plans), step=plans[0].end - plans[0].origin,
                          initial=plans[0].origin - plans[0].start, labels=labels, stopped=stopped,
                          seconds=time.perf_counter() - started, notes=notes)
