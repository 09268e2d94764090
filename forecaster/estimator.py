"""The estimator users hold: LSTMForecaster ties preparation, training and inverse scaling together."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch

from forecaster import model_files
from forecaster.calendar_inputs import calendar_terms, future_index, next_timestamps
from forecaster.config import CELL_NAMES, ForecasterConfig
from forecaster.errors import ConfigError, DataError, NotFittedError
from forecaster.frequency import infer_freq
from forecaster.model import network_for, uses_skip
from forecaster.model_files import CONFIG_FILE, FORMAT_VERSION, META_FILE, MODEL_FILES, WEIGHTS_FILE
from forecaster.prepare import Prepared, inverse_transform_paths, prepare, transform_target
from forecaster.starts import (
    START_CHOICE_SE,
    choose_start,
    drift_in_scaled_space,
    moving_average_in_scaled_space,
    naive_in_scaled_space,
    ridge_in_scaled_space,
    seasonal_naive_in_scaled_space,
    simple_starts,
    smoothing_in_scaled_space,
    start_skip,
)
from forecaster.training import EpochReport, History, predict_batched, resolve_device, train_network
from forecaster.windows import input_windows

# The skip's starts moved to forecaster.starts; they are re-exported because tests and older code import them here.
__all__ = ["LSTMForecaster", "FORMAT_VERSION", "MODEL_FILES", "CONFIG_FILE", "META_FILE", "WEIGHTS_FILE", "future_index", "uses_skip", "START_CHOICE_SE",
           "choose_start", "drift_in_scaled_space", "moving_average_in_scaled_space", "naive_in_scaled_space",
           "ridge_in_scaled_space", "seasonal_naive_in_scaled_space", "simple_starts", "smoothing_in_scaled_space"]



def _frame_of(data: Any) -> tuple[pd.DataFrame, str | None, str | None, dict]:
    """Accept a datasets.Dataset or a DataFrame: (frame, default target, freq, description)."""
    if isinstance(data, pd.DataFrame):
        return data, None, None, {}
    frame = getattr(data, "frame", None)
    if not isinstance(frame, pd.DataFrame):
        raise DataError("fit needs a pandas DataFrame with a date index, or a Dataset from forecaster.datasets.")
    info = {"source": getattr(data, "source", ""), "name": getattr(data, "name", ""), "unit": getattr(data, "unit", "")}
    return frame, getattr(data, "target", None), getattr(data, "freq", None), info


class LSTMForecaster:
    """A recurrent forecaster with the scikit-learn contract (fit returns self, learned state ends in `_`) and
    the model contract of `forecaster.contract` (fit_prepared / predict_prepared), as every baseline."""

    name = "lstm"

    def __init__(self, config: ForecasterConfig | None = None) -> None:
        self.config = config if config is not None else ForecasterConfig()

    # ------------------------------------------------------------ fitting
    def fit(self, data: Any, *, freq: str | None = None, progress: Callable[[EpochReport], None] | None = None,
            stop_event: threading.Event | None = None) -> "LSTMForecaster":
        """Prepare the series, train with early stopping on the validation part, keep the best weights."""
        self._check_config()
        frame, default_target, data_freq, info = _frame_of(data)
        target = self.config.data.target or default_target or (str(frame.columns[0]) if len(frame.columns) else None)
        if target is None:
            raise DataError("The data has no columns; load a series with at least one numeric column.")
        known_freq = self.config.data.resample or freq or data_freq
        prepared = prepare(frame, self.config.data, target, freq=known_freq)
        self.fit_prepared(prepared, self.config.data.horizon, freq=known_freq, progress=progress, stop_event=stop_event)
        self.data_info_ = {**info, **self.data_info_}
        return self

    def fit_prepared(self, prepared: Prepared, horizon: int, *, freq: str | None = None,
                     progress: Callable[[EpochReport], None] | None = None,
                     stop_event: threading.Event | None = None) -> "LSTMForecaster":
        """The model contract's fit: train on a series prepared with this config's data options
        (`prepare(frame, config.data, target)`), the same way `fit` does after preparing it.

        `freq` is the series' frequency, inferred from its index when not given (the start of the skip reads
        its seasonal cycles; forecasts step along it).
        """
        self._check_config()
        if horizon != self.config.data.horizon:
            raise ConfigError(f"This LSTM is configured for horizon {self.config.data.horizon} but was asked to fit "
                              f"horizon {horizon}; set data.horizon to {horizon} in its config.")
        device = resolve_device(self.config.train.device)
        torch.manual_seed(self.config.train.seed)
        window = self.config.data.window
        net = network_for(self.config, prepared.inputs.shape[1])
        freq_ = freq or infer_freq(prepared.index)  # the one prepare built the calendar inputs for
        skip_start = start_skip(net, prepared, window, horizon, freq_) if net.skip is not None else None
        net = net.to(device)
        train = self._windows(prepared, prepared.train_origins, window, horizon)
        val = self._windows(prepared, prepared.val_origins, window, horizon)
        self.history_: History = train_network(net, train, val, self.config.train, progress, stop_event)
        self.net_ = net
        self.skip_start_ = skip_start
        self.target_ = str(prepared.frame.columns[0])  # prepare puts the target first
        self.columns_ = list(prepared.frame.columns)
        self.freq_ = freq_
        self.calendar_ = prepared.calendar_columns
        self.scaler_ = prepared.scaler
        self.prepared_ = prepared
        self.data_info_ = {"start": str(prepared.index[0]), "end": str(prepared.index[-1]), "rows": len(prepared.index)}
        self.tail_ = prepared.frame.iloc[-(window + 1):].copy()
        return self

    def _check_config(self) -> None:
        if not isinstance(self.config, ForecasterConfig):
            raise ConfigError("LSTMForecaster needs a ForecasterConfig.")

    @staticmethod
    def _windows(prepared: Prepared, origins: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        inputs = input_windows(prepared.inputs, origins, window)  # (n, window, features)
        targets = prepared.target[origins[:, None] + np.arange(1, horizon + 1)]  # (n, horizon)
        return inputs, targets

    @property
    def label(self) -> str:
        """How screens name this model: "LSTM", "GRU + linear skip", ..."""
        cell = CELL_NAMES[self.config.model.cell]
        return f"{cell} + linear skip" if uses_skip(self.config) else cell

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise NotFittedError("This forecaster has not been trained yet; call fit(...) or load a saved model first.")

    @property
    def device(self) -> torch.device:
        self._check_fitted()
        return next(self.net_.parameters()).device

    # ------------------------------------------------------------ predicting
    def _levels_from_scaled(self, scaled_windows: np.ndarray, last_levels: np.ndarray) -> np.ndarray:
        """Run the network on scaled windows and map its outputs back to levels in original units."""
        inputs = torch.as_tensor(np.ascontiguousarray(scaled_windows), dtype=torch.float32, device=self.device)
        paths = predict_batched(self.net_, inputs).double().cpu().numpy()  # (n, horizon), scaled
        unscaled = self.scaler_.inverse(paths, column=0)
        return inverse_transform_paths(unscaled, last_levels, self.config.data.transform)

    def _window_calendar(self, times: Any, n: int, steps: int) -> np.ndarray:
        """The calendar inputs (n, window, n_calendar) of n windows, from their timestamps (n, steps) or their
        origins' (n,): row t carries the calendar of the step after it, as in `prepare`."""
        window = self.config.data.window
        try:
            per_row = np.ndim(times) == 2  # each window's own timestamps, else one origin per window
            stamps = [pd.DatetimeIndex(row) for row in times] if per_row else pd.DatetimeIndex(times)
        except (TypeError, ValueError) as error:
            raise DataError(f"times must be the windows' timestamps or their origins' ({error}).") from None
        if per_row:
            if len(stamps) != n or any(len(row) != steps for row in stamps):
                raise DataError(f"times must be shaped like the windows' rows, (n, steps) = ({n}, {steps}), "
                                f"or give one origin per window.")
            following = [next_timestamps(row, self.freq_)[steps - window:] for row in stamps]  # each (window,)
        else:
            if len(stamps) != n:
                raise DataError(f"times gives {len(stamps)} origins for {n} windows; give one per window.")
            if not self.freq_:
                raise DataError("The series has no regular frequency, so origins alone do not date the windows; "
                                "pass times shaped (n, steps), each window's own timestamps.")
            # Each window on the regular calendar: its rows carry the `window` steps up to its first forecast.
            following = [pd.date_range(end=future_index(origin, self.freq_, 1)[0], periods=window, freq=self.freq_)
                         for origin in stamps]
        flat = following[0].append(following[1:]) if n else pd.DatetimeIndex([])
        terms = calendar_terms(flat, self.freq_, self.calendar_).to_numpy()  # (n · window, n_calendar)
        return terms.reshape(n, window, len(self.calendar_))

    def predict(self, windows: np.ndarray, times: Any = None) -> np.ndarray:
        """Forecast from raw windows (n, steps, columns) in original units, columns = target then features.

        `steps` is the window length, plus one when a diff or logret transform is used (the
        first row only supplies the previous level). A model with calendar inputs also needs `times`:
        the windows' timestamps (n, steps), or their origins' (n,) on a regular calendar.
        Returns (n, horizon) in original units.
        """
        self._check_fitted()
        windows = np.asarray(windows, dtype=np.float64)
        extra = 0 if self.config.data.transform == "none" else 1
        expected = (self.config.data.window + extra, len(self.columns_))
        if windows.ndim != 3 or windows.shape[1:] != expected:
            raise DataError(f"predict needs windows shaped (n, {expected[0]}, {expected[1]}); got {windows.shape}.")
        if not np.all(np.isfinite(windows)):
            raise DataError("The windows contain missing or infinite values; fill them before predicting.")
        values = windows.copy()
        for row in values:  # each window's target column becomes the transformed series
            row[:, 0] = transform_target(row[:, 0], self.config.data.transform)
        scaled = self.scaler_.transform(values[:, extra:])  # (n, window, columns)
        calendar = getattr(self, "calendar_", ())
        if calendar:
            if times is None:
                raise DataError("This model reads calendar inputs, so predict needs times: the windows' timestamps "
                                "(n, steps) or their origins' (n,).")
            known = self._window_calendar(times, len(windows), windows.shape[1])  # (n, window, n_calendar)
            scaled = np.concatenate([scaled, known], axis=2)  # (n, window, columns + n_calendar)
        return self._levels_from_scaled(scaled, windows[:, -1, 0])

    def predict_prepared(self, prepared: Prepared, origins: np.ndarray) -> np.ndarray:
        """The model contract's forecast: (n, horizon) in original units from prepared data at each origin index."""
        self._check_fitted()
        calendar = getattr(self, "calendar_", None)  # None: a network set up by hand, not by fit or load
        if calendar is not None and tuple(prepared.calendar_columns) != tuple(calendar):
            raise DataError(f"The data was prepared with calendar inputs {list(prepared.calendar_columns)} but the "
                            f"model reads {list(calendar)}; prepare it with model.prepare(data).")
        scaled = input_windows(prepared.inputs, origins, self.config.data.window)  # (n, window, inputs)
        return self._levels_from_scaled(scaled, prepared.y[origins])

    def predict_origins(self, prepared: Prepared, origins: np.ndarray) -> np.ndarray:
        """The same as `predict_prepared` (the name pages and older code use)."""
        return self.predict_prepared(prepared, origins)

    def prepare(self, data: Any) -> Prepared:
        """Prepare new data exactly as at fit time, with the fitted scaler (nothing is refit)."""
        self._check_fitted()
        frame, _, _, _ = _frame_of(data)
        return prepare(frame, self.config.data, self.target_, scaler=self.scaler_, freq=self.freq_,
                       calendar=getattr(self, "calendar_", ()))

    def forecast(self, steps: int, data: Any = None) -> pd.DataFrame:
        """Continue the series `steps` points past its end, recursively beyond the horizon.

        Extra feature columns are unknown in the future; they are held at their last value. Calendar
        inputs are known: each future row carries the calendar of its own next step (`future_index`).
        """
        self._check_fitted()
        if not isinstance(steps, (int, np.integer)) or not 1 <= steps <= 10_000:
            raise ConfigError(f"steps must be a whole number from 1 to 10000; got {steps!r}.")
        tail = self.tail_ if data is None else self.prepare(data).frame
        extra = 0 if self.config.data.transform == "none" else 1
        need = self.config.data.window + extra
        history = tail[self.columns_].to_numpy(dtype=np.float64)[-need:]  # (need, columns)
        if len(history) < need:
            raise DataError(f"Forecasting needs the last {need} rows of the series; the data has {len(history)}.")
        index = future_index(tail.index[-1], self.freq_, steps, tail.index)
        stamps = tail.index[-need:].append(index)  # (need + steps,) the dates of every row the recursion reads
        produced: list[float] = []
        while len(produced) < steps:
            done = len(produced)
            times = [stamps[done:done + need]] if getattr(self, "calendar_", ()) else None
            path = self.predict(history[-need:][None], times=times)[0]  # (horizon,)
            take = path[: steps - done]
            new_rows = np.repeat(history[-1:], len(take), axis=0)
            new_rows[:, 0] = take
            history = np.vstack([history, new_rows])
            produced.extend(take.tolist())
        return pd.DataFrame({self.target_: produced}, index=pd.DatetimeIndex(index, name="date"))

    # ------------------------------------------------------------ saving (forecaster.model_files)
    def save(self, directory: str | Path, extra: dict | None = None) -> Path:
        """Write config.json, model.json (scaler, history, tail) and weights.safetensors."""
        self._check_fitted()
        return model_files.save(self, directory, extra)

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None) -> "LSTMForecaster":
        """Rebuild a saved model from its folder or its .zip file; never executes code and refuses anything malformed."""
        parts = model_files.parts_of_folder(directory)
        if isinstance(parts, bytes):
            return cls.from_bytes(parts, device)
        return model_files.build(cls, *parts, device)

    def to_bytes(self, extra: dict | None = None) -> bytes:
        """The model as one zip archive (the saved folder's three files), for downloads."""
        self._check_fitted()
        return model_files.to_bytes(self, extra)

    @classmethod
    def from_bytes(cls, payload: bytes, device: str | None = None) -> "LSTMForecaster":
        """Load a model archive made by to_bytes; reads only the three known files, each size-checked."""
        return model_files.build(cls, *model_files.parts_of_archive(payload), device)
