"""Tests for forecaster.series: the tidy step every reader ends with, Dataset and the studio's home folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster.series import Dataset, studio_home, tidy


def assert_tidy(ds: Dataset) -> None:
    """The invariants every Dataset keeps, whatever its source (used by the readers' tests too)."""
    index = ds.frame.index
    assert isinstance(index, pd.DatetimeIndex) and index.name == "date"
    assert index.tz is None and index.is_monotonic_increasing and index.is_unique
    assert all(dtype == np.float64 for dtype in ds.frame.dtypes)
    assert ds.target in ds.frame.columns
    assert set(ds.features) <= set(ds.frame.columns)


def _messy() -> pd.DataFrame:
    """Unsorted, a duplicate timestamp, a missing date, an infinity, integer columns and a time zone."""
    index = pd.DatetimeIndex(["2024-01-03 10:00", "2024-01-01 10:00", "2024-01-02 10:00", "2024-01-02 10:00", None],
                             tz="Europe/Berlin")
    return pd.DataFrame({"a": [3, 1, 2, 4, 9], 7: [np.inf, 1.0, np.nan, 5.0, 0.0]}, index=index)


def test_tidy_sorts_averages_duplicates_and_says_so() -> None:
    frame, notes = tidy(_messy())
    assert list(frame.index) == list(pd.to_datetime(["2024-01-01 10:00", "2024-01-02 10:00", "2024-01-03 10:00"]))
    assert frame.index.name == "date" and frame.index.tz is None and frame.index.unit == "us"
    assert frame["a"].tolist() == [1.0, 3.0, 3.0]  # 2 and 4 on the same timestamp averaged
    assert list(frame.columns) == ["a", "7"] and all(frame.dtypes == np.float64)
    assert frame["7"].isna().tolist() == [False, False, True]  # the infinity became a gap
    assert notes == ["Treated 1 infinite values as missing.", "Rows were not in date order; sorted them.",
                     "Averaged 1 duplicate timestamps.",
                     "1 values are missing (7: 1); the cleaning step will fill or drop them."]


def test_tidy_keeps_wall_clock_times_and_never_mutates() -> None:
    messy = _messy()
    before = messy.copy()
    frame, _ = tidy(messy)
    pd.testing.assert_frame_equal(messy, before)
    assert frame.index[0].hour == 10  # local market hours stay readable, not shifted to UTC


def test_tidy_of_a_tidy_frame_changes_nothing_and_notes_nothing() -> None:
    frame, _ = tidy(_messy())
    again, notes = tidy(frame.dropna())
    pd.testing.assert_frame_equal(again, frame.dropna())
    assert notes == []


def test_dataset_is_frozen_and_detected_is_not_compared() -> None:
    frame, _ = tidy(_messy())
    one = Dataset(frame, "x", "upload:x.csv", "a", detected={"rows": 3})
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.name = "y"  # type: ignore[misc]
    assert dataclasses.replace(one, detected={"rows": 99}).detected == {"rows": 99}


def test_studio_home_follows_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FORECASTER_HOME", str(tmp_path / "home"))
    assert studio_home() == tmp_path / "home"
    monkeypatch.delenv("FORECASTER_HOME")
    assert studio_home() == Path.home() / ".forecaster"
