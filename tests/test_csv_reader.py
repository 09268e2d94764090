"""Tests for forecaster.csv_reader: delimiter, decimal mark, encoding and date column detected; bad files refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecaster import csv_reader
from forecaster.csv_reader import read_csv
from forecaster.errors import DataError
from tests.test_series import assert_tidy

DATA = Path(__file__).parent / "data"
GOOD, BAD = DATA / "good", DATA / "bad"


# ------------------------------------------------------------------------------------------- good CSV files

def test_yahoo_export():
    ds = read_csv(GOOD / "yahoo_aapl.csv")
    assert_tidy(ds)
    assert ds.target == "Close" and ds.name == "yahoo_aapl.csv" and ds.source == str(GOOD / "yahoo_aapl.csv")
    assert list(ds.frame.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert len(ds.frame) == 60 and ds.freq == "B"  # two holidays are missing, still trading days
    assert ds.detected["delimiter"] == "," and ds.detected["decimal"] == "." and ds.detected["date_column"] == "Date"
    assert ds.frame.index[0] == pd.Timestamp("2024-01-02")
    assert ds.frame["Close"].iloc[0] == pytest.approx(185.002731)
    assert ds.notes == ()


def test_semicolon_decimal_comma_latin1():
    ds = read_csv(GOOD / "weather_semicolon_decimal_comma.csv")
    assert_tidy(ds)
    d = ds.detected
    assert (d["delimiter"], d["decimal"], d["date_column"]) == (";", ",", "Datum")
    assert d["encoding"] in ("cp1252", "latin-1")
    assert list(ds.frame.columns) == ["Temperatur (°C)", "Niederschlag (mm)", "Windstärke"]
    assert ds.target == "Temperatur (°C)" and ds.unit == "°C"
    assert ds.frame["Temperatur (°C)"].iloc[0] == 12.5  # from "12,5"
    assert ds.frame.index[0] == pd.Timestamp("2023-03-01") and ds.frame.index[1] == pd.Timestamp("2023-03-02")
    assert ds.freq == "D" and len(ds.frame) == 30


def test_tab_with_utf8_bom():
    ds = read_csv(GOOD / "utf8_bom_tab.tsv")
    assert_tidy(ds)
    d = ds.detected
    assert (d["delimiter"], d["encoding"], d["date_column"]) == ("\t", "utf-8-sig", "timestamp")
    assert "Load (MW)" in ds.frame.columns and d["dropped_columns"] == ["site"]
    assert ds.target == "Temperatur °C"  # a temperature-like name wins over the first column
    assert ds.freq == "h" and len(ds.frame) == 48
    assert any("site" in note for note in ds.notes)


def test_pipe_delimited_with_quoted_delimiter():
    ds = read_csv(GOOD / "pipe_monthly.csv")
    assert_tidy(ds)
    assert ds.detected["delimiter"] == "|" and ds.detected["date_column"] == "month"
    assert ds.target == "sales" and ds.freq == "MS" and len(ds.frame) == 36
    assert ds.frame.index[0] == pd.Timestamp("2020-01-01")


def test_duplicates_are_averaged_and_rows_sorted():
    ds = read_csv(GOOD / "duplicates_unsorted.csv")
    assert_tidy(ds)
    assert len(ds.frame) == 10 and ds.target == "value"
    assert ds.frame.loc["2024-01-04", "value"] == pytest.approx((13.0 + 20.0) / 2)
    assert ds.frame.loc["2024-01-08", "value"] == pytest.approx((17.0 + 30.0) / 2)
    assert "Averaged 2 duplicate timestamps." in ds.notes
    assert "Rows were not in date order; sorted them." in ds.notes


def test_bytes_work_like_a_path_and_are_not_mutated():
    path = GOOD / "weather_semicolon_decimal_comma.csv"
    raw = bytearray(path.read_bytes())
    before = bytes(raw)
    from_bytes = read_csv(raw, name="wetter.csv")
    assert bytes(raw) == before
    from_path = read_csv(path)
    pd.testing.assert_frame_equal(from_bytes.frame, from_path.frame)
    assert from_bytes.source == "upload:wetter.csv" and from_bytes.name == "wetter.csv"
    assert from_bytes.detected == from_path.detected


def test_user_target_and_features():
    ds = read_csv(GOOD / "yahoo_aapl.csv", target="Volume", features=["Open", "High"])
    assert ds.target == "Volume" and ds.features == ("Open", "High")
    with pytest.raises(DataError, match=r"no numeric column 'Nope'.*Open, High, Low, Close, Adj Close, Volume"):
        read_csv(GOOD / "yahoo_aapl.csv", target="Nope")
    with pytest.raises(DataError, match=r"'Missing'.*feature.*Close"):
        read_csv(GOOD / "yahoo_aapl.csv", features=["Missing"])
    with pytest.raises(DataError, match="is the date column"):
        read_csv(GOOD / "yahoo_aapl.csv", target="Date")


def test_explicit_options_override_detection():
    text = "when;x;y\n2024-01-01;1.5;2\n2024-01-02;2.5;3\n2024-01-03;3.5;4\n"
    ds = read_csv(text.encode(), delimiter=";", decimal=".", encoding="utf-8", date_column="when", target="y")
    assert ds.target == "y" and ds.frame["x"].tolist() == [1.5, 2.5, 3.5]
    with pytest.raises(DataError, match="There is no column 'then'"):
        read_csv(text.encode(), date_column="then")
    with pytest.raises(DataError, match="not a text encoding"):
        read_csv(text.encode(), encoding="klingon")


@pytest.mark.parametrize("text, expected", [
    ("Date,Price\n2024-01-01,\"1,234.50\"\n2024-01-02,\"1,300.25\"\n2024-01-03,\"1,310.00\"\n", [1234.5, 1300.25, 1310.0]),
    ("Datum;Kurs\n01.01.2024;1.234,5\n02.01.2024;1.300,25\n03.01.2024;1.310,0\n", [1234.5, 1300.25, 1310.0]),
    ("date,v\n1/2/2024,1\n1/3/2024,2\n1/4/2024,3\n", [1.0, 2.0, 3.0]),  # US month-first
])
def test_thousands_separators_and_date_styles(text, expected):
    ds = read_csv(text.encode())
    assert ds.frame.iloc[:, 0].tolist() == expected
    assert ds.frame.index[0] == pd.Timestamp("2024-01-01") or ds.frame.index[0] == pd.Timestamp("2024-01-02")
    assert ds.frame.index[1] - ds.frame.index[0] == pd.Timedelta(days=1)


def test_dates_found_by_values_timezones_removed_and_inf_noted():
    text = ("when it happened,reading\n2024-03-01T00:00:00+01:00,1\n2024-03-01T01:00:00+01:00,inf\n"
            "2024-03-01T02:00:00+01:00,3\n2024-03-01T03:00:00+01:00,4\n")
    ds = read_csv(text.encode())
    assert_tidy(ds)
    assert ds.detected["date_column"] == "when it happened"
    assert ds.frame.index[0] == pd.Timestamp("2024-03-01 00:00")  # local wall-clock time kept
    assert np.isnan(ds.frame["reading"].iloc[1])
    assert any("infinite" in note for note in ds.notes) and ds.freq == "h"


def test_unix_timestamps_and_years_under_a_date_header():
    unix = read_csv(b"time,v\n1704067200,1\n1704070800,2\n1704074400,3\n")
    assert unix.frame.index[0] == pd.Timestamp("2024-01-01 00:00") and unix.freq == "h"
    years = read_csv(b"year,v\n2001,1\n2002,2\n2003,3\n")
    assert years.frame.index[2] == pd.Timestamp("2003-01-01")
    with pytest.raises(DataError, match="no column that looks like dates"):
        read_csv(b"a,b\n1.5,2\n2.5,3\n2023,4\n")  # plain numbers are not dates


def test_html_and_unicode_in_headers_stay_plain_text():
    text = "date,<script>alert(1)</script>,température ☀\n2024-01-01,1,2\n2024-01-02,2,3\n2024-01-03,3,4\n"
    ds = read_csv(text.encode())
    assert list(ds.frame.columns) == ["<script>alert(1)</script>", "température ☀"]
    assert ds.target == "température ☀"


def test_malformed_lines_and_bad_values_are_noted():
    text = ("date,v,w\n2024-01-01,1,2\n2024-01-02,2,3,99\n2024-01-03,oops,4\n2024-01-04,4,5\nnot a date,5,6\n"
            "2024-01-05,5,6\n")
    ds = read_csv(text.encode())
    assert len(ds.frame) == 4 and ds.frame["v"].isna().sum() == 1
    assert ds.detected["skipped_lines"] == 1
    joined = " ".join(ds.notes)
    assert "Skipped 1 malformed" in joined and "could not be read" in joined and "not numbers" in joined


# -------------------------------------------------------------------------------------------- bad CSV files

BAD_FILES = {
    "empty.csv": ("empty", {}),
    "header_only.csv": ("no data rows", {}),
    "binary_garbage.csv": ("binary", {}),
    "single_column.csv": ("only one column", {}),
    "no_date_column.csv": ("no column that looks like dates", {}),
    "no_numeric_column.csv": ("no column of numbers", {}),
    "target_all_missing.csv": ("no values in any row", {"target": "value"}),
    "too_few_rows.csv": ("at least 3 are needed", {}),
    "unparseable_dates.csv": ("could not be read as dates", {}),
}


@pytest.mark.parametrize("filename", sorted(BAD_FILES))
def test_bad_file_raises_a_specific_error(filename):
    words, options = BAD_FILES[filename]
    with pytest.raises(DataError, match=words) as caught:
        read_csv(BAD / filename, **options)
    message = str(caught.value)
    assert message.endswith(".") and "\n" not in message and "Traceback" not in message


def test_bad_file_messages_are_distinct():
    messages = set()
    for filename, (_, options) in BAD_FILES.items():
        with pytest.raises(DataError) as caught:
            read_csv(BAD / filename, **options)
        messages.add(str(caught.value))
    assert len(messages) == len(BAD_FILES)


def test_missing_path_and_limits(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="There is no file"):
        read_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_csv(tmp_path)
    wide = "date," + ",".join(f"c{i}" for i in range(csv_reader.MAX_COLUMNS + 1)) + "\n"
    with pytest.raises(DataError, match="at most 500"):
        read_csv(wide.encode())
    monkeypatch.setattr(csv_reader, "MAX_ROWS", 5)
    long = "date,v\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 10))
    with pytest.raises(DataError, match="more than 5 rows"):
        read_csv(long.encode())
    monkeypatch.setattr(csv_reader, "MAX_BYTES", 10)
    with pytest.raises(DataError, match="larger than"):
        read_csv(long.encode())


@given(st.one_of(st.binary(max_size=400), st.text(max_size=300).map(lambda s: s.encode("utf-8"))))
def test_any_input_gives_a_dataset_or_a_data_error(raw):
    try:
        ds = read_csv(raw)
    except DataError:
        return
    assert_tidy(ds)


_CSV_CELL = st.one_of(st.sampled_from(["2024-01-01", "01.02.2024", "1/2/2024", "", "NA", "1,5", "1.5", "-", "x", '"']),
                      st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(str), st.text(max_size=6))


@given(st.sampled_from([",", ";", "\t", "|"]),
       st.lists(st.lists(_CSV_CELL, min_size=1, max_size=4), min_size=1, max_size=8))
def test_csv_like_input_gives_a_dataset_or_a_data_error(delimiter, rows):
    raw = "\n".join(delimiter.join(row) for row in [["date", "value"]] + rows).encode("utf-8")
    try:
        ds = read_csv(raw)
    except DataError:
        return
    assert_tidy(ds)
