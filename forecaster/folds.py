"""Walk-forward fold layout: where each backtest fold's history and test window lie, in rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecaster.errors import ConfigError, DataError

MODES = ("expanding", "sliding")
MAX_FOLDS = 50


@dataclass(frozen=True)
class Fold:
    """Where one fold lies, in rows of the cleaned series: history [start, origin), test [origin, end)."""

    number: int  # 1-based
    start: int
    origin: int  # first test row; the model never sees this row or any later one while fitting
    end: int  # one past the last test row; rows from here on are not even passed to the fold


def plan_folds(n_rows: int, folds: int = 5, mode: str = "expanding", step: int | None = None,
               initial: int | None = None) -> list[Fold]:
    """K folds along time: origins initial, initial+step, ...; the last test window ends by the data's end.

    Without `step` and `initial`, the first half of the series is the first fold's history and the
    second half is cut into `folds` test windows. A sliding window keeps every history `initial` rows long.
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be expanding or sliding; got {mode!r}.")
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or not 1 <= folds <= MAX_FOLDS:
        raise ConfigError(f"folds must be a whole number from 1 to {MAX_FOLDS}; got {folds!r}.")
    for name, value in (("step", step), ("initial", initial)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ConfigError(f"{name} must be a positive whole number of rows; got {value!r}.")
    if initial is None:
        initial = n_rows - folds * step if step is not None else n_rows // 2
    if step is None:
        step = (n_rows - initial) // folds
    if initial < 1 or step < 1 or initial + folds * step > n_rows:
        raise DataError(f"{folds} folds of {step} rows after a first history of {initial} rows need "
                        f"{initial + folds * step} rows, but the series has {n_rows}; use fewer folds or a smaller step.")
    plans = []
    for i in range(folds):
        origin = initial + i * step
        start = 0 if mode == "expanding" else origin - initial
        plans.append(Fold(number=i + 1, start=start, origin=origin, end=origin + step))
    return plans
