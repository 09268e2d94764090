"""Many users at once, in real browsers: four sessions train together and each sees only its own data and
results; a tab closed mid-training ends its run on the server.

Each browser context is its own Streamlit session (its own cookies and websocket). Trainings are tiny
(8 units, a few epochs) so the four run together in well under two minutes on two shared cores.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from .conftest import DEFAULT_TIMEOUT_MS
from .helpers import (
    choose_radio,
    click_button,
    click_sidebar_link,
    exception_texts,
    main_text,
    open_app,
    set_number,
    wait_for_text,
    wait_idle,
)

TRAIN_TIMEOUT_MS = 150_000  # four runs share two cores
SECRET_COLUMN = "zebra_secret_7Q"
SECRET_FILE = "private_upload_7Q.csv"
MAX_SERVER_THREADS = 64  # the server's threads while four runs go on: tornado, sessions, four trainers, torch


def _server_pid(base_url: str) -> int | None:
    """The pid of the streamlit process listening on the test port (Linux /proc), or None."""
    port = int(base_url.rsplit(":", 1)[1])
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}").removeprefix("socket:[").rstrip("]") in inodes:
                    return int(pid)
        except OSError:
            continue
    return None


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))


def _new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context, context.new_page()


def _choose_sample(page, group: str, title: str | None = None) -> None:
    click_sidebar_link(page, "Data")
    page.locator('[data-testid="stRadio"]').get_by_text(group, exact=True).first.click()
    wait_idle(page)
    if title is not None:
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Sample").locator("input").first.click()
        page.get_by_role("option", name=re.compile(re.escape(title))).first.click()
        wait_idle(page)


def _prepare_train(page) -> None:
    click_sidebar_link(page, "Train")
    set_number(page, "Max epochs", 4)
    set_number(page, "Units", 8)
    set_number(page, "Window", 10)


def test_four_sessions_train_together_and_see_only_their_own(browser, app_server, tmp_path, server_log):
    upload = tmp_path / SECRET_FILE
    upload.write_text("date," + SECRET_COLUMN + "\n"
                      + "".join(f"2022-01-{1 + d % 28:02d},{d}\n".replace("2022-01", f"2022-{1 + d // 28:02d}")
                                for d in range(300)), encoding="utf-8")
    log_start = server_log.stat().st_size
    sessions = {}
    try:
        for name in ("default", "stocks", "apple", "upload"):
            sessions[name] = _new_page(browser)
        pages = {name: pg for name, (_, pg) in sessions.items()}
        for pg in pages.values():
            open_app(pg, app_server, timeout=90_000)
        _choose_sample(pages["stocks"], "Stocks")  # the group's first sample: Microsoft monthly
        _choose_sample(pages["apple"], "Stocks", "Apple monthly price")
        click_sidebar_link(pages["upload"], "Data")
        choose_radio(pages["upload"], "Upload CSV")
        pages["upload"].locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
        wait_idle(pages["upload"], timeout=60_000)
        assert f"Using: {SECRET_FILE}" in main_text(pages["upload"])
        expected = {"default": ("seattle-weather", "temp_max"), "stocks": ("monthly-msft", "price"),
                    "apple": ("monthly-aapl", "price"), "upload": (SECRET_FILE, SECRET_COLUMN)}
        for pg in pages.values():
            _prepare_train(pg)
        for pg in pages.values():  # all four start within a second or two
            click_button(pg, "Train", wait=False)

        pid = _server_pid(app_server)
        peak = 0
        deadline = time.monotonic() + TRAIN_TIMEOUT_MS / 1000
        done = set()
        while len(done) < len(pages) and time.monotonic() < deadline:
            if pid is not None:
                peak = max(peak, _threads(pid))
            for name, pg in pages.items():
                if name not in done and re.search(r"Trained \d+ epochs in", main_text(pg)):
                    done.add(name)
            time.sleep(0.5)
        assert done == set(pages), f"only {sorted(done)} finished"
        # One torch thread per run (FORECASTER_THREADS=1 in tests, shared among active runs in the app):
        # four runs must not each start a pool of intra-op threads per core.
        print(f"server pid {pid}: at most {peak} threads while four runs trained together")
        assert pid is None or peak <= MAX_SERVER_THREADS, f"{peak} server threads while four runs went on"

        for name, pg in pages.items():
            data_name, target = expected[name]
            wait_idle(pg, timeout=60_000)
            click_sidebar_link(pg, "Results")
            wait_for_text(pg, r"target " + re.escape(target), timeout=60_000)
            text = main_text(pg)
            assert text.count(data_name) >= 1 and f"target {target}" in text, (name, text[:400])
            if name != "upload":  # the upload is private to the session that made it
                for secret in (SECRET_COLUMN, SECRET_FILE):
                    assert secret not in text, (name, secret)
                click_sidebar_link(pg, "Data")
                assert SECRET_FILE not in main_text(pg) and SECRET_COLUMN not in main_text(pg)
                choose_radio(pg, "Upload CSV")
                assert SECRET_FILE not in main_text(pg), f"{name} sees another session's upload"
            assert exception_texts(pg) == []
    finally:
        for context, _ in sessions.values():
            context.close()
    with open(server_log, "rb") as log:
        log.seek(log_start)
        assert "Traceback" not in log.read().decode(errors="replace")


def test_closed_tab_ends_its_training(browser, app_server, server_log):
    context, page = _new_page(browser)
    log_start = server_log.stat().st_size
    try:
        open_app(page, app_server)
        click_sidebar_link(page, "Train")
        set_number(page, "Max epochs", 1000)
        set_number(page, "Units", 8)
        set_number(page, "Patience", 0)
        click_button(page, "Train", wait=False)
        wait_for_text(page, r"Epoch [1-9]\d* of at most 1000", timeout=TRAIN_TIMEOUT_MS)
    finally:
        context.close()  # the tab and its websocket are gone
    closed = time.monotonic()
    while time.monotonic() - closed < 30:
        with open(server_log, "rb") as log:
            log.seek(log_start)
            output = log.read().decode(errors="replace")
        if "training stopped: browser session ended" in output:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"no stop line within 30 s of closing the tab; server said:\n{output[-3000:]}")
    assert "Traceback" not in output
