"""Tests for forecaster.csv_dates: which column holds the dates and how its values read."""

from __future__ import annotations

import pandas as pd
import pytest

from forecaster.csv_dates import find_dates, spread
from forecaster.errors import DataError


def test_a_date_header_wins_and_day_first_dots_read_as_days() -> None:
    table = pd.DataFrame({"value": ["1", "2", "3"], "Datum": ["31.01.2024", "01.02.2024", "02.02.2024"]})
    column, dates = find_dates(table, None)
    assert column == "Datum"
    assert list(dates) == list(pd.to_datetime(["2024-01-31", "2024-02-01", "2024-02-02"]))


def test_dates_are_found_by_their_values_but_bare_numbers_only_under_a_date_header() -> None:
    stamps = ["2024-03-01 10:00", "2024-03-01 11:00", "2024-03-01 12:00"]
    by_value = pd.DataFrame({"when": ["x", "y", "z"], "stamp": stamps})
    assert find_dates(by_value, None)[0] == "stamp"
    years = pd.DataFrame({"year": [2001, 2002, 2003], "count": [2001, 2002, 2003]})
    column, dates = find_dates(years, None)
    assert column == "year" and dates.dt.year.tolist() == [2001, 2002, 2003]
    with pytest.raises(DataError, match="no column that looks like dates"):
        find_dates(years.rename(columns={"year": "n"}), None)


def test_a_named_date_column_that_is_not_there_lists_the_columns() -> None:
    with pytest.raises(DataError, match="no column 'day'; choose the date column from: a, b"):
        find_dates(pd.DataFrame({"a": [1], "b": [2]}), "day")


def test_spread_takes_evenly_from_the_whole_column_and_keeps_both_ends() -> None:
    values = pd.Series(range(1000), dtype="float64").where(lambda s: s % 7 != 0)
    taken = spread(values, 10)
    assert len(taken) == 10 and taken.notna().all()
    assert taken.iloc[0] == 1.0 and taken.iloc[-1] == 999.0
