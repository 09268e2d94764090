"""Tests for forecaster.judge: verdict and metric rows, the tests, interval rows and standings, forecast bands."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from forecaster import judge
from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import BEATS_ALL, BEATS_NAIVE, Evaluation, evaluate
from forecaster.intervals import ConformalCalibration, calibrate
from forecaster.metrics import compute_metrics
from forecaster.training import configure_threads

configure_threads(1)
LABELS = {"lstm": "LSTM", "naive": "Naive (last value)", "linear": "Linear (ridge on lags)"}


def hand_evaluation(errors: dict[str, np.ndarray]) -> Evaluation:
    """An Evaluation of one-step forecasts whose errors (actual - forecast) are given per model."""
    n = len(errors["lstm"])
    actual = (10 + np.sin(np.arange(n) / 3.0))[:, None]  # (n, 1)
    last = actual[:, 0] - 0.5
    predictions = {name: actual - e[:, None] for name, e in errors.items()}
    train = 10 + np.sin(np.arange(-50, 0) / 3.0)
    metrics = {name: compute_metrics(actual, pred, last, train) for name, pred in predictions.items()}
    return Evaluation(target="y", unit="°C", index=pd.date_range("2024-01-01", periods=n + 1, freq="D"),
                      origins=np.arange(n), actual=actual, last_levels=last, predictions=predictions,
                      labels={name: LABELS[name] for name in errors}, metrics=metrics, season=1, train_values=train,
                      notes=[])


@pytest.fixture
def beats_naive_only() -> Evaluation:
    rng = np.random.default_rng(0)
    return hand_evaluation({"lstm": rng.normal(0, 1.0, 80), "naive": rng.normal(0, 3.0, 80),
                            "linear": rng.normal(0, 0.5, 80)})


# ---------------------------------------------------------------- metrics and verdict

def test_verdict_names_the_best_baseline_and_both_skills(beats_naive_only: Evaluation) -> None:
    verdict = judge.verdict(beats_naive_only)
    maes = {name: m["mae"] for name, m in beats_naive_only.metrics.items()}
    assert verdict.standing == BEATS_NAIVE and verdict.best_baseline == "linear"
    assert verdict.skill_vs_best == pytest.approx(1 - maes["lstm"] / maes["linear"])
    assert verdict.skill_vs_naive == pytest.approx(1 - maes["lstm"] / maes["naive"])
    assert verdict.lines() == [
        f"Skill vs best baseline, Linear (ridge on lags) (1 - MAE_lstm / MAE_best): {verdict.skill_vs_best:+.3f}",
        f"Skill vs naive (1 - MAE_lstm / MAE_naive): {verdict.skill_vs_naive:+.3f}",
        beats_naive_only.verdict()]
    assert "linear (ridge on lags) baseline" in verdict.sentence


def test_metrics_rows_mark_the_model_and_the_best_and_write_undefined_as_a_dash() -> None:
    rng = np.random.default_rng(1)
    evaluation = hand_evaluation({"lstm": rng.normal(0, 0.2, 30), "naive": rng.normal(0, 1.0, 30)})
    evaluation.metrics["naive"]["direction"] = float("nan")
    rows = judge.metrics_rows(evaluation)
    assert (rows.model, rows.best, rows.standing) == ("LSTM", "Naive (last value)", BEATS_ALL)
    assert list(rows.values.index) == ["LSTM", "Naive (last value)"]
    assert rows.text().loc["Naive (last value)", "Direction %"] == "—"
    assert rows.text().loc["LSTM", "MAE"] == f"{evaluation.metrics['lstm']['mae']:,.3f}"
    assert f"{evaluation.metrics['lstm']['mae']:.4g}" in rows.table() and "MAE" in rows.table()


def test_scale_sentence_in_the_series_units(beats_naive_only: Evaluation) -> None:
    text = judge.scale_sentence(beats_naive_only, "°C")
    assert f"missed by {beats_naive_only.metrics['lstm']['mae']:.4g} °C on average (MAE, one step ahead)" in text
    assert f"against {beats_naive_only.metrics['naive']['mae']:.4g} for the naive forecast." in text


# ---------------------------------------------------------------- significance and residuals

def test_significance_against_naive_and_the_best_baseline(beats_naive_only: Evaluation) -> None:
    tests = judge.significance(beats_naive_only)
    assert list(tests) == ["naive", "linear"]  # no seasonal naive in this evaluation
    assert tests["naive"].better and tests["naive"].significant  # errors a third the size, 80 points
    assert not tests["linear"].better and tests["linear"].other == "linear"
    judged = judge.judge(beats_naive_only)
    assert judged.intervals is None
    assert judged.significance_text() == " ".join(t.sentence() for t in tests.values())
    assert set(judged.to_dict()) == {"diebold_mariano", "ljung_box"}
    assert judged.report_lines()[0] == "" and judged.report_lines()[1] == tests["naive"].sentence()


def test_too_short_a_test_part_leaves_the_tests_out() -> None:
    evaluation = hand_evaluation({"lstm": np.array([0.1, -0.2]), "naive": np.array([1.0, 0.5])})
    judged = judge.judge(evaluation)
    assert judged.diebold_mariano == {} and judged.ljung_box is None
    assert judged.to_dict() == {"diebold_mariano": {}, "ljung_box": None}
    assert judged.significance_text() == ""


def test_residual_check_finds_structure_left_in_the_errors() -> None:
    rng = np.random.default_rng(2)
    noise = judge.residual_check(hand_evaluation({"lstm": rng.normal(0, 1, 120), "naive": rng.normal(0, 2, 120)}))
    wave = judge.residual_check(hand_evaluation({"lstm": np.sin(np.arange(120) / 4.0), "naive": rng.normal(0, 2, 120)}))
    assert noise.p_value > 0.05 and "look like noise" in noise.sentence()
    assert wave.p_value < 0.001 and "still correlated" in wave.sentence()


# ---------------------------------------------------------------- intervals

@pytest.mark.parametrize(("coverage", "nominal", "standing"), [
    (0.82, 0.8, judge.CALIBRATED), (0.85, 0.8, judge.CALIBRATED), (0.70, 0.8, judge.TOO_NARROW),
    (0.99, 0.9, judge.TOO_WIDE), (float("nan"), 0.8, judge.UNAVAILABLE)])
def test_coverage_standing(coverage: float, nominal: float, standing: str) -> None:
    assert judge.coverage_standing(coverage, nominal) == standing


def tiny(frame: pd.DataFrame, dropout: float) -> LSTMForecaster:
    config = ForecasterConfig(data=DataConfig(target="y", window=10), model=ModelConfig(units=8, layers=1,
                                                                                       dropout=dropout),
                              train=TrainConfig(epochs=1, seed=0))
    return LSTMForecaster(config).fit(frame)


def test_interval_rows_and_a_steps_bands_of_a_fitted_model(synthetic_series: pd.DataFrame) -> None:
    model = tiny(synthetic_series, dropout=0.0)
    evaluation = evaluate(model, unit="°C")
    judged = judge.judge(evaluation, model, levels=(0.8, 0.95), passes=2)
    report = judged.intervals
    rows = judge.interval_rows(report, "°C")
    assert list(rows.table.columns) == ["Method", "Nominal level", "Coverage on test", "Mean width (°C)"]
    assert list(rows.table["Nominal level"]) == ["80%", "95%", "80%", "95%"]
    assert list(rows.table["Coverage on test"])[2:] == ["unavailable", "unavailable"]  # no dropout
    assert rows.standings[2:] == [judge.UNAVAILABLE, judge.UNAVAILABLE]
    coverage = report.score("conformal", 0.8)["coverage"]
    assert rows.standings[0] == judge.coverage_standing(coverage, 0.8)
    assert rows.table["Coverage on test"][0] == f"{coverage:.1%}"
    assert set(judged.to_dict()) == {"intervals", "interval_notes", "diebold_mariano", "ljung_box"}
    assert "  Monte Carlo dropout: unavailable (the model has no dropout)." in judged.report_lines()

    shown = judge.step_bands(report, evaluation, 1)
    assert list(shown.bands) == ["80% band", "95% band"]
    lower, upper = shown.bands["80% band"]
    assert lower.shape == upper.shape == shown.point.shape == (len(evaluation.origins),)
    assert shown.index[0] == evaluation.index[evaluation.origins[0] + 1]
    assert np.all(upper - lower > 0)


# ---------------------------------------------------------------- bands around a forecast of the future

def stub(horizon: int = 2, columns: tuple[str, ...] = ("y",)) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(data=SimpleNamespace(horizon=horizon)), target_="y",
                           columns_=columns, prepared_=None, extra_={})


def forecast_frame(steps: int) -> pd.DataFrame:
    return pd.DataFrame({"y": np.full(steps, 10.0)}, index=pd.date_range("2025-01-01", periods=steps, freq="D"))


def test_forecast_bands_widen_past_the_horizon_and_say_so() -> None:
    calibration = ConformalCalibration([np.arange(1.0, 11.0), np.arange(2.0, 21.0, 2.0)])
    bands = judge.forecast_bands(forecast_frame(4), stub(), calibration, [0.8])
    assert list(bands.frame.columns) == ["y", "lower_80", "upper_80"] and not bands.uncalibrated
    np.testing.assert_allclose(bands.frame["upper_80"] - 10, [9, 18, 18 * np.sqrt(1.5), 18 * np.sqrt(2)])
    assert bands.notes == ["Past 2 steps the bands are widened by the square root of the distance, as a random "
                           "walk's spread grows: a rough guide, not a calibrated band."]
    assert judge.forecast_bands(forecast_frame(2), stub(), calibration, [0.8]).notes == []


def test_forecast_bands_without_calibration_or_levels() -> None:
    frame = forecast_frame(3)
    missing = judge.forecast_bands(frame, stub(), None, [0.8, 0.95])
    assert missing.uncalibrated and missing.frame is frame and missing.notes == []
    none_asked = judge.forecast_bands(frame, stub(), ConformalCalibration([np.ones(5)]), [])
    assert not none_asked.uncalibrated and list(none_asked.frame.columns) == ["y"]


def test_forecast_notes() -> None:
    assert judge.forecast_notes(stub(horizon=1), 1) == []
    notes = judge.forecast_notes(stub(horizon=1, columns=("y", "promo")), 5)
    assert notes[0].startswith("The model forecasts 1 step at a time; beyond that")
    assert notes[1] == "The extra features (promo) are unknown in the future and are held at their last value."


def test_band_calibration_prefers_the_saved_record_and_reads_data_only_without_one(synthetic_series) -> None:
    saved = stub()
    saved.extra_ = {"conformal": ConformalCalibration([np.array([1.0, 2.0])]).to_dict()}
    called = []
    record = judge.band_calibration(saved, lambda: called.append(1))
    np.testing.assert_allclose(record.abs_residuals[0], [1.0, 2.0])
    assert called == [] and judge.band_calibration(stub()) is None

    model = tiny(synthetic_series, dropout=0.1)
    bare = LSTMForecaster.from_bytes(model.to_bytes())  # saved without its validation residuals
    again = judge.band_calibration(bare, lambda: synthetic_series)
    np.testing.assert_allclose(again.abs_residuals[0], calibrate(model).abs_residuals[0], rtol=1e-5)
