"""What Tune may search: the parameters, their ranges and the defaults for a series, without torch or Optuna."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

from forecaster.config import (
    CELLS,
    MAX_BATCH_SIZE,
    MAX_LAYERS,
    MAX_UNITS,
    MAX_WINDOW,
    MIN_UNITS,
    ForecasterConfig,
    option_names,
)
from forecaster.errors import ConfigError
from forecaster.frequency import window_range

PARAMS = ("layers", "units", "dropout", "window", "lr", "batch_size", "cell")
# Which config section holds each parameter, read from the config dataclasses themselves.
_SECTION = {name: next(section for section in ("data", "model", "train") if name in option_names(section))
            for name in PARAMS}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_range(name: str, value: Any, low: float, high: float, integer: bool, note: str) -> tuple:
    kind_ok = _is_int if integer else _is_number
    if not (isinstance(value, tuple) and len(value) == 2 and all(kind_ok(v) for v in value)
            and low <= value[0] <= value[1] <= high):
        raise ConfigError(f"{name} range must be two {'whole numbers' if integer else 'numbers'} low,high with "
                          f"{note}; got {value!r}.")
    return value


def _check_choices(name: str, value: Any, ok: Callable[[Any], bool], note: str) -> tuple:
    if not (isinstance(value, tuple) and value and all(ok(v) for v in value) and len(set(value)) == len(value)):
        raise ConfigError(f"{name} choices must be {note}, each listed once; got {value!r}.")
    return value


@dataclass(frozen=True)
class SearchSpace:
    """What a search may change; None keeps the base config's value."""

    layers: tuple[int, int] | None = None  # low, high
    units: tuple[int, int] | None = None  # low, high; sampled on a log scale (16..32 as likely as 64..128)
    dropout: tuple[float, float] | None = None  # low, high
    window: tuple[int, int] | None = None  # low, high
    lr: tuple[float, float] | None = None  # low, high; sampled on a log scale
    batch_size: tuple[int, ...] | None = None  # choices
    cell: tuple[str, ...] | None = None  # choices from CELLS

    def __post_init__(self) -> None:
        for name in PARAMS:  # JSON and argparse give lists; a lone cell name is one choice, not letters
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            if isinstance(value, list):
                value = tuple(value)
            object.__setattr__(self, name, value)
        if self.layers is not None:
            _check_range("layers", self.layers, 1, MAX_LAYERS, True, f"1 <= low <= high <= {MAX_LAYERS}")
        if self.units is not None:
            _check_range("units", self.units, MIN_UNITS, MAX_UNITS, True,
                         f"{MIN_UNITS} <= low <= high <= {MAX_UNITS}")
        if self.dropout is not None:
            _check_range("dropout", self.dropout, 0.0, math.nextafter(1.0, 0.0), False, "0 <= low <= high < 1")
        if self.window is not None:
            _check_range("window", self.window, 2, MAX_WINDOW, True, f"2 <= low <= high <= {MAX_WINDOW}")
        if self.lr is not None:
            _check_range("learning rate", self.lr, math.nextafter(0.0, 1.0), 1.0, False, "0 < low <= high <= 1")
        if self.batch_size is not None:
            _check_choices("batch size", self.batch_size, lambda v: _is_int(v) and 1 <= v <= MAX_BATCH_SIZE,
                           f"whole numbers from 1 to {MAX_BATCH_SIZE}")
        if self.cell is not None:
            _check_choices("cell", self.cell, lambda v: v in CELLS, f"from {', '.join(CELLS)}")

    @property
    def searched(self) -> tuple[str, ...]:
        """Names of the parameters this space changes, in a fixed order."""
        return tuple(name for name in PARAMS if getattr(self, name) is not None)

    def to_dict(self) -> dict[str, list]:
        """JSON-ready dict of the searched parameters only."""
        return {name: list(getattr(self, name)) for name in self.searched}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "SearchSpace":
        """Rebuild and re-validate a space; unknown names are refused."""
        if not isinstance(raw, dict):
            raise ConfigError(f"a search space must be an object of parameter ranges; got {raw!r}.")
        unknown = sorted(set(raw) - set(PARAMS))
        if unknown:
            raise ConfigError(f"the search space has unknown parameters {unknown}; known: {', '.join(PARAMS)}.")
        return cls(**{name: tuple(value) if isinstance(value, list) else value for name, value in raw.items()})

    def contains(self, config: ForecasterConfig) -> bool:
        """Whether every searched parameter's value in `config` lies inside this space."""
        for name, value in searchable_values(config).items():
            bounds = getattr(self, name)
            if bounds is None:
                continue
            if name in ("batch_size", "cell"):
                if value not in bounds:
                    return False
            elif not bounds[0] <= value <= bounds[1]:
                return False
        return True


DEFAULT_SPACE = SearchSpace(layers=(1, 2), units=(16, 128), dropout=(0.0, 0.4), window=(7, 60),
                            lr=(1e-4, 1e-2), batch_size=(16, 32, 64))

def default_space(freq: str | None, n_rows: int, *, split: tuple[float, float, float] = (0.7, 0.15, 0.15),
                  horizon: int = 1) -> SearchSpace:
    """DEFAULT_SPACE with a window range suited to the frequency and short enough for the series."""
    low, high = window_range(freq) or DEFAULT_SPACE.window
    train_rows = int(round(n_rows * split[0]))
    # prepare() needs window + horizon + 2 training rows (one more with a transform); capping at half the
    # training part also leaves the network at least as many training windows as steps in a window.
    high = min(high, train_rows // 2, train_rows - horizon - 3)
    window = (min(low, high), high) if high >= 2 else None
    return dataclasses.replace(DEFAULT_SPACE, window=window)


def searchable_values(config: ForecasterConfig) -> dict[str, Any]:
    """The values of every searchable parameter in `config`."""
    return {name: getattr(getattr(config, _SECTION[name]), name) for name in PARAMS}


def apply_params(base: ForecasterConfig, params: dict[str, Any]) -> ForecasterConfig:
    """`base` with a trial's sampled values put in their sections."""
    sections: dict[str, dict[str, Any]] = {}
    for name, value in params.items():
        sections.setdefault(_SECTION[name], {})[name] = value
    return base.replace(**sections)
