"""Tests for forecaster.intervals: conformal quantiles by hand, coverage on known noise, MC dropout, bands."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.errors import ConfigError
from forecaster.estimator import LSTMForecaster
from forecaster.intervals import (
    ConformalCalibration,
    add_bands,
    calibrate,
    calibration_for,
    check_levels,
    conformal_quantile,
    coverage_width,
    interval_report,
    level_key,
    level_suffix,
    mc_dropout_paths,
)
from forecaster.training import configure_threads

configure_threads(1)


def tiny(frame: pd.DataFrame, dropout: float = 0.1, horizon: int = 1, epochs: int = 2, skip: bool = True) -> LSTMForecaster:
    config = ForecasterConfig(data=DataConfig(target="y", window=10, horizon=horizon),
                              model=ModelConfig(units=8, layers=1, dropout=dropout, skip=skip),
                              train=TrainConfig(epochs=epochs))
    return LSTMForecaster(config).fit(frame)


# ---------------------------------------------------------------- quantiles by hand

def test_conformal_quantile_hand_example():
    residuals = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 9.0, 7.0, 6.0, 8.0, 10.0])  # 1..10 shuffled, n = 10
    # ceil(11 * 0.8) = 9 -> the 9th smallest is 9; ceil(11 * 0.5) = 6 -> 6; ceil(11 * 0.9) = 10 -> 10
    assert conformal_quantile(residuals, 0.8) == 9.0
    assert conformal_quantile(residuals, 0.5) == 6.0
    assert conformal_quantile(residuals, 0.9) == 10.0
    # ceil(11 * 0.95) = 11 > 10: too few residuals for a finite guarantee
    assert math.isinf(conformal_quantile(residuals, 0.95))
    assert math.isinf(conformal_quantile(np.array([]), 0.8))


def test_calibration_per_step_and_beyond_horizon():
    calibration = ConformalCalibration([np.arange(1.0, 11.0), np.arange(2.0, 21.0, 2.0)])  # step 2 twice as wide
    assert calibration.horizon == 2 and calibration.n == 10
    np.testing.assert_allclose(calibration.quantiles(0.8), [9.0, 18.0])
    half = calibration.half_widths(0.8, 8)
    np.testing.assert_allclose(half[:2], [9.0, 18.0])
    np.testing.assert_allclose(half[2:], 18.0 * np.sqrt(np.arange(3, 9) / 2))  # widened like a random walk
    lower, upper = calibration.band(np.zeros((3, 2)), 0.8)
    np.testing.assert_allclose(upper, [[9.0, 18.0]] * 3)
    np.testing.assert_allclose(lower, -upper)


def test_calibration_round_trips_and_refuses_garbage():
    calibration = ConformalCalibration([np.array([0.5, 1.25, 3.0])])
    again = ConformalCalibration.from_dict(calibration.to_dict())
    np.testing.assert_allclose(again.abs_residuals[0], [0.5, 1.25, 3.0])
    for bad in (None, {}, {"abs_residuals": []}, {"abs_residuals": [["x"]]}, {"abs_residuals": [[float("nan")]]},
                {"abs_residuals": [[]]}):
        assert ConformalCalibration.from_dict(bad) is None


def test_levels_are_checked_and_named():
    assert check_levels([0.95, "0.8", 0.8]) == (0.8, 0.95)
    for bad in ([0], [1.0], [1.5], ["x"], []):
        with pytest.raises(ConfigError, match="level"):
            check_levels(bad)
    assert [level_key(v) for v in (0.8, 0.9, 0.95)] == ["0.8", "0.9", "0.95"]
    assert [level_suffix(v) for v in (0.8, 0.95, 0.975)] == ["80", "95", "97.5"]


def test_coverage_width():
    coverage, width = coverage_width(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 0.0, 3.0, 0.0]),
                                     np.array([1.0, 2.0, 4.0, 2.0]))
    assert coverage == 0.5 and width == 1.5


def test_split_conformal_coverage_on_known_noise():
    """Exchangeable residuals: the finite-sample rule covers at least the level on average."""
    rng = np.random.default_rng(1)
    coverages = []
    for _ in range(200):
        calibration = ConformalCalibration([np.abs(rng.normal(0, 1, 99))])
        fresh = rng.normal(0, 1, 200)
        q = calibration.quantiles(0.9)[0]
        coverages.append(np.mean(np.abs(fresh) <= q))
    assert 0.89 <= np.mean(coverages) <= 0.93  # theory: between 0.90 and 0.90 + 1/(n+1)


# ---------------------------------------------------------------- with a model

def test_model_interval_report_on_noisy_series(synthetic_series):
    """A model on sine + N(0, 0.3) noise: conformal coverage near nominal, bands wider at higher levels."""
    # Without the skip: with it, three tiny epochs may keep the start, whose head is zero (no dropout spread).
    model = tiny(synthetic_series, epochs=3, skip=False)
    report = interval_report(model, levels=(0.8, 0.95), passes=20)
    payload = report.to_dict()
    assert set(payload) == {"conformal", "mc_dropout"}
    assert set(payload["conformal"]) == {"0.8", "0.95"}
    c80, c95 = payload["conformal"]["0.8"], payload["conformal"]["0.95"]
    assert c80["width"] < c95["width"] and c80["coverage"] <= c95["coverage"]
    assert 0.6 <= c80["coverage"] <= 0.97 and c95["coverage"] >= 0.8
    assert payload["mc_dropout"]["0.8"]["width"] > 0
    frame = report.frame()
    assert list(frame.columns) == ["method", "nominal", "coverage", "width"] and len(frame) == 4
    assert len(report.summary_lines()) == 2


def test_conformal_band_matches_validation_residuals(synthetic_series):
    model = tiny(synthetic_series, horizon=3)
    prepared = model.prepared_
    calibration = calibrate(model, prepared)
    assert calibration.horizon == 3 and calibration.n == len(prepared.val_origins)
    origins = prepared.val_origins
    residuals = np.abs(prepared.y[origins[:, None] + np.arange(1, 4)] - model.predict_origins(prepared, origins))
    for k in range(3):
        assert calibration.quantiles(0.8)[k] == conformal_quantile(residuals[:, k], 0.8)


def test_any_model_of_the_contract_can_be_calibrated(synthetic_series):
    from forecaster.baselines import make_baselines

    prepared = tiny(synthetic_series, horizon=3).prepared_
    drift = make_baselines("D", window=10)["drift"].fit_prepared(prepared, 3)
    calibration = calibrate(drift, prepared)  # a baseline has no config: the horizon is its forecasts' width
    origins = prepared.val_origins
    residuals = np.abs(prepared.y[origins[:, None] + np.arange(1, 4)] - drift.predict_prepared(prepared, origins))
    assert calibration.horizon == 3
    assert [calibration.quantiles(0.8)[k] for k in range(3)] == [conformal_quantile(residuals[:, k], 0.8)
                                                                  for k in range(3)]


def test_mc_dropout_unavailable_without_dropout(synthetic_series):
    model = tiny(synthetic_series, dropout=0.0)
    assert mc_dropout_paths(model, model.prepared_, model.prepared_.test_origins) is None
    report = interval_report(model, passes=5)
    assert report.to_dict()["mc_dropout"] is None
    assert any("without dropout" in note for note in report.notes)
    assert report.frame()["coverage"].isna().sum() == 2  # the MC rows, not zero-width bands
    assert "unavailable" in report.summary_lines()[1]


def test_mc_dropout_is_unavailable_for_a_model_that_kept_its_simple_start(synthetic_series):
    """With the recurrent head at zero the forecast is the linear skip's alone, which dropout never touches:
    every pass agrees, and zero-width bands would claim certainty the model does not have."""
    model = tiny(synthetic_series, dropout=0.3)
    with torch.no_grad():
        model.net_.head.weight.zero_()
        model.net_.head.bias.zero_()  # what early stopping keeps when no epoch beat the start
    report = interval_report(model, passes=5)
    assert report.to_dict()["mc_dropout"] is None and report.to_dict()["conformal"] is not None
    assert any("kept its simple start" in note for note in report.notes)
    assert "dropout does not change this model's forecasts" in report.summary_lines()[1]


def test_mc_dropout_samples_vary_and_leave_the_model_alone(synthetic_series):
    model = tiny(synthetic_series)
    prepared = model.prepared_
    before = model.predict_origins(prepared, prepared.test_origins)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    samples = mc_dropout_paths(model, prepared, prepared.test_origins, passes=10, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state)  # global random state untouched
    assert samples.shape == (10, len(prepared.test_origins), 1)
    assert samples.std(axis=0).mean() > 0
    assert not model.net_.training and not any(m.training for m in model.net_.modules())
    np.testing.assert_array_equal(model.predict_origins(prepared, prepared.test_origins), before)
    again = mc_dropout_paths(model, prepared, prepared.test_origins, passes=10, seed=0)
    np.testing.assert_array_equal(samples, again)  # seeded: reproducible
    with pytest.raises(ConfigError, match="passes"):
        mc_dropout_paths(model, prepared, prepared.test_origins, passes=1)


def test_forecast_bands_from_a_saved_model(synthetic_series, tmp_path):
    model = tiny(synthetic_series)
    calibration = calibrate(model)
    model.save(tmp_path / "m", extra={"conformal": calibration.to_dict()})
    loaded = LSTMForecaster.load(tmp_path / "m")
    saved = calibration_for(loaded)
    assert saved is not None
    np.testing.assert_allclose(saved.quantiles(0.8), calibration.quantiles(0.8), rtol=1e-5)
    forecast = loaded.forecast(5)
    banded = add_bands(forecast, "y", saved, (0.8, 0.95))
    assert list(banded.columns) == ["y", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert (banded["lower_95"] <= banded["lower_80"]).all() and (banded["lower_80"] < banded["y"]).all()
    assert (banded["upper_80"] < banded["upper_95"]).all()
    widths = (banded["upper_80"] - banded["lower_80"]).to_numpy()
    assert np.all(np.diff(widths) > 0)  # past the one-step horizon the band widens
    assert list(forecast.columns) == ["y"]  # the input is not changed
    assert calibration_for(LSTMForecaster.load(tmp_path / "m")) is not None
    model.save(tmp_path / "bare")
    assert calibration_for(LSTMForecaster.load(tmp_path / "bare")) is None


# ---------------------------------------------------------------- the command line

def _cli(argv: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    from forecaster import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code
    configure_threads(1)
    return code, out.getvalue(), err.getvalue()


TINY = ["--epochs", "1", "--units", "8", "--layers", "1", "--window", "7"]


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory) -> tuple:
    import json

    folder = tmp_path_factory.mktemp("cli") / "model"
    code, out, err = _cli(["train", "--data", "sample:seattle-weather", *TINY, "--out", str(folder),
                           "--levels", "0.8,0.9", "--passes", "10", "--json"])
    assert code == 0, err
    return folder, json.loads(out)


def _check_judgement(payload: dict, levels: list[str]) -> None:
    assert set(payload["intervals"]) == {"conformal", "mc_dropout"}
    # Monte Carlo dropout has no bands when the kept weights are the start (the recurrent head at zero).
    methods = ["conformal"] + (["mc_dropout"] if payload["intervals"]["mc_dropout"] is not None else [])
    for method in methods:
        assert list(payload["intervals"][method]) == levels
        for level in levels:
            score = payload["intervals"][method][level]
            assert set(score) == {"coverage", "width"}
            assert 0 <= score["coverage"] <= 1 and score["width"] > 0
    assert {"naive", "seasonal_naive"} <= set(payload["diebold_mariano"])  # and the best baseline
    assert 0 <= payload["diebold_mariano"]["naive"]["p_value"] <= 1
    assert "naive forecast" in payload["diebold_mariano"]["naive"]["sentence"]
    assert 0 <= payload["ljung_box"]["p_value"] <= 1 and len(payload["ljung_box"]["acf"]) == payload["ljung_box"]["lags"]


def test_cli_train_json_has_intervals_and_tests(cli_model):
    folder, summary = cli_model
    _check_judgement(summary, ["0.8", "0.9"])
    import json

    extra = json.loads((folder / "model.json").read_text())["extra"]
    assert "conformal" in extra  # saved, so forecast --levels needs no data


def test_cli_evaluate_json_with_levels(cli_model):
    import json

    folder, summary = cli_model
    code, out, err = _cli(["evaluate", "--model", str(folder), "--levels", "0.8,0.9,0.95", "--passes", "10", "--json"])
    assert code == 0, err
    payload = json.loads(out)
    _check_judgement(payload, ["0.8", "0.9", "0.95"])
    # the same validation residuals, the same test part: the conformal scores agree with train's
    assert payload["intervals"]["conformal"]["0.8"] == pytest.approx(summary["intervals"]["conformal"]["0.8"])


def test_cli_evaluate_text_report(cli_model):
    folder, _ = cli_model
    code, out, _ = _cli(["evaluate", "--model", str(folder), "--passes", "5"])
    assert code == 0
    assert "Prediction intervals on the test part" in out and "Conformal" in out and "Monte Carlo dropout" in out
    assert "Diebold–Mariano" in out and "Ljung–Box" in out


def test_cli_forecast_writes_bands(cli_model, tmp_path):
    folder, _ = cli_model
    target = tmp_path / "f.csv"
    code, _, err = _cli(["forecast", "--model", str(folder), "--steps", "5", "--levels", "0.8,0.95", "--out", str(target)])
    assert code == 0, err
    frame = pd.read_csv(target)
    assert list(frame.columns) == ["date", "temp_max", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert (frame["lower_95"] < frame["lower_80"]).all() and (frame["lower_80"] < frame["temp_max"]).all()
    assert (frame["temp_max"] < frame["upper_80"]).all() and (frame["upper_80"] < frame["upper_95"]).all()


def test_cli_refuses_bad_levels(cli_model):
    folder, _ = cli_model
    code, _, err = _cli(["evaluate", "--model", str(folder), "--levels", "0.8,1.2"])
    assert code == 2 and "between 0 and 1" in err
    code, _, err = _cli(["evaluate", "--model", str(folder), "--passes", "1"])
    assert code == 2 and "--passes" in err and "Traceback" not in err


@pytest.mark.slow
def test_seattle_conformal_90_covers_85_to_95_percent(tmp_path):
    """The issue's check: `train --data sample:seattle-weather` with default settings (the dataset's
    default features included), 90% conformal band on the test part."""
    import json

    code, out, err = _cli(["train", "--data", "sample:seattle-weather", "--levels", "0.8,0.9,0.95",
                           "--out", str(tmp_path / "m"), "--json"])
    assert code == 0, err
    intervals = json.loads(out)["intervals"]
    assert 0.85 <= intervals["conformal"]["0.9"]["coverage"] <= 0.95, intervals
