"""Tables written for people: forecasts at the precision the data itself has."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MAX_DECIMALS = 6
SIGNIFICANT_DIGITS = 2  # never round a forecast coarser than this, e.g. small whole-number counts


def data_decimals(values: np.ndarray | pd.Series, sample: int = 2000) -> int:
    """Decimal places the data is written with (12.3 -> 1, 4015.27 -> 2), at most MAX_DECIMALS.

    Read from the last `sample` finite values; at least enough places to keep SIGNIFICANT_DIGITS of their
    typical size, so whole-number counts near 3 still forecast as 3.4, not 3.
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)][-sample:]
    if finite.size == 0:
        return MAX_DECIMALS
    places = 0
    while places < MAX_DECIMALS:
        scaled = finite * 10.0 ** places
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-8 * np.maximum(1.0, np.abs(scaled))):
            break
        places += 1
    typical = float(np.median(np.abs(finite)))
    if typical > 0:
        places = max(places, SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(typical)))
    return int(min(MAX_DECIMALS, max(0, places)))


def forecast_table(forecast: pd.DataFrame, history: np.ndarray | pd.Series) -> pd.DataFrame:
    """A forecast frame (point and band columns) as people read it: rounded to the history's decimal places,
    and dated without a time of day when every timestamp is at midnight."""
    table = forecast.round(data_decimals(history))
    index = table.index
    if isinstance(index, pd.DatetimeIndex) and len(index) and (index == index.normalize()).all():
        table.index = pd.Index(index.strftime("%Y-%m-%d"), name=index.name)
    return table
