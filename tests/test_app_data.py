"""AppTest of the Data page: samples, cleaning and split options, tickers (offline) and CSV uploads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import forecaster.yahoo as yahoo
from forecaster.windows import split_points

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/data.py"


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """A fresh ticker cache per test, so one test's download never answers another's."""
    monkeypatch.setenv("FORECASTER_HOME", str(tmp_path))


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def source_of(at: AppTest) -> str:
    return at.session_state["selection"].dataset.source


def using(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader if s.value.startswith("Using:")]


def caption_matching(at: AppTest, pattern: str) -> re.Match:
    for caption in at.caption:
        found = re.search(pattern, caption.value)
        if found:
            return found
    raise AssertionError(f"no caption matches {pattern!r}: {[c.value for c in at.caption]}")


def by_label(widgets, label: str):
    matches = [w for w in widgets if w.label == label]
    assert len(matches) == 1, (label, [w.label for w in widgets])
    return matches[0]


# ---------------------------------------------------------------------------------------------- samples

def test_default_sample(at):
    assert using(at) == ["Using: seattle-weather"]
    assert source_of(at) == "sample:seattle-weather"
    assert at.radio(key="_w_data_source").value == "Built-in sample"
    assert at.selectbox(key="_w_sample_Weather").value == "seattle-weather"
    assert by_label(at.selectbox, "Target (the column to forecast)").value == "temp_max"
    assert [m.label for m in at.metric] == ["Rows", "From", "To", "Frequency", "Missing values"]
    assert by_label(at.metric, "Rows").value == "1,461"
    assert len(at.get("plotly_chart")) == 1
    assert not at.error
    train_end, val_end = split_points(1461, (0.7, 0.15, 0.15))
    caption_matching(at, rf"After cleaning: 1,461 rows · train {train_end:,} · validation {val_end - train_end} · "
                         rf"test {1461 - val_end}\.")


def test_stocks_group_and_sample_change_the_selection(at):
    at.radio(key="_w_sample_group").set_value("Stocks").run()
    assert not at.exception
    first = at.selectbox(key="_w_sample_Stocks")
    assert first.value == "monthly-msft"  # the group's first sample
    assert source_of(at) == "sample:monthly-msft"
    assert using(at) == ["Using: monthly-msft"]

    at.selectbox(key="_w_sample_Stocks").set_value("sp500").run()
    assert not at.exception
    assert source_of(at) == "sample:sp500"
    assert using(at) == ["Using: sp500"]
    assert at.session_state["selection"].target == "Close"
    assert by_label(at.selectbox, "Target (the column to forecast)").value == "Close"

    # Back to weather: the remembered weather sample comes back.
    at.radio(key="_w_sample_group").set_value("Weather").run()
    assert source_of(at) == "sample:seattle-weather"


def test_target_and_features_change_the_selection(at):
    by_label(at.selectbox, "Target (the column to forecast)").set_value("temp_min").run()
    assert not at.exception
    assert at.session_state["selection"].target == "temp_min"
    features = by_label(at.multiselect, "Extra input features")
    assert "temp_min" not in features.options
    features.set_value(["wind"]).run()
    assert not at.exception
    assert at.session_state["selection"].features == ("wind",)


def test_cleaning_options_change_the_selection(at):
    by_label(at.selectbox, "Missing values").set_value("drop").run()
    by_label(at.selectbox, "Outliers").set_value("iqr").run()
    assert not at.exception
    selection = at.session_state["selection"]
    assert (selection.missing, selection.outliers, selection.resample) == ("drop", "iqr", None)

    by_label(at.selectbox, "Resample").set_value("W").run()
    assert not at.exception
    assert at.session_state["selection"].resample == "W"
    rows = int(caption_matching(at, r"After cleaning: ([\d,]+) rows").group(1).replace(",", ""))
    assert 200 <= rows <= 215  # four years of weeks, not 1,461 days

    by_label(at.selectbox, "Resample").set_value("keep").run()
    assert at.session_state["selection"].resample is None


def test_split_sliders_change_the_selection(at):
    train = by_label(at.slider, "Training part (%)")
    val = by_label(at.slider, "Validation part (%)")
    assert (train.min, train.max, val.min, val.max) == (40, 90, 5, 30)
    train.set_value(60).run()
    by_label(at.slider, "Validation part (%)").set_value(20).run()
    assert not at.exception
    assert at.session_state["selection"].split == pytest.approx((0.6, 0.2, 0.2))
    caption_matching(at, r"Test part: 20%")
    train_end, val_end = split_points(1461, (0.6, 0.2, 0.2))
    caption_matching(at, rf"train {train_end} · validation {val_end - train_end} · test {1461 - val_end}\.")
    assert 870 <= train_end <= 880


def test_split_leaving_no_test_part_shows_an_error(at):
    before = at.session_state["selection"]
    by_label(at.slider, "Training part (%)").set_value(90).run()
    by_label(at.slider, "Validation part (%)").set_value(10).run()
    assert not at.exception
    assert len(at.error) == 1
    assert "less than 5% for testing" in at.error[0].value
    assert at.session_state["selection"].split == before.split  # the impossible split is not taken
    assert not at.get("plotly_chart")

    by_label(at.slider, "Validation part (%)").set_value(5).run()  # exactly 5% left: allowed
    assert not at.error
    assert at.session_state["selection"].split == pytest.approx((0.9, 0.05, 0.05))


# ---------------------------------------------------------------------------------------------- tickers

def yahoo_like(days: int = 300) -> pd.DataFrame:
    """What yfinance 1.x returns: (Price, Ticker) MultiIndex columns on a tz-naive "Date" index."""
    index = pd.bdate_range("2022-01-03", periods=days, name="Date")
    close = 100 + np.cumsum(np.random.default_rng(1).normal(0, 1, days))
    fields = {"Adj Close": close * 0.99, "Close": close, "High": close + 1, "Low": close - 1, "Open": close,
              "Volume": np.full(days, 1e6)}
    columns = pd.MultiIndex.from_tuples([(f, "MSFT") for f in fields], names=["Price", "Ticker"])
    return pd.DataFrame(np.column_stack(list(fields.values())), index=index, columns=columns)


def choose_ticker(at: AppTest, symbol: str) -> None:
    at.radio(key="_w_data_source").set_value("Ticker").run()
    assert not at.exception
    by_label(at.text_input, "Symbol").set_value(symbol)
    by_label(at.button, "Download").click().run()


def test_ticker_offline_shows_a_network_error_and_keeps_the_selection(at, monkeypatch):
    calls = []

    def offline(symbol, **kwargs):
        calls.append(symbol)
        raise ConnectionError("Failed to resolve query1.finance.yahoo.com")

    monkeypatch.setattr(yahoo, "download", offline)
    choose_ticker(at, "MSFT")
    assert not at.exception
    assert calls == ["MSFT"]
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Could not reach Yahoo Finance" in message and "network" in message
    assert "sample" in message  # offers a way forward
    assert source_of(at) == "sample:seattle-weather"
    assert using(at) == ["Using: seattle-weather"]


def test_ticker_download_becomes_the_selection(at, monkeypatch):
    calls = []

    def fake(symbol, *, start, end, interval):
        calls.append((symbol, start, interval))
        return yahoo_like()

    monkeypatch.setattr(yahoo, "download", fake)
    choose_ticker(at, " msft ")
    assert not at.exception
    assert not at.error
    assert calls == [("MSFT", "2018-01-01", "1d")]
    selection = at.session_state["selection"]
    assert selection.dataset.source == "ticker:MSFT"
    assert selection.target == "Close"
    assert len(selection.dataset.frame) == 300
    assert using(at) == ["Using: MSFT"]
    assert by_label(at.metric, "Rows").value == "300"

    # Another rerun (a slider move) keeps the ticker without downloading again.
    by_label(at.slider, "Training part (%)").set_value(60).run()
    assert not at.exception
    assert source_of(at) == "ticker:MSFT"
    assert len(calls) == 1


# ---------------------------------------------------------------------------------------------- CSV

GOOD_CSV = ("Datum;Temperatur (°C);Station\n"
            + "".join(f"2021-03-{d:02d};{d},5;north\n" for d in range(1, 29))).encode("utf-8")
HEADER_ONLY_CSV = b"date,value\n"


def choose_csv(at: AppTest) -> None:
    at.radio(key="_w_data_source").set_value("Upload CSV").run()
    assert not at.exception


def upload(at: AppTest, name: str, payload: bytes) -> None:
    uploader = by_label(at.file_uploader, "CSV file")
    uploader.set_value((name, payload, "text/csv")).run()
    assert not at.exception


def test_csv_upload_is_detected_previewed_and_selected(at):
    choose_csv(at)
    assert not at.dataframe
    caption_matching(at, r"Upload a file with a date column")
    upload(at, "week.csv", GOOD_CSV)
    assert not at.error
    assert len(at.success) == 1
    detected = at.success[0].value
    assert detected.startswith("Detected: semicolon delimiter, decimal ','")
    assert "date column 'Datum'" in detected and "1 numeric columns" in detected and "28 rows" in detected
    assert len(at.dataframe) == 1
    preview = at.dataframe[0].value
    assert len(preview) == 20
    assert list(preview.columns) == ["Temperatur (°C)"]
    assert preview.iloc[0, 0] == pytest.approx(1.5)
    assert at.session_state["upload"] == ("week.csv", GOOD_CSV)
    selection = at.session_state["selection"]
    assert selection.dataset.source == "upload:week.csv"
    assert selection.target == "Temperatur (°C)"
    assert using(at) == ["Using: week.csv"]
    assert any("Station" in info.value for info in at.info)  # the dropped text column is mentioned


def test_csv_upload_kept_in_session_is_used(at):
    at.session_state["upload"] = ("week.csv", GOOD_CSV)
    choose_csv(at)
    assert not at.error
    assert at.success[0].value.startswith("Detected:")
    assert source_of(at) == "upload:week.csv"


def test_header_only_csv_shows_an_error_and_keeps_the_previous_selection(at):
    choose_csv(at)
    upload(at, "week.csv", GOOD_CSV)
    assert source_of(at) == "upload:week.csv"

    upload(at, "empty.csv", HEADER_ONLY_CSV)
    assert len(at.error) == 1
    assert "header row but no data rows" in at.error[0].value
    assert not at.success
    assert source_of(at) == "upload:week.csv"
    assert using(at) == ["Using: week.csv"]


def test_header_only_csv_as_first_upload_keeps_the_sample(at):
    choose_csv(at)
    upload(at, "empty.csv", HEADER_ONLY_CSV)
    assert len(at.error) == 1 and "no data rows" in at.error[0].value
    assert source_of(at) == "sample:seattle-weather"


def _daily_csv(dates: pd.DatetimeIndex) -> bytes:
    return ("date,value\n" + "".join(f"{d:%Y-%m-%d},{i + 1}.0\n" for i, d in enumerate(dates))).encode()


# 1984-1989 daily with two New Year's Eves left out: the reader still calls it daily.
GAPPY_DAYS = pd.date_range("1984-01-01", "1989-12-31", freq="D").drop(
    [pd.Timestamp("1984-12-31"), pd.Timestamp("1988-12-31")])
GAPPY_CSV = _daily_csv(GAPPY_DAYS)
FIVE_ROW_CSV = _daily_csv(pd.date_range("2024-01-01", periods=5, freq="D"))


def shapes(chart) -> list:
    import json

    return json.loads(chart.proto.spec)["layout"].get("shapes", [])


def test_csv_with_missing_dates_counts_and_names_them(at):
    choose_csv(at)
    upload(at, "gappy.csv", GAPPY_CSV)
    assert not at.error
    assert by_label(at.metric, "Frequency").value == "D"
    missing = by_label(at.metric, "Missing values")
    assert missing.value == "2"
    sentence = "2 dates missing from the daily calendar: 1984-12-31, 1988-12-31 (filled by interpolation)."
    assert sentence in missing.proto.help
    assert [i.value for i in at.info if "calendar" in i.value] == [sentence]
    n = len(GAPPY_DAYS) + 2  # the two dates are filled, so the split counts them
    train_end, val_end = split_points(n, (0.7, 0.15, 0.15))
    caption_matching(at, rf"After cleaning: {n:,} rows · train {train_end:,} · validation {val_end - train_end}")

    by_label(at.selectbox, "Missing values").set_value("drop").run()
    assert not at.exception
    assert by_label(at.metric, "Missing values").value == "2"
    assert [w.value for w in at.warning if "calendar" in w.value] == [
        "2 dates missing from the daily calendar: 1984-12-31, 1988-12-31 (left as gaps, so windows span them)."]
    caption_matching(at, rf"After cleaning: {len(GAPPY_DAYS):,} rows")


def test_csv_too_short_for_any_split_says_so_and_keeps_the_upload(at):
    choose_csv(at)
    upload(at, "five.csv", FIVE_ROW_CSV)
    assert [e.value for e in at.error] == [
        "The series has 5 usable rows, too few for any model with a 70%/15%/15% split: even the smallest "
        "(a window of 2 and a horizon of 1) needs at least 6 rows; load more data."]
    [chart] = at.get("plotly_chart")
    assert shapes(chart) == []  # no empty shaded parts
    caption_matching(at, r"After cleaning: 5 rows\.$")
    assert not [c for c in at.caption if "validation" in c.value and "train" in c.value]
    assert at.session_state["upload"] == ("five.csv", FIVE_ROW_CSV)
    assert source_of(at) == "upload:five.csv"


def test_full_split_draws_three_shaded_parts(at):
    [chart] = at.get("plotly_chart")
    assert len(shapes(chart)) == 3


# ---------------------------------------------------------------------------------------------- other pages' choices

def test_visiting_data_keeps_the_quick_start_selection(at, monkeypatch):
    from forecaster.ui import widgets

    monkeypatch.setattr(widgets, "start_job", lambda config, selection, label="": False)  # no training needed
    at.radio(key="_w_sample_group").set_value("Stocks").run()
    at.selectbox(key="_w_sample_Stocks").set_value("sp500").run()
    assert source_of(at) == "sample:sp500"

    at.switch_page("app.py").run()
    [quick] = [b for b in at.button if b.label == "Train a quick model"]
    quick.click().run()
    assert not at.exception
    assert source_of(at) == "sample:seattle-weather"

    at.switch_page(PAGE).run()
    assert not at.exception
    assert using(at) == ["Using: seattle-weather"]
    assert source_of(at) == "sample:seattle-weather"


def plotted_target(chart) -> np.ndarray:
    """The target's line as the chart draws it (plotly may send numbers as base64 typed arrays)."""
    import base64
    import json

    y = json.loads(chart.proto.spec)["data"][0]["y"]
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]))
    return np.asarray(y, dtype=float)


def test_the_preview_clips_outliers_as_training_will(at):
    days = pd.date_range("2024-01-01", periods=200, freq="D")
    values = 10 + np.sin(np.arange(200) / 5)
    values[180] = 1_000.0  # a wild value in the test part
    payload = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "level": values}).to_csv(index=False).encode()
    choose_csv(at)
    upload(at, "spike.csv", payload)
    [chart] = at.get("plotly_chart")
    assert plotted_target(chart).max() == pytest.approx(1_000.0)  # kept as it is by default
    by_label(at.selectbox, "Outliers").set_value("iqr").run()
    assert not at.exception
    [chart] = at.get("plotly_chart")
    assert plotted_target(chart).max() < 20 and len(shapes(chart)) == 3
    caption_matching(at, r"After cleaning: 200 rows · train 140 · validation 30 · test 30 · 1 value clipped to the "
                         r"training part's bounds\.")
