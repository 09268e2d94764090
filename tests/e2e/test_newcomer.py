"""The app as a new user meets it: started by the README's `bash scripts/start.sh`, not by a test command line.

Every other browser test starts `streamlit run` with flags of its own (no file watcher among them), so
only this file sees what a user sees: an idle server that stays idle and quiet, a quick start that is
quick, and the newcomer's path through their own CSV to a forecast with bands.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import REPO_ROOT, _free_port, _stop, _tail, _wait_healthy
from .helpers import (
    alert_texts,
    choose_radio,
    click_button,
    click_sidebar_link,
    dataframe_rows,
    exception_texts,
    main_text,
    open_app,
    set_number,
    wait_charts,
    wait_for_text,
    wait_idle,
)
from .test_experiments import _tick_row

VERDICT = r"The LSTM( \+ linear skip)? (beats every baseline|beats naive but not|does not beat the naive forecast)"
TRAIN_TIMEOUT_MS = 180_000
IDLE_SECONDS = 6.0
IDLE_CPU_LIMIT = 0.25  # a watcher reconciling the checkout used a whole core; an idle server uses ~1%


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def started_like_a_user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """`bash scripts/start.sh` with a port and a fresh FORECASTER_HOME; (base URL, process, log)."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads CPU time from /proc (Linux)")
    workdir = tmp_path_factory.mktemp("newcomer")
    port = _free_port()
    log = workdir / "console.log"
    env = {**os.environ, "FORECASTER_HOME": str(workdir / "home"), "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", "scripts/start.sh", "--server.port", str(port), "--server.headless", "true"],
                                cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, f"{url}/_stcore/health", log)
        yield url, proc, log
    finally:
        _stop(proc)


def test_the_idle_server_is_quiet_and_cheap(started_like_a_user):
    """With nobody connected, the server neither spins a core nor fills the console (the file watcher did both)."""
    _, proc, log = started_like_a_user
    time.sleep(2.0)  # start-up output and imports are done
    before_size, before_cpu, start = log.stat().st_size, _cpu_seconds(proc.pid), time.monotonic()
    time.sleep(IDLE_SECONDS)
    share = (_cpu_seconds(proc.pid) - before_cpu) / (time.monotonic() - start)
    printed = log.read_bytes()[before_size:].decode(errors="replace")
    assert printed == "", f"the idle server printed:\n{printed[-2000:]}"
    assert share < IDLE_CPU_LIMIT, f"the idle server used {share:.0%} of a core:\n{_tail(log)}"


def test_quick_start_from_the_start_script(page, started_like_a_user, screenshot):
    url, _, log = started_like_a_user
    open_app(page, url)
    click_button(page, "Train a quick model", wait=False)
    wait_for_text(page, VERDICT, timeout=TRAIN_TIMEOUT_MS)
    wait_idle(page, timeout=60_000)
    screenshot("quick-start")
    assert exception_texts(page) == []
    assert "Traceback" not in log.read_text(errors="replace")
    assert "Inotify" not in log.read_text(errors="replace")


@pytest.fixture
def gappy_daily_csv(tmp_path: Path) -> Path:
    """Six years of a daily temperature-like series with 1984-12-31 and 1988-12-31 missing."""
    days = pd.date_range("1984-01-01", "1989-12-31", freq="D")
    rng = np.random.default_rng(7)
    temp = 12 + 8 * np.sin(2 * np.pi * (days.day_of_year - 110) / 365.25) + np.cumsum(rng.normal(0, 0.4, len(days))) * 0.2
    frame = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "temp": np.round(temp + rng.normal(0, 1.5, len(days)), 1)})
    frame = frame[~frame["date"].isin(["1984-12-31", "1988-12-31"])]
    path = tmp_path / "daily_temps.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_newcomer_uploads_a_gappy_csv_and_forecasts_with_bands_from_a_reloaded_run(
        page, started_like_a_user, gappy_daily_csv, screenshot):
    """Upload a daily CSV with two missing dates, train at horizon 7, Results, Forecast, reload from Experiments."""
    url, _, log = started_like_a_user
    open_app(page, url)

    click_sidebar_link(page, "Data")
    choose_radio(page, "Upload CSV")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(gappy_daily_csv))
    wait_idle(page, timeout=60_000)
    wait_for_text(page, "Using: daily_temps.csv")
    text = main_text(page)
    assert "2 dates missing from the daily calendar: 1984-12-31, 1988-12-31 (filled by interpolation)" in text, text
    summary = page.locator('[data-testid="stMetric"]').filter(has_text="Missing values").inner_text()
    assert summary.split()[-1] == "2", summary
    screenshot("1-data")

    click_sidebar_link(page, "Train")
    # Typing a number no longer draws Streamlit's "Press Enter to apply" over it.
    window = page.get_by_label("Window", exact=True)
    window.fill("5000")
    assert page.locator('[data-testid="InputInstructions"]').filter(has_text="Enter").count() == 0 or \
        not page.locator('[data-testid="InputInstructions"]').first.is_visible()
    set_number(page, "Window", 30)
    set_number(page, "Horizon", 7)
    set_number(page, "Max epochs", 3)
    set_number(page, "Units", 8)
    click_button(page, "Train", wait=False)
    run_id = int(wait_for_text(page, r"Kept as run (\d+)\b", timeout=TRAIN_TIMEOUT_MS).group(1))
    wait_idle(page, timeout=60_000)
    assert "Training on daily_temps.csv" in main_text(page)
    screenshot("2-trained")

    click_sidebar_link(page, "Results")
    wait_charts(page, 1)
    text = main_text(page)
    assert "Seasonal naive (yearly, 365 days)" in text, text
    assert re.search(VERDICT, text), text
    screenshot("3-results")

    click_sidebar_link(page, "Forecast")
    wait_charts(page, 1)
    assert "carries no validation errors" not in main_text(page)
    assert "averaged over the 1 to 7 steps ahead" in main_text(page)
    screenshot("4-forecast")

    # A new session (as after closing the tab) loads the run back from Experiments and draws its bands.
    page.goto(url)
    wait_idle(page, timeout=60_000)
    click_sidebar_link(page, "Experiments")
    _tick_row(page, run_id - 1)  # oldest first; the quick start test may have kept run 1 on this server
    click_button(page, f"Load run {run_id}'s model", timeout=60_000)
    wait_for_text(page, rf"Loaded run {run_id}'s model")
    screenshot("5-loaded")
    click_sidebar_link(page, "Forecast")
    wait_charts(page, 1)
    assert "carries no validation errors" not in main_text(page), alert_texts(page)
    page.get_by_text("Forecast values").click()
    wait_idle(page)
    header = dataframe_rows(page, 0)[0]
    assert {"lower_80", "upper_80", "lower_95", "upper_95"} <= set(header), header
    screenshot("6-forecast-after-reload")
    assert exception_texts(page) == []
    assert "Traceback" not in log.read_text(errors="replace")
