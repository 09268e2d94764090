"""Tests for forecaster.backtest: fold layout, no look-ahead (poisoned future), progress, stop, summary."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from forecaster.backtest import BacktestProgress, BacktestResult, Fold, FoldResult, backtest, plan_folds
from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.errors import ConfigError, DataError
from forecaster.training import configure_threads

configure_threads(1)

MODELS = {"lstm", "naive", "seasonal_naive", "drift", "moving_average", "linear", "ets"}


def tiny_config(horizon: int = 1, epochs: int = 1) -> ForecasterConfig:
    return ForecasterConfig(data=DataConfig(target="y", window=10, horizon=horizon),
                            model=ModelConfig(units=8, layers=1), train=TrainConfig(epochs=epochs, seed=0))


# ---------------------------------------------------------------- layout

def test_expanding_folds_follow_each_other():
    folds = plan_folds(600, folds=5)
    assert [f.origin for f in folds] == [300, 360, 420, 480, 540]
    assert all(f.start == 0 for f in folds)
    assert all(f.end - f.origin == 60 for f in folds)
    assert folds[-1].end == 600
    for before, after in zip(folds, folds[1:]):
        assert before.end == after.origin  # test windows touch but never overlap
        assert after.origin > before.origin


def test_sliding_folds_keep_the_history_length():
    folds = plan_folds(600, folds=4, mode="sliding", step=50)
    assert [f.origin - f.start for f in folds] == [400] * 4
    assert [f.origin for f in folds] == [400, 450, 500, 550] and folds[-1].end == 600


def test_fold_layout_refusals():
    with pytest.raises(ConfigError, match="mode"):
        plan_folds(600, mode="rolling")
    with pytest.raises(ConfigError, match="folds"):
        plan_folds(600, folds=0)
    with pytest.raises(DataError, match="fewer folds"):
        plan_folds(600, folds=5, step=100, initial=200)


# ---------------------------------------------------------------- running

def test_backtest_scores_every_model_on_every_fold(synthetic_series):
    reports: list[BacktestProgress] = []
    result = backtest(synthetic_series, tiny_config(), folds=3, progress=reports.append)
    assert len(result.folds) == 3 and not result.stopped
    for fold in result.folds:
        assert set(fold.metrics) == MODELS
        assert fold.test_points == fold.fold.end - fold.fold.origin  # one-step forecasts of every test row
    starts = [pd.Timestamp(f.test_start) for f in result.folds]
    assert starts == sorted(starts) and starts[0] == synthetic_series.index[300]
    for fold, after in zip(result.folds, result.folds[1:]):
        assert pd.Timestamp(fold.test_end) < pd.Timestamp(after.test_start)
    # progress: epochs of each fold, then the fold's result; the fraction climbs to 1
    done = [r for r in reports if r.result is not None]
    assert [r.fold for r in done] == [1, 2, 3] and done[-1].fraction == 1.0
    assert any(r.epoch is not None for r in reports)
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions)

    payload = result.to_dict()
    assert payload["folds_done"] == 3 and len(payload["folds"]) == 3
    assert set(payload["summary"]) == MODELS
    assert set(payload["summary"]["lstm"]["mae"]) == {"mean", "std"}
    maes = [f["metrics"]["lstm"]["mae"] for f in payload["folds"]]
    assert payload["summary"]["lstm"]["mae"]["mean"] == pytest.approx(np.mean(maes))
    assert payload["summary"]["lstm"]["mae"]["std"] == pytest.approx(np.std(maes, ddof=1))
    assert "naive forecast" in result.verdict() and str(result.wins_vs_naive) in result.verdict() or \
        result.wins_vs_naive in (0, 3)
    # Each fold's best baseline is its lowest-MAE baseline; beating it means beating every baseline.
    for fold, best in zip(result.folds, result.best_baselines):
        assert fold.metrics[best]["mae"] == min(m["mae"] for name, m in fold.metrics.items() if name != "lstm")
    assert result.wins_vs_best == sum(f.metrics["lstm"]["mae"] < min(m["mae"] for n, m in f.metrics.items()
                                                                      if n != "lstm") for f in result.folds)
    assert result.wins_vs_best <= result.wins_vs_naive
    assert payload["wins_vs_best"] == result.wins_vs_best and payload["best_baselines"] == result.best_baselines
    frame = result.metric_frame("mae")
    assert list(frame.index) == [1, 2, 3] and set(frame.columns) == MODELS


def test_no_fold_sees_its_future(synthetic_series):
    """Poison everything after fold 2's test window: folds 1 and 2 must not change at all."""
    config = tiny_config(epochs=2)
    clean = backtest(synthetic_series, config, folds=3, mode="expanding")
    poisoned = synthetic_series.copy()
    fold2 = clean.folds[1].fold
    poisoned.iloc[fold2.end:, 0] = 1e9  # the target after fold 2's test window
    poisoned.iloc[fold2.end:, 1] = -1e9
    dirty = backtest(poisoned, config, folds=3, mode="expanding")
    for before, after in zip(clean.folds[:2], dirty.folds[:2]):
        np.testing.assert_array_equal(before.scaler.center, after.scaler.center)
        np.testing.assert_array_equal(before.scaler.scale, after.scaler.scale)
        np.testing.assert_equal(before.metrics, after.metrics)  # NaN (naive direction) counts as equal
    assert dirty.folds[2].metrics["naive"]["mae"] > 1e6  # the poison is real: fold 3 tests on it


def test_each_fold_fits_its_own_scaler(synthetic_series):
    result = backtest(synthetic_series, tiny_config(), folds=2, mode="sliding", step=100)
    first, second = result.folds
    assert not np.allclose(first.scaler.center, second.scaler.center)  # refit on each fold's own history
    history = synthetic_series["y"].to_numpy()
    # the first fold's scaler is fit on the training share of its history only: rows [100, 100 + 0.7/0.85 * 400)
    train_rows = history[first.fold.start:first.fold.start + round(400 * 0.7 / 0.85)]
    assert first.scaler.center[0] == pytest.approx(train_rows.mean(), rel=1e-9)


def test_stop_event_ends_early(synthetic_series):
    stop = threading.Event()

    def progress(report: BacktestProgress) -> None:
        if report.result is not None and report.fold == 1:
            stop.set()

    result = backtest(synthetic_series, tiny_config(epochs=2), folds=4, progress=progress, stop_event=stop)
    assert result.stopped and len(result.folds) == 1 and result.planned == 4
    assert "stopped early" in result.verdict()
    assert result.to_dict()["folds_done"] == 1


def test_stop_during_a_fold_drops_it(synthetic_series):
    stop = threading.Event()

    def progress(report: BacktestProgress) -> None:
        if report.epoch is not None and report.fold == 2:
            stop.set()

    result = backtest(synthetic_series, tiny_config(epochs=3), folds=3, progress=progress, stop_event=stop)
    assert result.stopped and len(result.folds) == 1


def test_backtest_on_a_dataset_with_horizon(synthetic_series):
    dataset = Dataset(frame=synthetic_series, name="syn", source="test", target="y", freq="D", unit="u")
    config = ForecasterConfig(data=DataConfig(window=10, horizon=3), model=ModelConfig(units=8, layers=1),
                              train=TrainConfig(epochs=1))
    result = backtest(dataset, config, folds=2)
    assert len(result.folds) == 2
    assert result.folds[0].test_points == (150 - 3 + 1) * 3
    assert result.notes and "3 steps" in result.notes[0]
    with pytest.raises(DataError, match="horizon"):
        backtest(dataset, config.replace(data={"horizon": 5}), folds=2, step=4)


# ---------------------------------------------------------------- the command line

def test_cli_backtest_json(monkeypatch):
    import contextlib
    import io
    import json

    from forecaster import cli

    monkeypatch.setenv("FORECASTER_THREADS", "1")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["backtest", "--data", "sample:seattle-weather", "--epochs", "1", "--units", "8",
                         "--layers", "1", "--window", "7", "--folds", "3", "--mode", "sliding", "--json"])
    configure_threads(1)
    assert code == 0, err.getvalue()
    payload = json.loads(out.getvalue())
    assert payload["mode"] == "sliding" and payload["folds_planned"] == 3 and len(payload["folds"]) == 3
    for fold in payload["folds"]:
        assert set(fold["metrics"]) == MODELS and fold["history_rows"] == payload["initial"]
    assert set(payload["summary"]) == MODELS and "verdict" in payload


def test_cli_backtest_text_and_errors(capsys, monkeypatch):
    from forecaster import cli

    monkeypatch.setenv("FORECASTER_THREADS", "1")
    code = cli.main(["backtest", "--data", "sample:seattle-weather", "--epochs", "1", "--units", "8", "--layers", "1",
                     "--window", "7", "--folds", "2"])
    captured = capsys.readouterr()
    assert code == 0
    assert "MAE per fold" in captured.out and "beat the naive forecast" in captured.out
    assert "fold 2/2 done" in captured.err
    code = cli.main(["backtest", "--data", "sample:seattle-weather", "--folds", "0"])
    captured = capsys.readouterr()
    configure_threads(1)
    assert code == 2 and captured.err.startswith("error: folds must be")


@pytest.mark.slow
def test_five_fold_backtest_of_a_daily_sample_in_minutes():
    """The issue's check: 5 folds, default settings, a built-in daily sample, a few minutes on two cores."""
    import time

    from forecaster.config import default_config
    from forecaster.datasets import load_sample

    data = load_sample("seattle-weather")
    started = time.perf_counter()
    result = backtest(data, default_config(data.freq, len(data.frame), data.target), folds=5)
    assert time.perf_counter() - started < 480
    assert len(result.folds) == 5 and not result.stopped
    assert all(set(f.metrics) == MODELS for f in result.folds)


def test_missing_calendar_dates_are_counted_in_the_fold_plan(synthetic_series):
    """Each fit adds missing dates back as rows, so the plan must count them too or folds come out short."""
    gappy = synthetic_series.drop(synthetic_series.index[[350, 351, 420]])
    result = backtest(gappy, tiny_config(), folds=3)
    for fold in result.folds:
        assert fold.test_points == fold.fold.end - fold.fold.origin
    assert pd.Timestamp(result.folds[-1].test_end) == synthetic_series.index[-1]
    assert sum(f.test_points for f in result.folds) == sum(
        f.test_points for f in backtest(synthetic_series, tiny_config(), folds=3).folds)


# ---------------------------------------------------------------- the verdict

LABELS = {"lstm": "LSTM", "naive": "Naive (last value)", "seasonal_naive": "Seasonal naive (yearly, 365 days)",
          "linear": "Linear (ridge on lags)", "ets": "ETS (additive trend)"}


def scored(*folds: dict[str, float], labels: dict[str, str] = LABELS) -> BacktestResult:
    """A backtest result with these per-fold MAEs and nothing else: enough for its verdict and counts."""
    results = [FoldResult(fold=Fold(number=i, start=0, origin=100 * i, end=100 * i + 50), train_start="",
                          test_start="", test_end="", metrics={name: {"mae": mae} for name, mae in maes.items()},
                          scaler=None, epochs_run=1, seconds=0.0, test_points=50)
               for i, maes in enumerate(folds, start=1)]
    return BacktestResult(mode="expanding", folds=results, planned=len(results), step=50, initial=100, labels=labels)


def test_verdict_counts_wins_against_each_fold_s_best_baseline():
    result = scored({"lstm": 1.0, "naive": 1.2, "seasonal_naive": 1.5, "linear": 0.9},
                    {"lstm": 1.0, "naive": 1.1, "seasonal_naive": 1.4, "linear": 1.05},
                    {"lstm": 1.0, "naive": 1.3, "seasonal_naive": 0.8, "linear": 1.2})
    assert result.wins_vs_naive == 3 and result.wins_vs_best == 1
    assert result.best_baselines == ["linear", "linear", "seasonal_naive"]
    assert result.verdict() == (
        "The LSTM beat the naive forecast in every fold (mean MAE 1 ± 0 vs 1.2 for naive): a consistent edge, not "
        "one lucky split. Against each fold's best baseline it won in 1 of 3 folds (the best: linear (ridge on lags) "
        "in 2 folds, seasonal naive (yearly, 365 days) in 1 fold).")
    payload = result.to_dict()
    assert payload["wins_vs_naive"] == 3 and payload["wins_vs_best"] == 1
    assert payload["best_baselines"] == ["linear", "linear", "seasonal_naive"]


def test_verdict_when_naive_is_always_the_best_baseline():
    result = scored({"lstm": 1.5, "naive": 1.0, "linear": 1.2}, {"lstm": 1.4, "naive": 1.0, "linear": 1.1})
    assert result.wins_vs_naive == 0 and result.wins_vs_best == 0
    assert result.verdict() == ("The LSTM beat the naive forecast in no fold (mean MAE 1.45 ± 0.0707 vs 1 for "
                                "naive): on this series the naive forecast is the one to use. Naive was the best "
                                "baseline in every fold.")


def test_verdict_when_another_baseline_wins_everywhere():
    labels = {**LABELS, "lstm": "LSTM + linear skip"}
    result = scored({"lstm": 1.5, "naive": 1.0, "ets": 0.7}, {"lstm": 1.2, "naive": 1.1, "ets": 0.9}, labels=labels)
    assert result.wins_vs_naive == 0 and result.wins_vs_best == 0
    verdict = result.verdict()
    assert verdict.startswith("The LSTM + linear skip beat the naive forecast in no fold")
    assert ": on this series a baseline is the forecast to use." in verdict
    assert verdict.endswith("Against each fold's best baseline it won in no fold (the best: ETS (additive trend) "
                            "in every fold).")
