"""What a person does in the studio, in a real browser: train on the default data, quick start,
upload a CSV (good and bad), stop a run, and leave a page while a run goes on.

Every step is a click or a keystroke; pages are changed through the sidebar only, since a new
URL would start a new Streamlit session. Trainings are tiny (a few epochs, 8 units) so the file
runs in a few minutes on a small shared machine.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from .helpers import (
    choose_radio,
    click_button,
    click_sidebar_link,
    dataframe_rows,
    epochs_in,
    exception_texts,
    main_text,
    open_app,
    record_progress,
    recorded_progress,
    set_number,
    wait_charts,
    wait_for_epoch,
    wait_for_text,
    wait_idle,
)

TRAIN_TIMEOUT_MS = 120_000  # a tiny run on a busy two-core machine, torch import included
STOP_TIMEOUT_MS = 15_000  # "within a few seconds" of pressing Stop, with room for a loaded machine
DEFAULT_DATA = "seattle-weather"
PROGRESS = r"Epoch \d+ of at most \d+|Preparing data and starting epoch 1"
VERDICT = r"The LSTM( \+ linear skip)? (beats every baseline|beats naive but not|does not beat the naive forecast)"
MODEL = "LSTM + linear skip"  # the default model's row in the metrics table


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_tracebacks(page, server_log: Path, browser_messages: list[str]) -> Iterator[None]:
    """After every test: no exception box, no JavaScript error, no traceback in the server log, no run left going."""
    start = server_log.stat().st_size if server_log.exists() else 0
    yield
    try:
        stop = page.get_by_role("button", name="Stop", exact=True)
        if stop.count() and stop.first.is_enabled():  # a failed test must not leave a run eating the CPU
            stop.first.click(timeout=5_000)
    except Exception:  # the page may be gone; the server still ends runs when it stops
        pass
    assert exception_texts(page) == []
    assert [m for m in browser_messages if m.startswith("page error")] == []
    with open(server_log, "rb") as log:
        log.seek(start)
        new_output = log.read().decode(errors="replace")
    assert "Traceback" not in new_output, f"the server logged a traceback:\n{new_output[-4000:]}"


def _daily_prices(rows: int = 400) -> list[tuple[str, float, int]]:
    """A trending, weekly-and-monthly seasonal price with noise: something an LSTM can learn."""
    rng = np.random.default_rng(7)
    dates = np.datetime64("2021-01-01") + np.arange(rows)
    t = np.arange(rows)
    close = 100 + 0.05 * t + 8 * np.sin(2 * np.pi * t / 30) + 2 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.8, rows)
    volume = rng.integers(900_000, 1_500_000, rows)
    return [(str(d), float(c), int(v)) for d, c, v in zip(dates, close, volume)]


@pytest.fixture
def semicolon_csv(tmp_path: Path) -> Path:
    """400 daily rows as a European spreadsheet writes them: `;` between fields, `,` as decimal mark."""
    path = tmp_path / "prices_semicolon.csv"
    lines = ["Date;Close;Volume"] + [f"{d};{c:.2f}".replace(".", ",") + f";{v}" for d, c, v in _daily_prices()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def comma_csv(tmp_path: Path) -> Path:
    """The same kind of series in a plain comma-separated file."""
    path = tmp_path / "prices_comma.csv"
    lines = ["Date,Close,Volume"] + [f"{d},{c:.2f},{v}" for d, c, v in _daily_prices(120)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- steps a person takes -------------------------------------------------------------------------


def _upload(page, path: Path) -> None:
    """Choose a file in the uploader's file chooser, as a person would with the "Browse files" dialog."""
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    wait_idle(page, timeout=60_000)


def _train(page, epochs: int, units: int = 8, patience: int | None = None) -> None:
    """On the Train page: set the run's size, note its progress from now on, press Train."""
    set_number(page, "Max epochs", epochs)
    set_number(page, "Units", units)
    if patience is not None:
        set_number(page, "Patience", patience)
    record_progress(page)
    click_button(page, "Train", wait=False)


def _wait_trained(page) -> int:
    """Wait for the run to end on the Train page; the number of epochs it ran."""
    found = wait_for_text(page, r"Trained (\d+) epochs in [\d.]+s", timeout=TRAIN_TIMEOUT_MS)
    wait_idle(page, timeout=60_000)
    return int(found.group(1))


def _metrics(page) -> dict[str, dict[str, float]]:
    """The Results page's metrics table as {model: {column: value}} ("—" and empty cells are NaN)."""
    rows = dataframe_rows(page, 0)
    header, body = rows[0], [row for row in rows[1:] if row]
    assert header[:3] == ["Model", "MAE", "RMSE"], header
    table = {}
    for row in body:
        assert len(row) == len(header), (header, row)
        table[row[0]] = {column: float(value.replace(",", "")) if value and value != "—" else math.nan
                         for column, value in zip(header[1:], row[1:])}
    return table


def _check_results(page, expected_epochs: int | None = None) -> dict[str, dict[str, float]]:
    """Results shows a model: the verdict, a metrics table with LSTM and naive rows, and a chart."""
    verdict = wait_for_text(page, VERDICT + r"[^\n]*", timeout=30_000).group(0)
    text = main_text(page)
    assert "No trained model yet" not in text
    if expected_epochs is not None:
        assert re.search(rf"· {expected_epochs} epochs \(", text), text[:600]
    table = _metrics(page)
    assert {MODEL, "Naive (last value)"} <= set(table), list(table)
    for model in (MODEL, "Naive (last value)"):
        for column in ("MAE", "RMSE"):
            value = table[model][column]
            assert math.isfinite(value) and value >= 0, (model, column, value)
        assert table[model]["RMSE"] >= table[model]["MAE"] - 1e-9  # always true of real errors
    # The verdict sentence and the table must tell the same story (4 significant digits there).
    number = r"(\d[\d.]*(?:e[+-]\d+)?)"
    maes = re.search(number + " vs " + number, verdict)
    assert maes, verdict
    lstm_mae, other_mae = float(maes.group(1)), float(maes.group(2))
    # The table shows three decimals, the verdict four significant digits; the other MAE is naive's or the best's.
    assert lstm_mae == pytest.approx(table[MODEL]["MAE"], abs=6e-4)
    assert any(other_mae == pytest.approx(row["MAE"], abs=6e-4) for name, row in table.items() if name != MODEL), \
        (verdict, table)
    wait_charts(page, 4)  # predictions, loss, residuals over time and their histogram
    return table


# --- the paths --------------------------------------------------------------------------------------


def test_new_user_trains_on_default_data_and_sees_metrics(page, app_server, screenshot, tmp_path):
    open_app(page, app_server)
    assert page.locator("h1").first.inner_text().strip() == "LSTM Forecasting Studio"
    assert page.get_by_role("button", name="Train a quick model").is_enabled()
    screenshot("1-home")

    click_sidebar_link(page, "Train")
    assert page.locator("h1").first.inner_text().strip() == "Train"
    assert f"Training on {DEFAULT_DATA}" in main_text(page)
    _train(page, epochs=3, units=8)
    wait_for_text(page, PROGRESS, timeout=TRAIN_TIMEOUT_MS)
    screenshot("2-train-running")
    epochs = _wait_trained(page)
    assert 1 <= epochs <= 3
    seen = recorded_progress(page)
    assert seen and all(re.search(PROGRESS, text) for text in seen), seen
    assert all(n <= 3 for n in epochs_in(seen)), seen
    assert page.locator('[data-testid="stProgress"]').count() == 0  # the bar goes once the run ends
    assert re.search(VERDICT, main_text(page))
    screenshot("3-train-done")

    click_sidebar_link(page, "Results")
    table = _check_results(page, expected_epochs=epochs)
    screenshot("4-results")

    # The same numbers a person can take away: the predictions CSV has every model's forecasts.
    with page.expect_download(timeout=30_000) as download_info:
        page.get_by_role("button", name="Download predictions (CSV)").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.name == "predictions_temp_max.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert len(rows) > 50
    assert {"origin", "step", "date", "actual", "lstm", "naive"} <= set(rows[0])
    mae = np.mean([abs(float(r["lstm"]) - float(r["actual"])) for r in rows])
    naive_mae = np.mean([abs(float(r["naive"]) - float(r["actual"])) for r in rows])
    assert mae == pytest.approx(table[MODEL]["MAE"], abs=6e-4)  # shown with three decimals
    assert naive_mae == pytest.approx(table["Naive (last value)"]["MAE"], abs=6e-4)
    assert exception_texts(page) == []


def test_quick_start_shows_verdict_and_chart(page, app_server, screenshot):
    open_app(page, app_server)
    record_progress(page)
    click_button(page, "Train a quick model", wait=False)
    wait_for_text(page, PROGRESS, timeout=60_000)
    assert page.get_by_role("button", name="Train a quick model").is_disabled()  # one run at a time
    found = wait_for_text(page, VERDICT, timeout=TRAIN_TIMEOUT_MS)
    wait_idle(page, timeout=60_000)
    assert found
    wait_charts(page, 1)
    chart = page.locator('[data-testid="stPlotlyChart"]')
    assert chart.count() == 1
    assert chart.first.bounding_box()["height"] > 200
    assert "Predicted vs actual" in chart.first.inner_text()
    table = _metrics(page)
    assert {MODEL, "Naive (last value)"} <= set(table)
    assert page.get_by_role("button", name="Train a quick model").is_enabled()
    assert recorded_progress(page), "no progress bar was shown while the quick model trained"
    screenshot("home-after-quick-start")
    assert exception_texts(page) == []


def test_uploaded_semicolon_csv_trains_and_is_remembered(page, app_server, screenshot, semicolon_csv):
    open_app(page, app_server)
    click_sidebar_link(page, "Data")
    assert f"Using: {DEFAULT_DATA}" in main_text(page)
    choose_radio(page, "Upload CSV")
    _upload(page, semicolon_csv)
    detected = wait_for_text(page, r"Detected: [^\n]*")
    assert "semicolon delimiter" in detected.group(0), detected.group(0)
    assert "decimal ','" in detected.group(0) and "400 rows" in detected.group(0), detected.group(0)
    wait_for_text(page, f"Using: {semicolon_csv.name}")
    text = main_text(page)
    assert f"File: {semicolon_csv.name}" in text
    screenshot("data-uploaded")

    click_sidebar_link(page, "Train")
    assert f"Training on {semicolon_csv.name} · target Close · 400 rows" in main_text(page)
    _train(page, epochs=2, units=8)
    epochs = _wait_trained(page)
    assert 1 <= epochs <= 2

    click_sidebar_link(page, "Results")
    _check_results(page, expected_epochs=epochs)
    assert semicolon_csv.name in main_text(page)
    screenshot("results")

    # Back on Data the upload is still there, still selected, with its detection.
    click_sidebar_link(page, "Data")
    text = main_text(page)
    assert f"File: {semicolon_csv.name}" in text
    assert f"Using: {semicolon_csv.name}" in text
    assert "semicolon delimiter" in text
    assert page.locator('[data-testid="stRadio"] input[type="radio"]:checked').count() == 1
    checked = page.locator('[data-testid="stRadio"] label').filter(has=page.locator("input:checked"))
    assert checked.inner_text().strip() == "Upload CSV"
    screenshot("data-after-return")
    assert exception_texts(page) == []


BAD_FILES = {
    # name: (content, words the error should use)
    "header_only.csv": (b"Date;Close;Volume\n", "no data rows"),
    "garbage.csv": (bytes(range(256)) * 8, "binary"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_csv_upload_shows_error_and_keeps_selection(page, app_server, screenshot, tmp_path, comma_csv, name):
    open_app(page, app_server)
    click_sidebar_link(page, "Data")
    choose_radio(page, "Upload CSV")
    # A good file first, so there is a chosen upload the bad one must not replace.
    _upload(page, comma_csv)
    wait_for_text(page, f"Using: {comma_csv.name}")

    content, words = BAD_FILES[name]
    bad = tmp_path / name
    bad.write_bytes(content)
    _upload(page, bad)
    wait_for_text(page, f"File: {name}")
    errors = page.locator('[data-testid="stAlert"]').filter(has=page.locator('[data-testid="stAlertContentError"]'))
    errors.first.wait_for(state="visible", timeout=30_000)
    message = errors.first.inner_text()
    assert words in message, message
    assert "Traceback" not in message and "Error:" not in message, message  # a sentence, not a trace
    text = main_text(page)
    assert f"Using: {comma_csv.name}" in text  # the last good data stays selected
    assert "Detected:" not in text
    assert exception_texts(page) == []
    screenshot("error")

    # The rest of the app still works on the good data.
    click_sidebar_link(page, "Train")
    assert f"Training on {comma_csv.name}" in main_text(page)
    assert exception_texts(page) == []


def test_stop_ends_training_and_keeps_model(page, app_server, screenshot):
    open_app(page, app_server)
    click_sidebar_link(page, "Train")
    _train(page, epochs=500, units=8, patience=0)
    started = wait_for_text(page, r"Epoch (\d+) of at most 500", timeout=TRAIN_TIMEOUT_MS)
    assert int(started.group(1)) >= 1
    assert page.get_by_role("button", name="Train", exact=True).is_disabled()
    screenshot("running")
    click_button(page, "Stop", wait=False)
    stopped = wait_for_text(page, r"Training was stopped after (\d+) epochs", timeout=STOP_TIMEOUT_MS)
    wait_idle(page, timeout=30_000)
    epochs = int(stopped.group(1))
    assert int(started.group(1)) <= epochs < 500
    assert page.locator('[data-testid="stProgress"]').count() == 0
    assert page.get_by_role("button", name="Train", exact=True).is_enabled()
    assert re.search(rf"Trained {epochs} epochs", main_text(page))
    screenshot("stopped")

    click_sidebar_link(page, "Results")
    _check_results(page, expected_epochs=epochs)
    assert exception_texts(page) == []


def test_page_switch_does_not_restart_training(page, app_server, screenshot):
    open_app(page, app_server)
    click_sidebar_link(page, "Train")
    _train(page, epochs=300, units=8, patience=0)
    before = wait_for_epoch(page, above=1, timeout=TRAIN_TIMEOUT_MS)

    click_sidebar_link(page, "Data")
    assert page.locator("h1").first.inner_text().strip() == "Data"
    assert f"Using: {DEFAULT_DATA}" in main_text(page)

    click_sidebar_link(page, "Train")
    record_progress(page)
    assert page.get_by_role("button", name="Train", exact=True).is_disabled()  # the run is still going
    after = int(wait_for_text(page, r"Epoch (\d+) of at most 300").group(1))
    assert after >= before
    # It keeps counting up from there: the run was neither restarted nor frozen.
    later = wait_for_epoch(page, above=after, timeout=60_000)
    assert later > after >= before
    seen = epochs_in(recorded_progress(page))
    assert seen and min(seen) >= before and seen == sorted(seen), seen
    assert page.get_by_role("button", name="Stop", exact=True).is_visible()
    screenshot("running-after-return")

    click_button(page, "Stop", wait=False)
    stopped = int(wait_for_text(page, r"Training was stopped after (\d+) epochs", timeout=STOP_TIMEOUT_MS).group(1))
    wait_idle(page, timeout=30_000)
    assert stopped >= later
    assert exception_texts(page) == []
