"""The model contract: the LSTM and every registered baseline fit on a prepared series and forecast alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster import baselines
from forecaster.backtest import backtest
from forecaster.baselines import make_baselines
from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.contract import Baseline, ForecastModel, features_of
from forecaster.errors import ConfigError, NotFittedError
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.prepare import Prepared, prepare
from forecaster.training import configure_threads

configure_threads(1)

HORIZON = 3


def _config(horizon: int = HORIZON) -> ForecasterConfig:
    return ForecasterConfig(data=DataConfig(target="y", features=("x",), window=10, horizon=horizon),
                            model=ModelConfig(units=8), train=TrainConfig(epochs=1))


def _prepared(frame: pd.DataFrame) -> Prepared:
    return prepare(frame, _config().data, "y")


def _models() -> dict[str, ForecastModel]:
    """Every model a screen scores, unfitted: the LSTM (tiny) and the registry's baselines."""
    return {"lstm": LSTMForecaster(_config()), **make_baselines("D", window=10)}


@pytest.mark.parametrize("name", list(_models()))
def test_every_model_keeps_the_contract(name: str, synthetic_series: pd.DataFrame) -> None:
    model = _models()[name]
    prepared = _prepared(synthetic_series)
    origins = prepared.test_origins
    assert isinstance(model, ForecastModel) and model.name == name and model.label
    with pytest.raises(NotFittedError):
        model.predict_prepared(prepared, origins)
    assert model.fit_prepared(prepared, HORIZON) is model
    forecasts = model.predict_prepared(prepared, origins)
    assert forecasts.shape == (len(origins), HORIZON) and forecasts.dtype == np.float64
    assert np.all(np.isfinite(forecasts))
    # Original units: every model forecasts near the series' level, not near the scaled target's 0.
    assert abs(np.median(forecasts) - np.median(prepared.y[origins])) < 3 * np.std(prepared.y)


@pytest.mark.parametrize("name", list(_models()))
def test_no_model_reads_the_future_of_an_origin(name: str, synthetic_series: pd.DataFrame) -> None:
    prepared = _prepared(synthetic_series)
    model = _models()[name].fit_prepared(prepared, HORIZON)
    origin = int(prepared.test_origins[5])
    changed = prepare(synthetic_series.iloc[: origin + 1], _config().data, "y", scaler=prepared.scaler)
    np.testing.assert_allclose(model.predict_prepared(changed, np.array([origin])),
                               model.predict_prepared(prepared, np.array([origin])), rtol=1e-12, atol=1e-12)


def test_the_lstm_fitted_on_a_prepared_series_is_the_lstm_fit_gives(synthetic_series: pd.DataFrame) -> None:
    fitted = LSTMForecaster(_config()).fit(synthetic_series)
    prepared = _prepared(synthetic_series)
    direct = LSTMForecaster(_config()).fit_prepared(prepared, HORIZON, freq="D")
    origins = prepared.test_origins
    np.testing.assert_array_equal(direct.predict_prepared(prepared, origins), fitted.predict_origins(prepared, origins))
    assert (direct.skip_start_, direct.freq_, direct.target_) == (fitted.skip_start_, fitted.freq_, fitted.target_)
    with pytest.raises(ConfigError, match="horizon 3 but was asked to fit horizon 2; set data.horizon to 2"):
        LSTMForecaster(_config()).fit_prepared(prepared, 2)


def test_a_baseline_on_a_prepared_series_is_the_baseline_on_its_arrays(synthetic_series: pd.DataFrame) -> None:
    prepared = _prepared(synthetic_series)
    X = features_of(prepared)
    np.testing.assert_array_equal(X, synthetic_series[["x"]].to_numpy())
    ridge = make_baselines("D", window=10)["linear"]
    by_arrays = ridge.fit(prepared.y, prepared.train_end, HORIZON, X).predict_at(prepared.y, prepared.test_origins, X)
    by_contract = ridge.fit_prepared(prepared, HORIZON).predict_prepared(prepared, prepared.test_origins)
    np.testing.assert_array_equal(by_contract, by_arrays)
    assert ridge.n_features_ == 1  # the feature column reached it
    assert features_of(prepare(synthetic_series, DataConfig(target="y", window=10), "y")) is None


class TrainingMean(Baseline):
    """A toy new model: every step is the training part's mean. One class and one registry line."""

    name = "training_mean"
    fitted: list[int] = []  # the length of each training part it was fitted on, to see refits

    @property
    def label(self) -> str:
        return "Training mean"

    def _fit(self, y_train: np.ndarray, horizon: int, X_train: np.ndarray | None) -> None:
        self.mean_ = float(y_train.mean())
        self.fitted.append(y_train.size)

    def _predict(self, y: np.ndarray, origins: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        return np.full((origins.size, self.horizon_), self.mean_)


def test_a_registered_model_is_scored_by_evaluate_and_every_backtest_fold(synthetic_series: pd.DataFrame,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(baselines.BASELINES, "training_mean", TrainingMean)
    monkeypatch.setattr(TrainingMean, "fitted", [])
    model = LSTMForecaster(_config()).fit(synthetic_series)
    evaluation = evaluate(model)
    prepared = model.prepared_
    expected = prepared.y[: prepared.train_end].mean()
    np.testing.assert_allclose(evaluation.predictions["training_mean"], expected)
    assert evaluation.labels["training_mean"] == "Training mean"
    assert evaluation.metrics["training_mean"]["mae"] == pytest.approx(np.abs(evaluation.actual - expected).mean())
    assert list(evaluation.metrics)[-1] == "training_mean"  # after the built-in baselines, in registry order

    assert TrainingMean.fitted == [prepared.train_end]

    result = backtest(synthetic_series, _config(horizon=1), folds=2)
    assert result.labels["training_mean"] == "Training mean"
    assert all("training_mean" in fold.metrics for fold in result.folds)
    assert "training_mean" in result.summary()
    # Refitted in each fold on that fold's own training part, which grows as the folds walk forward.
    first, second = TrainingMean.fitted[1:]
    assert len(TrainingMean.fitted) == 3 and first < second < prepared.train_end
