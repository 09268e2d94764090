"""Frozen, validated option sets for data preparation, the network and training."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from forecaster.errors import ConfigError

MISSING_METHODS = ("interpolate", "ffill", "drop")
OUTLIER_METHODS = ("none", "iqr", "zscore")
SCALERS = ("standard", "minmax", "robust")
TRANSFORMS = ("none", "diff", "logret")
CELLS = ("lstm", "gru", "peephole")
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "peephole": "Peephole LSTM"}  # how pages, tables and labels name them
LOSSES = ("mse", "mae", "huber")
DEVICES = ("auto", "cpu", "cuda")
LR_SCHEDULES = ("none", "plateau")

# Caps that keep any form input from exhausting memory or running for hours.
MAX_WINDOW = 1000
MAX_HORIZON = 365
MAX_LAYERS = 4
MIN_UNITS, MAX_UNITS = 4, 512
MAX_EPOCHS = 1000
MAX_BATCH_SIZE = 4096


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    _check(value in choices, f"{name} must be one of {', '.join(choices)}; got {value!r}.")


@dataclass(frozen=True)
class DataConfig:
    """What to forecast and how to turn the raw series into training windows."""

    target: str | None = None  # column to forecast; None = the dataset's default target
    features: tuple[str, ...] = ()  # extra input columns; the target is always an input
    window: int = 30  # past steps the network reads for one forecast
    horizon: int = 1  # future steps forecast at once
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)  # train / validation / test, by time
    missing: str = "interpolate"  # how gaps are filled: interpolate (by time), ffill, drop
    outliers: str = "none"  # clip outliers with bounds from the training part: none, iqr, zscore
    resample: str | None = None  # pandas offset alias to aggregate to (e.g. "W"), None = keep
    scaler: str = "standard"  # standard, minmax or robust; fit on the training part only
    transform: str = "none"  # target transform: none, diff (changes), logret (log returns)
    # Calendar terms known in advance (hour of day, day of week, day of year, ... as sin/cos pairs chosen by
    # the frequency), built from timestamps only, as extra inputs of every window row.
    calendar: bool = False

    def __post_init__(self) -> None:
        # A lone name is one feature, not a sequence of one-letter columns.
        features = (self.features,) if isinstance(self.features, str) else self.features
        object.__setattr__(self, "features", tuple(features))
        object.__setattr__(self, "split", tuple(float(s) for s in self.split))
        _check(self.target is None or (isinstance(self.target, str) and self.target != ""),
               f"target must be a column name; got {self.target!r}.")
        _check(self.target is None or self.target not in self.features,
               f"target {self.target!r} is also listed as a feature; the target is always an input already.")
        _check(len(set(self.features)) == len(self.features), f"features are listed twice: {list(self.features)}.")
        _check(_is_int(self.window) and 2 <= self.window <= MAX_WINDOW,
               f"window must be a whole number from 2 to {MAX_WINDOW}; got {self.window!r}.")
        _check(_is_int(self.horizon) and 1 <= self.horizon <= MAX_HORIZON,
               f"horizon must be a whole number from 1 to {MAX_HORIZON}; got {self.horizon!r}.")
        _check(len(self.split) == 3 and all(0 < s < 1 for s in self.split)
               and math.isclose(sum(self.split), 1.0, abs_tol=1e-6),
               f"split must be three fractions above 0 that add up to 1 (e.g. 0.7,0.15,0.15); got {self.split}.")
        _check_choice("missing", self.missing, MISSING_METHODS)
        _check_choice("outliers", self.outliers, OUTLIER_METHODS)
        _check_choice("scaler", self.scaler, SCALERS)
        _check_choice("transform", self.transform, TRANSFORMS)
        _check(self.resample is None or (isinstance(self.resample, str) and self.resample.strip() != ""),
               f"resample must be a pandas frequency such as 'W' or 'MS', or empty; got {self.resample!r}.")
        _check(isinstance(self.calendar, bool), f"calendar must be true or false; got {self.calendar!r}.")


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the recurrent network."""

    cell: str = "lstm"  # lstm (torch's nn.LSTM), gru, or peephole (LSTM whose gates read the cell state)
    layers: int = 1  # stacked recurrent layers; on Seattle daily 1x64 beat 2x64 on 3 seeds, 3x faster
    units: int = 64  # hidden units per layer; 32-128 is typical
    dropout: float = 0.1  # between layers and before the output head
    residual: bool = True  # predict the change from the last observed value, not the level itself
    # The recurrent layers read each window relative to its own last target value (instance normalisation,
    # as RevIN), so a level never seen in training reads like a familiar one. Implies predicting the change.
    relative: bool = True
    # A fixed linear map from the window to every horizon step beside the recurrent head, set to the ridge
    # baseline (or drift, moving average, seasonal naive, smoothing or naive, by the validation part) while the recurrent
    # head starts at zero, as LSTNet's autoregressive highway.
    # Needs the target in levels (transform "none"); with diff or logret it is not used.
    skip: bool = True

    def __post_init__(self) -> None:
        _check_choice("cell", self.cell, CELLS)
        _check(_is_int(self.layers) and 1 <= self.layers <= MAX_LAYERS,
               f"layers must be a whole number from 1 to {MAX_LAYERS}; got {self.layers!r}.")
        _check(_is_int(self.units) and MIN_UNITS <= self.units <= MAX_UNITS,
               f"units must be a whole number from {MIN_UNITS} to {MAX_UNITS}; got {self.units!r}.")
        _check(isinstance(self.dropout, (int, float)) and 0.0 <= self.dropout < 1.0,
               f"dropout must be at least 0 and below 1; got {self.dropout!r}.")
        for name in ("residual", "relative", "skip"):
            value = getattr(self, name)
            _check(isinstance(value, bool), f"{name} must be true or false; got {value!r}.")


# Until an epoch has beaten the start, early stopping waits this many times the patience. The recurrent head
# starts at zero on top of the best simple forecast, and its first epochs are spent getting back to that level:
# with the plain patience, two of three seeds of co2/h13 stopped at epoch 10 on the ridge start (lstm/best
# 1.000), with three times it all three left it (0.60-0.67; the panel, benchmarks/README.md).
START_PATIENCE_FACTOR = 3


@dataclass(frozen=True)
class TrainConfig:
    """How the network is fitted."""

    epochs: int = 100  # upper bound; early stopping usually ends sooner
    batch_size: int = 32  # windows per gradient step; 16-128 is typical
    lr: float = 1e-3  # Adam learning rate; 1e-4 to 1e-2 is typical
    weight_decay: float = 0.0  # L2 penalty in Adam; 0 to 1e-4 is typical
    patience: int = 10  # epochs without validation improvement before stopping; 0 = never stop early
    # mae, mse or huber. MAE is the error every screen judges by; on the accuracy panel (3 seeds) it took the
    # geometric mean of LSTM/best-baseline MAE from 1.038 (MSE) to 1.020 (benchmarks/README.md).
    loss: str = "mae"
    clip_norm: float = 1.0  # gradient norm cap; 0 = no clipping
    seed: int = 0  # same seed and config give the same result on CPU
    device: str = "auto"  # auto uses CUDA when present
    # "plateau": divide the learning rate by 4 after patience // 2 epochs without a better validation loss.
    lr_schedule: str = "none"

    def __post_init__(self) -> None:
        _check(_is_int(self.epochs) and 1 <= self.epochs <= MAX_EPOCHS,
               f"epochs must be a whole number from 1 to {MAX_EPOCHS}; got {self.epochs!r}.")
        _check(_is_int(self.batch_size) and 1 <= self.batch_size <= MAX_BATCH_SIZE,
               f"batch size must be a whole number from 1 to {MAX_BATCH_SIZE}; got {self.batch_size!r}.")
        _check(isinstance(self.lr, (int, float)) and 0 < self.lr <= 1,
               f"learning rate must be above 0 and at most 1; got {self.lr!r}.")
        _check(isinstance(self.weight_decay, (int, float)) and 0 <= self.weight_decay <= 1,
               f"weight decay must be from 0 to 1; got {self.weight_decay!r}.")
        _check(_is_int(self.patience) and 0 <= self.patience <= MAX_EPOCHS,
               f"patience must be a whole number from 0 to {MAX_EPOCHS}; got {self.patience!r}.")
        _check_choice("loss", self.loss, LOSSES)
        _check(isinstance(self.clip_norm, (int, float)) and self.clip_norm >= 0,
               f"clip norm must be 0 (off) or positive; got {self.clip_norm!r}.")
        _check(_is_int(self.seed) and 0 <= self.seed < 2**32, f"seed must be a whole number from 0 to 2**32-1; got {self.seed!r}.")
        _check_choice("device", self.device, DEVICES)
        _check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)


@dataclass(frozen=True)
class ForecasterConfig:
    """Everything that defines one forecaster; saved next to its weights."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        for name, kind in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
            _check(isinstance(getattr(self, name), kind), f"{name} must be a {kind.__name__}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ForecasterConfig":
        """Rebuild and re-validate a config; unknown keys are refused rather than ignored."""
        if not isinstance(raw, dict):
            raise ConfigError("config must be a JSON object with data, model and train sections.")
        parts = {}
        for name, kind in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
            section = raw.get(name, {})
            if not isinstance(section, dict):
                raise ConfigError(f"config section {name!r} must be an object.")
            known = {f.name for f in dataclasses.fields(kind)}
            unknown = sorted(set(section) - known)
            if unknown:
                raise ConfigError(f"config section {name!r} has unknown options {unknown}.")
            values = dict(section)
            if name == "data":
                values["features"] = tuple(values.get("features", ()))
                if "split" in values:
                    values["split"] = tuple(values["split"])
            parts[name] = kind(**values)
        return cls(**parts)

    def replace(self, **sections: Any) -> "ForecasterConfig":
        """A copy with some options changed, e.g. replace(model={'units': 32})."""
        updated = {}
        for name, changes in sections.items():
            current = getattr(self, name)
            updated[name] = dataclasses.replace(current, **changes) if isinstance(changes, dict) else changes
        return dataclasses.replace(self, **updated)


def default_config(freq: str | None, n_rows: int, target: str | None = None,
                   features: tuple[str, ...] = ()) -> ForecasterConfig:
    """Settings suited to a series of this frequency and length; every field can still be changed."""
    # Here, not at the top: the frequency tables need pandas, and `--help` only needs the dataclasses.
    from forecaster.frequency import default_window, is_daily

    window = default_window(freq)  # one natural cycle of the frequency: a month of days, two days of hours
    # Keep at least a few test windows on short series: the smallest part must exceed window + horizon.
    window = max(2, min(window, int(n_rows * 0.15) - 3))
    batch = 64 if n_rows > 5000 else (16 if n_rows < 300 else 32)
    # Calendar inputs only where bench_accuracy.py showed them helping: daily data (Seattle's weather h1/h7,
    # 2-7% lower MAE); on hourly, trading-day and monthly series they were neutral or worse (benchmarks/README.md).
    calendar = is_daily(freq)
    return ForecasterConfig(data=DataConfig(target=target, features=tuple(features), window=window, calendar=calendar),
                            train=TrainConfig(batch_size=batch))


def option_names(section: str) -> tuple[str, ...]:
    """The option names of one config section ("data", "model" or "train"), in their dataclass order."""
    kinds = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
    if section not in kinds:
        raise ConfigError(f"config sections are data, model and train; got {section!r}.")
    return tuple(f.name for f in dataclasses.fields(kinds[section]))
