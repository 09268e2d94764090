"""Tests for the preparation path (prepare, cleaning, windows, calendar_inputs): purity, split, no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster.calendar_inputs import (
    calendar_names,
    calendar_phases,
    calendar_terms,
    describe_calendar,
    next_timestamps,
)
from forecaster.cleaning import (
    calendar_gaps,
    clean,
    clip_outliers,
    fill_missing,
    missing_timestamps,
    resample_frame,
    select_columns,
)
from forecaster.config import DataConfig
from forecaster.errors import ConfigError, DataError
from forecaster.prepare import Scaler, fit_scaler, inverse_transform_paths, prepare, transform_target
from forecaster.windows import (
    fits,
    input_windows,
    largest_horizon,
    largest_window,
    rows_needed,
    short_series_message,
    split_points,
    window_counts,
)


def _config(**changes) -> DataConfig:
    return DataConfig(**{"target": "y", "window": 10, **changes})


# ---------------------------------------------------------------- purity

def test_prepare_never_mutates_its_input(synthetic_series: pd.DataFrame) -> None:
    frame = synthetic_series.copy()
    frame.iloc[[5, 50, 300], 0] = np.nan
    frame.iloc[100, 0] = 1e6  # an outlier to clip
    before = frame.copy(deep=True)
    config = _config(features=("x",), outliers="iqr", transform="diff", scaler="robust")
    prepare(frame, config, "y")
    pd.testing.assert_frame_equal(frame, before)


def test_cleaning_helpers_never_mutate_their_input(synthetic_series: pd.DataFrame) -> None:
    frame = synthetic_series.copy()
    frame.iloc[3:6, 0] = np.nan
    frame.iloc[200, 1] = 50.0
    before = frame.copy(deep=True)
    select_columns(frame, "y", ("x",))
    resample_frame(frame, "W")
    for method in ("interpolate", "ffill", "drop"):
        fill_missing(frame, method)
    clip_outliers(frame.dropna(), "zscore", 400)
    clip_outliers(frame, "iqr", 400)
    pd.testing.assert_frame_equal(frame, before)

    y = frame["y"].dropna().to_numpy()
    y_before = y.copy()
    transform_target(y, "diff")
    transform_target(y, "logret")
    np.testing.assert_array_equal(y, y_before)


# ---------------------------------------------------------------- cleaning

def test_select_columns_orders_target_first_and_makes_floats() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6], "c": [np.inf, 1.0, 2.0]})
    selected = select_columns(frame, "c", ("a",))
    assert list(selected.columns) == ["c", "a"]
    assert all(dtype == np.float64 for dtype in selected.dtypes)
    assert np.isnan(selected["c"].iloc[0])  # infinities become gaps to fill


def test_select_columns_names_missing_column_and_lists_available() -> None:
    frame = pd.DataFrame({"temp": [1.0, 2.0], "wind": [3.0, 4.0]})
    with pytest.raises(DataError) as caught:
        select_columns(frame, "rain", ())
    message = str(caught.value)
    assert "'rain'" in message and "temp" in message and "wind" in message
    with pytest.raises(DataError, match="'gust'"):
        select_columns(frame, "temp", ("gust",))


def test_select_columns_refuses_all_nan_target() -> None:
    frame = pd.DataFrame({"y": [np.nan, np.nan, np.nan], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="'y' has no values"):
        select_columns(frame, "y", ("x",))


def test_select_columns_refuses_text_columns() -> None:
    frame = pd.DataFrame({"y": ["a", "b"], "x": [1.0, 2.0]})
    with pytest.raises(DataError, match="numeric"):
        select_columns(frame, "y", ())


def _gappy() -> pd.DataFrame:
    # Irregular dates: interpolation by time must weight the 1-day and 2-day gaps differently.
    index = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05", "2024-01-06"])
    return pd.DataFrame({"y": [np.nan, 0.0, np.nan, 3.0, np.nan]}, index=index)


def test_fill_missing_interpolates_by_time_and_drops_edges() -> None:
    filled = fill_missing(_gappy(), "interpolate")
    assert list(filled.index.day) == [2, 3, 5]
    np.testing.assert_allclose(filled["y"].to_numpy(), [0.0, 1.0, 3.0])


def test_fill_missing_forward_fills() -> None:
    filled = fill_missing(_gappy(), "ffill")
    assert list(filled.index.day) == [2, 3, 5, 6]
    np.testing.assert_allclose(filled["y"].to_numpy(), [0.0, 0.0, 3.0, 3.0])


def test_fill_missing_drops_incomplete_rows() -> None:
    filled = fill_missing(_gappy(), "drop")
    assert list(filled.index.day) == [2, 5]


def test_fill_missing_interpolates_linearly_without_dates() -> None:
    frame = pd.DataFrame({"y": [0.0, np.nan, np.nan, 3.0]})
    np.testing.assert_allclose(fill_missing(frame, "interpolate")["y"].to_numpy(), [0.0, 1.0, 2.0, 3.0])


def test_fill_missing_refuses_unknown_method() -> None:
    with pytest.raises(ConfigError, match="'zero'"):
        fill_missing(_gappy(), "zero")


def test_resample_averages_and_validates() -> None:
    index = pd.date_range("2024-01-01", periods=14, freq="D")  # Monday to Sunday, twice
    frame = pd.DataFrame({"y": np.arange(14.0)}, index=index)
    weekly = resample_frame(frame, "W")
    np.testing.assert_allclose(weekly["y"].to_numpy(), [3.0, 10.0])
    assert resample_frame(frame, None) is frame
    with pytest.raises(ConfigError, match="'fortnightly'"):
        resample_frame(frame, "fortnightly")
    with pytest.raises(DataError, match="date index"):
        resample_frame(frame.reset_index(drop=True), "W")


@pytest.mark.parametrize("method", ["iqr", "zscore"])
def test_clip_outliers_bounds_come_from_training_rows_only(method: str) -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(0.0, 1.0, 200)
    values[20] = 50.0  # an outlier inside the training part
    train_end = 140
    frame = pd.DataFrame({"y": values})
    changed = frame.copy()
    changed.iloc[train_end:, 0] = rng.normal(100.0, 30.0, 200 - train_end)  # wildly different later part
    changed.iloc[-1, 0] = 1e6

    clipped = clip_outliers(frame, method, train_end)
    clipped_changed = clip_outliers(changed, method, train_end)
    pd.testing.assert_frame_equal(clipped.iloc[:train_end], clipped_changed.iloc[:train_end])

    train = values[:train_end]
    if method == "iqr":
        q1, q3 = np.quantile(train, [0.25, 0.75])
        upper = q3 + 3.0 * (q3 - q1)
    else:
        upper = train.mean() + 4.0 * train.std()
    assert clipped.iloc[20, 0] == pytest.approx(upper)
    assert clipped_changed.iloc[-1, 0] == pytest.approx(upper)  # the same bound clips the later part


def test_clip_outliers_none_and_unknown() -> None:
    frame = pd.DataFrame({"y": [1.0, 1e9]})
    assert clip_outliers(frame, "none", 1) is frame
    with pytest.raises(ConfigError, match="'mad'"):
        clip_outliers(frame, "mad", 1)


@pytest.mark.parametrize("n, split, expected", [
    (100, (0.7, 0.15, 0.15), (70, 85)),
    (1000, (0.8, 0.1, 0.1), (800, 900)),
    (7, (0.5, 0.25, 0.25), (4, 5)),
])
def test_split_points(n, split, expected) -> None:
    assert split_points(n, split) == expected


# ---------------------------------------------------------------- target transforms

@pytest.mark.parametrize("kind", ["none", "diff", "logret"])
def test_transform_and_inverse_reconstruct_levels_exactly(kind: str) -> None:
    rng = np.random.default_rng(2)
    y = 50.0 + np.cumsum(rng.normal(0.0, 1.0, 80))
    assert y.min() > 0
    transformed = transform_target(y, kind)
    horizon = 5
    origins = np.arange(1, len(y) - horizon)
    paths = transformed[origins[:, None] + np.arange(1, horizon + 1)]  # the true future, transformed
    levels = inverse_transform_paths(paths, y[origins], kind)
    expected = y[origins[:, None] + np.arange(1, horizon + 1)]
    np.testing.assert_allclose(levels, expected, rtol=1e-12, atol=1e-10)


def test_transform_values() -> None:
    y = np.array([1.0, 2.0, 4.0, 3.0])
    np.testing.assert_array_equal(transform_target(y, "diff")[1:], [1.0, 2.0, -1.0])
    np.testing.assert_allclose(transform_target(y, "logret")[1:], np.log([2.0, 2.0, 0.75]))
    assert np.isnan(transform_target(y, "diff")[0]) and np.isnan(transform_target(y, "logret")[0])
    assert transform_target(y, "none") is not y


@pytest.mark.parametrize("bad", [[1.0, 0.0, 2.0], [3.0, -1.0, 2.0]])
def test_logret_refuses_non_positive_series(bad) -> None:
    with pytest.raises(DataError, match="above zero"):
        transform_target(np.array(bad), "logret")


def test_logret_on_non_positive_series_through_prepare(synthetic_series: pd.DataFrame) -> None:
    frame = synthetic_series.copy()
    frame.iloc[42, 0] = -1.0
    with pytest.raises(DataError, match="'diff'"):
        prepare(frame, _config(transform="logret"), "y")


def test_unknown_transform_is_refused() -> None:
    with pytest.raises(ConfigError):
        transform_target(np.ones(3), "boxcox")
    with pytest.raises(ConfigError):
        inverse_transform_paths(np.ones((1, 1)), np.ones(1), "boxcox")


# ---------------------------------------------------------------- scaling

@pytest.mark.parametrize("kind", ["standard", "minmax", "robust"])
def test_scaler_inverse_round_trip(kind: str) -> None:
    rng = np.random.default_rng(3)
    train = rng.normal([5.0, -2.0, 100.0], [1.0, 3.0, 20.0], size=(60, 3))
    scaler = fit_scaler(train, kind)
    other = rng.normal(0.0, 50.0, size=(10, 3))
    np.testing.assert_allclose(scaler.inverse(scaler.transform(other)), other, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(other)[:, 2], column=2), other[:, 2], rtol=1e-12)
    assert Scaler.from_dict(scaler.to_dict()).kind == kind


def test_scaler_parameters_match_their_definitions() -> None:
    train = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0], [10.0, 40.0]])
    standard = fit_scaler(train, "standard")
    np.testing.assert_allclose(standard.center, train.mean(axis=0))
    np.testing.assert_allclose(standard.scale, train.std(axis=0))
    minmax = fit_scaler(train, "minmax").transform(train)
    np.testing.assert_allclose(minmax.min(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(minmax.max(axis=0), 1.0)
    robust = fit_scaler(train, "robust")
    np.testing.assert_allclose(robust.center, np.median(train, axis=0))
    q1, q3 = np.quantile(train, [0.25, 0.75], axis=0)
    np.testing.assert_allclose(robust.scale, q3 - q1)


@pytest.mark.parametrize("kind", ["standard", "minmax", "robust"])
def test_constant_column_stays_finite(kind: str) -> None:
    scaler = fit_scaler(np.full((10, 1), 7.0), kind)
    assert np.all(np.isfinite(scaler.transform(np.array([[7.0], [8.0]]))))


def test_unknown_scaler_is_refused() -> None:
    with pytest.raises(ConfigError, match="'quantile'"):
        fit_scaler(np.ones((3, 1)), "quantile")


def test_scaler_from_dict_refuses_malformed() -> None:
    with pytest.raises(ValueError):
        Scaler.from_dict({"kind": "standard", "center": [0.0, 1.0], "scale": [1.0]})
    with pytest.raises(ValueError):
        Scaler.from_dict({"kind": "standard", "center": [0.0], "scale": [0.0]})
    with pytest.raises(ValueError):
        Scaler.from_dict({"kind": "standard", "center": [float("nan")], "scale": [1.0]})


# ---------------------------------------------------------------- no leakage

@pytest.mark.parametrize("changes", [
    {},
    {"scaler": "minmax", "outliers": "iqr"},
    {"scaler": "robust", "transform": "diff", "horizon": 3},
])
def test_no_leakage_from_test_part(synthetic_series: pd.DataFrame, changes: dict) -> None:
    config = _config(features=("x",), **changes)
    base = prepare(synthetic_series, config, "y")
    altered = synthetic_series.copy()
    rng = np.random.default_rng(4)
    # Change everything from the first test row on: bigger, shifted, noisier, and one extreme value.
    altered.iloc[base.val_end:, 0] = 1000.0 + rng.normal(0.0, 100.0, len(altered) - base.val_end)
    altered.iloc[base.val_end:, 1] = -500.0
    altered.iloc[-1, 0] = 1e9
    changed = prepare(altered, config, "y")

    assert (changed.train_end, changed.val_end) == (base.train_end, base.val_end)
    np.testing.assert_array_equal(changed.scaler.center, base.scaler.center)
    np.testing.assert_array_equal(changed.scaler.scale, base.scaler.scale)
    np.testing.assert_array_equal(changed.inputs[:base.val_end], base.inputs[:base.val_end])
    np.testing.assert_array_equal(changed.target[:base.val_end], base.target[:base.val_end])
    np.testing.assert_array_equal(changed.train_origins, base.train_origins)
    np.testing.assert_array_equal(changed.val_origins, base.val_origins)
    # ...while the test part did change, so the comparison above means something.
    assert not np.array_equal(changed.inputs[base.val_end:], base.inputs[base.val_end:])


def test_no_leakage_from_validation_part_into_scaler(synthetic_series: pd.DataFrame) -> None:
    config = _config()
    base = prepare(synthetic_series, config, "y")
    altered = synthetic_series.copy()
    altered.iloc[base.train_end:, 0] += 500.0
    changed = prepare(altered, config, "y")
    np.testing.assert_array_equal(changed.scaler.center, base.scaler.center)
    np.testing.assert_array_equal(changed.inputs[:base.train_end], base.inputs[:base.train_end])


def test_scaler_is_fit_on_training_rows(synthetic_series: pd.DataFrame) -> None:
    prepared = prepare(synthetic_series, _config(features=("x",)), "y")
    train = synthetic_series.to_numpy()[:prepared.train_end]
    np.testing.assert_allclose(prepared.scaler.center, train.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(prepared.scaler.scale, train.std(axis=0))
    # The whole series has other statistics (it has a trend), so fitting on all of it would show.
    assert abs(prepared.scaler.center[0] - synthetic_series["y"].mean()) > 0.5


def test_given_scaler_is_reused_not_refit(synthetic_series: pd.DataFrame) -> None:
    config = _config(features=("x",))
    fitted = prepare(synthetic_series, config, "y").scaler
    shifted = synthetic_series + 100.0
    again = prepare(shifted, config, "y", scaler=fitted)
    assert again.scaler is fitted
    with pytest.raises(DataError, match="1 input columns but the model was trained on 2"):
        prepare(synthetic_series, _config(), "y", scaler=fitted)


# ---------------------------------------------------------------- windows

def test_input_windows_exact_contents() -> None:
    values = np.arange(10.0).reshape(10, 1)  # (T, 1)
    inputs = input_windows(values, np.array([2, 5, 7]), window=3)
    assert inputs.shape == (3, 3, 1)
    np.testing.assert_array_equal(inputs[..., 0], [[0, 1, 2], [3, 4, 5], [5, 6, 7]])


def test_input_windows_keep_every_column_and_end_at_the_origin() -> None:
    values = np.stack([np.arange(6.0), -np.arange(6.0)], axis=1)  # (6, 2)
    inputs = input_windows(values, np.array([1, 5]), window=2)
    assert inputs.shape == (2, 2, 2)
    np.testing.assert_array_equal(inputs[0], [[0, 0], [1, -1]])
    np.testing.assert_array_equal(inputs[1], [[4, -4], [5, -5]])  # the last origin: no target needed beyond it


@pytest.mark.parametrize("window, horizon, transform", [(10, 1, "none"), (7, 4, "none"), (5, 3, "diff")])
def test_origins_respect_the_split(synthetic_series: pd.DataFrame, window, horizon, transform) -> None:
    prepared = prepare(synthetic_series, _config(window=window, horizon=horizon, transform=transform), "y")
    steps = np.arange(1, horizon + 1)
    first_row = 0 if transform == "none" else 1
    train_targets = prepared.train_origins[:, None] + steps
    val_targets = prepared.val_origins[:, None] + steps
    test_targets = prepared.test_origins[:, None] + steps
    assert train_targets.max() < prepared.train_end
    assert val_targets.min() >= prepared.train_end and val_targets.max() < prepared.val_end
    assert test_targets.min() >= prepared.val_end and test_targets.max() < len(prepared.y)
    # Every input window starts inside the usable data.
    assert prepared.train_origins.min() - window + 1 == first_row
    # Nothing usable is left out: the parts are contiguous and end where the data ends.
    assert prepared.val_origins[0] == prepared.train_end - 1
    assert prepared.test_origins[0] == prepared.val_end - 1
    assert test_targets.max() == len(prepared.y) - 1


def test_prepared_arrays_are_consistent(synthetic_series: pd.DataFrame) -> None:
    prepared = prepare(synthetic_series, _config(features=("x",)), "y")
    assert prepared.inputs.shape == (len(synthetic_series), 2) and prepared.inputs.dtype == np.float32
    np.testing.assert_array_equal(prepared.target, prepared.inputs[:, 0])
    np.testing.assert_array_equal(prepared.y, synthetic_series["y"].to_numpy())
    np.testing.assert_allclose(prepared.scaler.inverse(prepared.inputs[:, 0].astype(np.float64), column=0),
                               prepared.y, rtol=1e-5)
    assert prepared.index.equals(synthetic_series.index)


def test_too_short_series_says_use_shorter_window(synthetic_series: pd.DataFrame) -> None:
    with pytest.raises(DataError) as caught:
        prepare(synthetic_series.iloc[:40], _config(window=30), "y")
    message = str(caught.value)
    assert "window of 30" in message and "shorter window" in message and "40 usable rows" in message
    assert "the largest window that fits is 26" in message and "70%/15%/15% split" in message


def test_empty_data_is_refused() -> None:
    with pytest.raises(DataError, match="empty"):
        prepare(pd.DataFrame(), _config(), "y")


def test_prepare_with_gaps_and_resample(synthetic_series: pd.DataFrame) -> None:
    frame = synthetic_series.copy()
    frame.iloc[10:15, 0] = np.nan
    prepared = prepare(frame, _config(window=5), "y")
    assert len(prepared.y) == len(frame) and np.all(np.isfinite(prepared.y))
    weekly = prepare(frame, _config(window=5, resample="W"), "y")
    assert len(weekly.y) < len(frame) // 6


# ---------------------------------------------------------------- dates missing from the calendar

TWO_MISSING = [pd.Timestamp("1984-12-31"), pd.Timestamp("1988-12-31")]


def _daily_with_two_missing() -> pd.DataFrame:
    """Daily 1984-1989 whose value is the day number, with 1984-12-31 and 1988-12-31 left out."""
    index = pd.date_range("1984-01-01", "1989-12-31", freq="D", name="date")
    return pd.DataFrame({"y": np.arange(len(index), dtype="float64")}, index=index).drop(TWO_MISSING)


@pytest.mark.parametrize("freq, dropped", [
    ("D", ["2024-01-05", "2024-02-10"]),
    ("h", ["2024-01-01 05:00"]),
    ("15min", ["2024-01-01 00:30", "2024-01-01 09:45"]),
    ("MS", ["2024-03-01", "2025-07-01"]),
    ("ME", ["2024-02-29"]),
    ("W-SUN", ["2024-02-04"]),
])
def test_missing_timestamps_lists_what_the_regular_calendar_lacks(freq: str, dropped: list[str]) -> None:
    grid = pd.date_range("2024-01-01", periods=200, freq=freq)
    index = grid.drop(pd.DatetimeIndex(dropped))
    missing = missing_timestamps(index, freq)
    assert list(missing) == list(pd.DatetimeIndex(dropped))
    assert missing_timestamps(grid, freq).empty


def test_missing_timestamps_never_invents_trading_holidays() -> None:
    # Business days with Good Friday and Christmas missing: markets were closed, nothing is missing.
    index = pd.bdate_range("2024-03-01", "2024-12-31").drop([pd.Timestamp("2024-03-29"), pd.Timestamp("2024-12-25")])
    assert missing_timestamps(index, "B").empty
    assert missing_timestamps(index, "BMS").empty


def test_missing_timestamps_of_irregular_or_off_calendar_series_is_empty() -> None:
    index = pd.DatetimeIndex(["2024-01-01", "2024-01-03", "2024-01-10", "2024-02-01"])
    assert missing_timestamps(index, None).empty
    assert missing_timestamps(pd.date_range("2024-01-15", periods=12, freq="30D"), "MS").empty  # not on that calendar
    assert missing_timestamps(pd.RangeIndex(10), "D").empty


def test_clean_interpolates_missing_dates_and_says_so() -> None:
    frame = _daily_with_two_missing()
    cleaned = clean(frame, _config(missing="interpolate"), "y")
    assert len(cleaned) == len(frame) + 2
    assert cleaned.index.equals(pd.date_range("1984-01-01", "1989-12-31", freq="D", name="date"))
    # The day number is linear in time, so interpolation gives back exactly the day numbers that were dropped.
    full = pd.date_range("1984-01-01", "1989-12-31", freq="D")
    for day in TWO_MISSING:
        assert cleaned.loc[day, "y"] == pytest.approx(float(full.get_loc(day)))
    gaps = calendar_gaps(frame, _config(missing="interpolate"))
    assert len(gaps) == 2 and gaps.freq == "D"
    assert gaps.note() == ("2 dates missing from the daily calendar: 1984-12-31, 1988-12-31 "
                           "(filled by interpolation).")


def test_clean_forward_fills_missing_dates() -> None:
    cleaned = clean(_daily_with_two_missing(), _config(missing="ffill"), "y")
    assert cleaned.loc["1984-12-31", "y"] == cleaned.loc["1984-12-30", "y"]
    assert "filled with the last value before each" in calendar_gaps(_daily_with_two_missing(), _config(missing="ffill")).note()


def test_clean_with_drop_leaves_missing_dates_absent() -> None:
    frame = _daily_with_two_missing()
    cleaned = clean(frame, _config(missing="drop"), "y")
    assert len(cleaned) == len(frame) and not cleaned.index.isin(TWO_MISSING).any()
    assert "(left as gaps, so windows span them)" in calendar_gaps(frame, _config(missing="drop")).note()


def test_clean_inserts_no_holidays_into_trading_days() -> None:
    index = pd.bdate_range("2023-01-02", "2024-12-31", name="date").drop(
        [pd.Timestamp("2023-12-25"), pd.Timestamp("2024-07-04")])
    frame = pd.DataFrame({"y": np.linspace(1.0, 2.0, len(index))}, index=index)
    cleaned = clean(frame, _config(), "y")
    assert cleaned.index.equals(frame.index)
    assert len(calendar_gaps(frame, _config())) == 0 and calendar_gaps(frame, _config()).note() == ""


def test_resampling_already_gives_the_full_calendar() -> None:
    frame = _daily_with_two_missing()
    weekly = clean(frame, _config(resample="W"), "y")
    assert weekly.index.equals(resample_frame(frame, "W").index)
    assert len(calendar_gaps(frame, _config(resample="W"))) == 0


def test_gap_note_lists_five_and_counts_the_rest() -> None:
    index = pd.date_range("2024-01-01 00:00", periods=500, freq="h", name="date")
    frame = pd.DataFrame({"y": np.ones(len(index))}, index=index).drop(index[10:17])
    note = calendar_gaps(frame, _config()).note()
    assert note.startswith("7 timestamps missing from the hourly calendar: 2024-01-01 10:00, 2024-01-01 11:00, ")
    assert note.endswith("2024-01-01 14:00 and 2 more (filled by interpolation).")
    one = pd.DataFrame({"y": np.ones(36)}, index=pd.date_range("2020-01-01", periods=36, freq="MS")).drop(
        [pd.Timestamp("2021-05-01")])
    assert calendar_gaps(one, _config()).note().startswith("1 date missing from the monthly calendar: 2021-05-01 ")


def test_prepare_lines_up_on_the_full_calendar_every_time() -> None:
    frame = _daily_with_two_missing()
    first, again = prepare(frame, _config(), "y"), prepare(frame, _config(), "y")
    assert first.index.equals(again.index) and len(first.index) == len(frame) + 2
    np.testing.assert_array_equal(first.y, again.y)
    assert first.index.freq is None or first.index.freqstr == "D"
    assert (np.diff(first.index.asi8) == np.diff(first.index.asi8)[0]).all()  # every step one day


# ---------------------------------------------------------------- what fits a short series

SPLITS = [(0.7, 0.15, 0.15), (0.8, 0.1, 0.1), (0.6, 0.2, 0.2), (0.9, 0.05, 0.05)]


def _rows(n: int) -> pd.DataFrame:
    index = pd.date_range("2020-01-01", periods=n, freq="D", name="date")
    return pd.DataFrame({"y": 10.0 + np.sin(np.arange(n) / 3.0)}, index=index)


def _prepares(n: int, **changes) -> bool:
    try:
        prepare(_rows(n), _config(**changes), "y")
    except DataError:
        return False
    return True


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("n_rows, horizon, transform", [(40, 1, "none"), (40, 3, "diff"), (120, 7, "none"), (23, 2, "logret")])
def test_largest_window_is_what_prepare_accepts(n_rows, horizon, transform, split) -> None:
    window = largest_window(n_rows, horizon, split, transform)
    if window is None:  # e.g. a 5% validation part of 40 rows is shorter than a horizon of 3
        assert not _prepares(n_rows, window=2, horizon=horizon, split=split, transform=transform)
        return
    assert _prepares(n_rows, window=window, horizon=horizon, split=split, transform=transform)
    assert not _prepares(n_rows, window=window + 1, horizon=horizon, split=split, transform=transform)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("n_rows, window, transform", [(40, 5, "none"), (80, 10, "diff"), (300, 30, "none")])
def test_largest_horizon_is_what_prepare_accepts(n_rows, window, transform, split) -> None:
    horizon = largest_horizon(n_rows, window, split, transform)
    if horizon is None:
        assert not _prepares(n_rows, window=window, horizon=1, split=split, transform=transform)
        return
    assert _prepares(n_rows, window=window, horizon=horizon, split=split, transform=transform)
    assert not _prepares(n_rows, window=window, horizon=horizon + 1, split=split, transform=transform)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("window, horizon, transform", [(2, 1, "none"), (2, 1, "diff"), (10, 3, "none")])
def test_rows_needed_is_where_prepare_starts_to_accept(window, horizon, transform, split) -> None:
    needed = rows_needed(window, horizon, split, transform)
    assert not _prepares(needed - 1, window=window, horizon=horizon, split=split, transform=transform)
    # From there on every longer series fits, whatever the rounding of the split.
    assert all(_prepares(n, window=window, horizon=horizon, split=split, transform=transform)
               for n in range(needed, needed + 25))


def test_window_counts_match_prepared_origins() -> None:
    prepared = prepare(_rows(100), _config(window=7, horizon=3, transform="diff"), "y")
    assert window_counts(100, 7, 3, (0.7, 0.15, 0.15), "diff") == (
        len(prepared.train_origins), len(prepared.val_origins), len(prepared.test_origins))
    assert fits(100, 7, 3, (0.7, 0.15, 0.15), "diff") and not fits(5, 2, 1, (0.7, 0.15, 0.15))


def test_too_long_window_names_the_largest_that_fits() -> None:
    with pytest.raises(DataError) as caught:
        prepare(_rows(40), _config(window=60, horizon=1), "y")
    assert str(caught.value) == (
        "The series has 40 usable rows, too few for a window of 60 and a horizon of 1 with a 70%/15%/15% split; "
        "use a shorter window (the largest window that fits is 26), or more data.")


def test_too_long_horizon_names_the_largest_that_fits() -> None:
    with pytest.raises(DataError) as caught:
        prepare(_rows(40), _config(window=5, horizon=20), "y")
    message = str(caught.value)
    assert "a horizon of 20" in message and "a shorter horizon (at most 6 with a window of 5)" in message


def test_window_and_horizon_both_too_long() -> None:
    with pytest.raises(DataError) as caught:
        prepare(_rows(40), _config(window=30, horizon=10), "y")
    assert "use a shorter window and horizon (with a horizon of 1 the largest window that fits is 26)" in str(caught.value)


def test_series_too_short_for_any_model_says_how_many_rows_are_needed() -> None:
    with pytest.raises(DataError) as caught:
        prepare(_rows(5), _config(window=2, horizon=1), "y")
    assert str(caught.value) == (
        "The series has 5 usable rows, too few for any model with a 70%/15%/15% split: even the smallest "
        "(a window of 2 and a horizon of 1) needs at least 6 rows; load more data.")
    assert "shorter window" not in str(caught.value)  # window 2 and horizon 1 are already the least


def test_short_series_message_names_the_starved_part_and_resampling() -> None:
    message = short_series_message(8, (0.9, 0.05, 0.05))
    assert "8 usable rows" in message and "at least 16 rows" in message
    assert message.endswith("load more data or give the test part a larger share.")
    coarse = short_series_message(4, (0.7, 0.15, 0.15), resample="MS")
    assert coarse.endswith("; load more data or resample less coarsely.")
    assert short_series_message(6, (0.7, 0.15, 0.15)) is None


# ---------------------------------------------------------------- calendar inputs

def _pair(terms: pd.DataFrame, term: str, when: str) -> tuple[float, float]:
    row = terms.loc[pd.Timestamp(when)]
    return float(row[f"{term}_sin"]), float(row[f"{term}_cos"])


def test_hourly_calendar_has_hour_and_day_of_week_and_day_of_year_from_two_years() -> None:
    one_year = pd.date_range("2010-01-01", "2010-12-31 23:00", freq="h")
    terms = calendar_terms(one_year, "h")
    assert list(terms.columns) == ["hour_sin", "hour_cos", "dow_sin", "dow_cos"]
    assert terms.index.equals(one_year)
    np.testing.assert_allclose(_pair(terms, "hour", "2010-03-01 00:00"), (0.0, 1.0), atol=1e-12)
    np.testing.assert_allclose(_pair(terms, "hour", "2010-03-01 06:00"), (1.0, 0.0), atol=1e-12)
    np.testing.assert_allclose(_pair(terms, "hour", "2010-03-01 18:00"), (-1.0, 0.0), atol=1e-12)
    # 2010-03-01 is a Monday: the week starts there; Thursday noon is half way round.
    np.testing.assert_allclose(_pair(terms, "dow", "2010-03-01 00:00"), (0.0, 1.0), atol=1e-12)
    np.testing.assert_allclose(_pair(terms, "dow", "2010-03-04 12:00"), (0.0, -1.0), atol=1e-12)
    two_years = pd.date_range("2010-01-01", "2011-12-31 23:00", freq="h")
    assert calendar_names(two_years, "h")[-2:] == ("doy_sin", "doy_cos")
    assert describe_calendar(calendar_names(two_years, "h"), "h") == "hour of day, day of week, day of year"
    assert calendar_names(pd.date_range("2010-01-01", periods=500, freq="15min"), "15min")[:2] == ("hour_sin",
                                                                                                  "hour_cos")


def test_daily_calendar_has_day_of_week_and_day_of_year() -> None:
    days = pd.date_range("2012-01-01", "2015-12-31", freq="D")
    terms = calendar_terms(days, "D")
    assert list(terms.columns) == ["dow_sin", "dow_cos", "doy_sin", "doy_cos"]
    np.testing.assert_allclose(_pair(terms, "doy", "2013-01-01"), (0.0, 1.0), atol=1e-12)
    np.testing.assert_allclose(_pair(terms, "doy", "2013-07-02"), (np.sin(2 * np.pi * 182 / 365),
                                                                   np.cos(2 * np.pi * 182 / 365)), atol=1e-12)
    np.testing.assert_allclose(_pair(terms, "doy", "2012-12-31"), (np.sin(2 * np.pi * 365 / 366),
                                                                   np.cos(2 * np.pi * 365 / 366)), atol=1e-12)
    # Every seventh day the same day-of-week pair, and seven different pairs in a week.
    np.testing.assert_allclose(terms["dow_sin"].to_numpy()[7:], terms["dow_sin"].to_numpy()[:-7], atol=1e-12)
    assert len(np.unique(terms[["dow_sin", "dow_cos"]].iloc[:7].round(9).to_numpy(), axis=0)) == 7
    # Under two years, day of year would only say where in the series a row is: it is left out.
    assert calendar_names(days[:700], "D") == ("dow_sin", "dow_cos")


def test_business_day_calendar_cycles_over_five_trading_days() -> None:
    trading = pd.bdate_range("2015-01-05", "2017-12-29")
    terms = calendar_terms(trading, "B")
    assert list(terms.columns) == ["dow_sin", "dow_cos", "doy_sin", "doy_cos"]
    for day, weekday in zip(("2015-01-05", "2015-01-07", "2015-01-09"), (0, 2, 4)):  # Monday, Wednesday, Friday
        angle = 2 * np.pi * weekday / 5
        np.testing.assert_allclose(_pair(terms, "dow", day), (np.sin(angle), np.cos(angle)), atol=1e-12)
    assert describe_calendar(tuple(terms.columns), "B") == "day of the trading week, day of year"


@pytest.mark.parametrize("freq,start,term,when,month_phase", [
    ("MS", "2000-01-01", "month", "2000-04-01", 3 / 12),
    ("ME", "2000-01-31", "month", "2000-04-30", 3 / 12),
    ("QS", "2000-01-01", "quarter", "2000-10-01", 3 / 4),
])
def test_monthly_and_quarterly_calendars(freq, start, term, when, month_phase) -> None:
    index = pd.date_range(start, periods=40, freq=freq)
    terms = calendar_terms(index, freq)
    assert list(terms.columns) == [f"{term}_sin", f"{term}_cos"]
    angle = 2 * np.pi * month_phase
    np.testing.assert_allclose(_pair(terms, term, when), (np.sin(angle), np.cos(angle)), atol=1e-12)


@pytest.mark.parametrize("freq", ["YS", "YE", None, "not a frequency"])
def test_yearly_and_irregular_series_get_no_calendar(freq) -> None:
    index = pd.date_range("1990-01-01", periods=30, freq="YS")
    terms = calendar_terms(index, freq)
    assert terms.shape == (30, 0) and calendar_names(index, freq) == () and describe_calendar((), freq) == ""


@pytest.mark.parametrize("freq,index", [
    ("h", pd.date_range("2010-01-01", periods=20_000, freq="h")),
    ("D", pd.date_range("2010-01-01", periods=1_000, freq="D")),
    ("B", pd.bdate_range("2010-01-01", periods=1_000)),
    ("W-SUN", pd.date_range("2010-01-03", periods=200, freq="W-SUN")),
    ("MS", pd.date_range("2000-01-01", periods=40, freq="MS")),
])
def test_calendar_terms_lie_on_the_unit_circle_and_invert_to_their_phases(freq, index) -> None:
    terms = calendar_terms(index, freq)
    assert terms.shape[1] >= 2 and np.all(np.abs(terms.to_numpy()) <= 1.0)
    phases = calendar_phases(terms)
    for term in phases:
        np.testing.assert_allclose(terms[f"{term}_sin"] ** 2 + terms[f"{term}_cos"] ** 2, 1.0, atol=1e-12)
        assert phases[term].between(0.0, 1.0, inclusive="left").all()
    if "hour" in phases:
        np.testing.assert_allclose(phases["hour"] * 24, index.hour, atol=1e-9)
    if "month" in phases:
        np.testing.assert_allclose(np.round(phases["month"] * 12), index.month - 1, atol=1e-9)


def test_calendar_terms_rebuild_given_columns_and_refuse_foreign_ones() -> None:
    short = pd.date_range("2010-01-01", periods=100, freq="h")  # too short for day of year by itself
    asked = ("hour_sin", "hour_cos", "dow_sin", "dow_cos", "doy_sin", "doy_cos")
    assert tuple(calendar_terms(short, "h", asked).columns) == asked
    with pytest.raises(ValueError, match="month_sin"):
        calendar_terms(short, "h", ("month_sin",))


def test_next_timestamps_step_to_the_next_row_and_past_the_end_on_the_calendar() -> None:
    trading = pd.DatetimeIndex(["2015-12-30", "2015-12-31", "2016-01-04", "2016-01-08"])  # holidays and gaps
    assert list(next_timestamps(trading, "B")) == [pd.Timestamp(d) for d in ("2015-12-31", "2016-01-04",
                                                                             "2016-01-08", "2016-01-11")]


def _calendar_config(**changes) -> DataConfig:
    return _config(calendar=True, **changes)


def test_calendar_inputs_follow_the_scaled_columns_unscaled(synthetic_series: pd.DataFrame) -> None:
    long = synthetic_series.reindex(pd.date_range("2020-01-01", periods=900, freq="D", name="date")).interpolate()
    prepared = prepare(long, _calendar_config(features=("x",)), "y")
    plain = prepare(long, _config(features=("x",)), "y")
    assert prepared.calendar_columns == ("dow_sin", "dow_cos", "doy_sin", "doy_cos")
    assert prepared.inputs.shape == (900, 2 + 4) and prepared.inputs.dtype == np.float32
    np.testing.assert_array_equal(prepared.inputs[:, :2], plain.inputs)  # the data columns are untouched
    np.testing.assert_array_equal(prepared.target, plain.target)
    assert prepared.scaler.center.shape == (2,)  # sized for the data columns only
    np.testing.assert_array_equal(prepared.scaler.center, plain.scaler.center)
    assert plain.calendar_columns == ()
    assert np.all(np.abs(prepared.inputs[:, 2:]) <= 1.0)


def test_each_row_carries_the_calendar_of_the_next_step(synthetic_series: pd.DataFrame) -> None:
    prepared = prepare(synthetic_series, _calendar_config(), "y")
    index = synthetic_series.index
    known = prepared.inputs[:, 1:].astype(np.float64)  # (T, 2): day of week of row t + 1
    expected = calendar_terms(index[1:], "D", prepared.calendar_columns).to_numpy()
    np.testing.assert_allclose(known[:-1], expected, atol=1e-6)
    after_the_end = calendar_terms(pd.DatetimeIndex([index[-1] + pd.Timedelta(days=1)]), "D",
                                   prepared.calendar_columns).to_numpy()
    np.testing.assert_allclose(known[-1], after_the_end[0], atol=1e-6)
    # So a window's last row (its origin) carries the calendar of the first step forecast.
    origin = int(prepared.test_origins[0])
    first_step = calendar_terms(index[[origin + 1]], "D", prepared.calendar_columns).to_numpy()[0]
    np.testing.assert_allclose(input_windows(prepared.inputs, np.array([origin]), 10)[0, -1, 1:], first_step, atol=1e-6)


def test_calendar_inputs_depend_on_the_timestamps_only(synthetic_series: pd.DataFrame) -> None:
    config = _calendar_config(features=("x",), transform="diff")
    prepared = prepare(synthetic_series, config, "y")
    other_values = synthetic_series * 3.0 + 100.0
    other_values.iloc[1:-1:5] = np.nan  # gaps to fill change values, not dates
    changed = prepare(other_values, config, "y")
    np.testing.assert_array_equal(changed.inputs[1:, 2:], prepared.inputs[1:, 2:])
    assert not np.array_equal(changed.inputs[:, :2], prepared.inputs[:, :2])
    shifted = synthetic_series.set_axis(synthetic_series.index + pd.Timedelta(days=1))
    moved = prepare(shifted, config, "y")
    np.testing.assert_array_equal(moved.inputs[:, :2], prepared.inputs[:, :2])
    assert not np.allclose(moved.inputs[:, 2:], prepared.inputs[:, 2:])
    np.testing.assert_allclose(moved.inputs[:-1, 2:], prepared.inputs[1:, 2:], atol=1e-6)  # one day later


def test_trading_days_carry_the_next_trading_day_across_holidays() -> None:
    days = pd.bdate_range("2015-01-01", "2017-12-29").drop(pd.DatetimeIndex(["2015-12-25", "2016-01-01"]))
    frame = pd.DataFrame({"y": np.linspace(1.0, 2.0, len(days))}, index=days)
    prepared = prepare(frame, _calendar_config(), "y")
    assert prepared.calendar_columns == ("dow_sin", "dow_cos", "doy_sin", "doy_cos")
    row = int(days.get_loc(pd.Timestamp("2015-12-24")))  # Thursday before Christmas: next is Monday the 28th
    monday = calendar_terms(pd.DatetimeIndex(["2015-12-28"]), "B", prepared.calendar_columns).to_numpy()[0]
    np.testing.assert_allclose(prepared.inputs[row, 1:], monday, atol=1e-6)


def test_calendar_without_terms_changes_nothing() -> None:
    years = pd.date_range("1900-01-01", periods=120, freq="YS")
    frame = pd.DataFrame({"y": np.sin(np.arange(120) / 3.0)}, index=years)
    on, off = prepare(frame, _calendar_config(window=5), "y"), prepare(frame, _config(window=5), "y")
    assert on.calendar_columns == () and on.inputs.shape == (120, 1)
    np.testing.assert_array_equal(on.inputs, off.inputs)


def test_a_fitted_models_calendar_columns_are_rebuilt_on_new_data(synthetic_series: pd.DataFrame) -> None:
    asked = ("dow_sin", "dow_cos", "doy_sin", "doy_cos")  # a model fitted on years of data
    prepared = prepare(synthetic_series, _calendar_config(), "y", freq="D", calendar=asked)
    assert prepared.calendar_columns == asked and prepared.inputs.shape == (600, 5)
    undated = synthetic_series.reset_index(drop=True)
    with pytest.raises(DataError, match="calendar inputs, which need dates"):
        prepare(undated, _calendar_config(), "y", calendar=asked)
    assert prepare(undated, _calendar_config(), "y").calendar_columns == ()
