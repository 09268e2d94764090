"""One loaded series (Dataset), the tidy step every reader ends with, and the studio's home folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Dataset", "tidy", "studio_home"]


@dataclass(frozen=True)
class Dataset:
    """One loaded series: numeric float64 columns on a naive, sorted, unique DatetimeIndex named "date"."""

    frame: pd.DataFrame
    name: str  # short display name
    source: str  # how to load it again: "sample:NAME", "ticker:SYM", a CSV path or "upload:<filename>"
    target: str  # default column to forecast
    features: tuple[str, ...] = ()  # suggested extra input columns
    freq: str | None = None  # pandas offset alias, None when the spacing is irregular
    unit: str = ""
    description: str = ""
    notes: tuple[str, ...] = ()  # sentences to show the user about what loading changed or assumed
    detected: dict = field(default_factory=dict, compare=False, hash=False)


def studio_home() -> Path:
    """Folder for the studio's own files: $FORECASTER_HOME or ~/.forecaster (callers create it when writing)."""
    return Path(os.environ.get("FORECASTER_HOME") or Path.home() / ".forecaster").expanduser()


def tidy(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Bring any source to one shape: naive sorted unique "date" index (µs), float64 columns; never mutates.

    Returns the tidy frame and the sentences saying what changed (sorted, averaged duplicates, ...).
    """
    notes: list[str] = []
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_localize(None)  # keep local wall-clock times, so market hours stay readable
    keep = ~index.isna()
    frame = frame.astype("float64").set_axis(index.as_unit("us"), axis=0).loc[keep]
    frame.columns = [str(c) for c in frame.columns]
    infinite = int(np.isinf(frame.to_numpy()).sum())
    if infinite:
        frame = frame.replace([np.inf, -np.inf], np.nan)
        notes.append(f"Treated {infinite} infinite values as missing.")
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        notes.append("Rows were not in date order; sorted them.")
    duplicates = int(frame.index.duplicated().sum())
    if duplicates:
        frame = frame.groupby(level=0).mean()
        notes.append(f"Averaged {duplicates} duplicate timestamps.")
    frame = frame.rename_axis("date")
    missing = frame.isna().sum()
    if missing.sum():
        where = ", ".join(f"{col}: {n}" for col, n in missing[missing > 0].items())
        notes.append(f"{int(missing.sum())} values are missing ({where}); the cleaning step will fill or drop them.")
    return frame, notes
