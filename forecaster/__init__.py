"""LSTM forecasting studio: load a series, train an LSTM, judge it against honest baselines."""

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.errors import ConfigError, DataError, ForecasterError, ModelFileError, NotFittedError, TrainingError

__all__ = ["DataConfig", "ModelConfig", "TrainConfig", "ForecasterConfig", "ForecasterError", "DataError",
           "ConfigError", "TrainingError", "NotFittedError", "ModelFileError", "LSTMForecaster"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # The estimator imports torch; load it only when asked for, so light pages stay fast.
    if name == "LSTMForecaster":
        from forecaster.estimator import LSTMForecaster
        return LSTMForecaster
    raise AttributeError(name)
