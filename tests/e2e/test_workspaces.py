"""Two people on one team server, in real browsers: sign-in through a real OpenID Connect provider, private
workspaces on a real PostgreSQL store, and a server restart that keeps both.

The provider is oidc-provider-mock (a real OpenID Connect server for tests) on a loopback port with two
predefined users; the store is the PostgreSQL server of the `postgres_url` fixture.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from .conftest import (
    DEFAULT_TIMEOUT_MS,
    REPO_ROOT,
    SCREENSHOT_DIR,
    _free_port,
    _stop,
    _tail,
    _wait_healthy,
    streamlit_command,
)
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

SECRET_COLUMN = "heron_secret_5K"
SECRET_FILE = "ann_private_5K.csv"
USERS = {"ann": {"sub": "ann", "name": "Ann Analyst", "email": "ann@example.com"},
         "bob": {"sub": "bob", "name": "Bob Builder", "email": "bob@example.com"}}
TRAIN_TIMEOUT_MS = 150_000


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory):
    """oidc-provider-mock on 127.0.0.1 with Ann and Bob predefined; yields its issuer URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    for claims in USERS.values():
        command += ["--user-claims", json.dumps(claims)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(f"the OpenID Connect provider did not start:\n{_tail(log)}", pytrace=False)
        time.sleep(0.2)
    try:
        yield issuer
    finally:
        _stop(proc)


class TeamServer:
    """The app in per-user mode on PostgreSQL, sign-in configured in its own secrets file; restartable."""

    def __init__(self, workdir: Path, issuer: str, store: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "streamlit.log"
        self.secrets = workdir / "secrets.toml"
        self.secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "{self.url}/oauth2callback"\n'
            'cookie_secret = "team-server-test-cookie-secret-0123456789abcdef"\n'
            'client_id = "forecasting-studio"\n'
            'client_secret = "forecasting-studio-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n', encoding="utf-8")
        self.env = {**os.environ, "FORECASTER_HOME": str(workdir / "home"), "FORECASTER_STORE": store,
                    "FORECASTER_WORKSPACES": "per-user", "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        command = streamlit_command(REPO_ROOT / "app.py", self.port) + ["--secrets.files", str(self.secrets)]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(command, cwd=REPO_ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        _wait_healthy(self.proc, f"{self.url}/_stcore/health", self.log)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


@pytest.fixture(scope="module")
def team_server(postgres_url: str, oidc_provider: str, tmp_path_factory: pytest.TempPathFactory):
    server = TeamServer(tmp_path_factory.mktemp("team"), oidc_provider, postgres_url)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _person(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context, context.new_page()


def _sign_in(page, server: TeamServer, who: str) -> None:
    """Sign in as a person does: the studio's button, the provider's page, back in the studio."""
    open_app(page, server.url)
    assert "Sign in to open your workspace" in main_text(page)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # no page before sign-in
    if who == "ann":
        _shot(page, "sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"), timeout=30_000)
    page.get_by_role("button", name=USERS[who]["sub"], exact=True).click()
    page.wait_for_url(re.compile(re.escape(server.url) + r"/?$"), timeout=30_000)
    page.wait_for_selector('[data-testid="stApp"]')
    wait_idle(page, timeout=60_000)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert f"Signed in as {USERS[who]['name']}" in sidebar


def _shot(page, label: str) -> None:
    """Save what this person's browser shows, to look at: tests/e2e/screenshots/workspaces-<label>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"workspaces-{label}.png"), full_page=True)


def _sign_out(page) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    # The studio signs out at the provider too (its end-session endpoint), which asks to confirm.
    page.wait_for_url(re.compile(r".*/oauth2/end_session.*"), timeout=30_000)
    page.get_by_role("button", name="End session").click()
    try:
        page.wait_for_selector("text=Sign in to open your workspace", timeout=30_000)
    finally:
        _shot(page, "after-sign-out")


def _experiments_text(page) -> str:
    click_sidebar_link(page, "Home")  # from another page, so the table is read afresh
    wait_idle(page, timeout=60_000)
    click_sidebar_link(page, "Experiments")
    wait_idle(page, timeout=60_000)
    return main_text(page)


def _upload_choices(page) -> str:
    click_sidebar_link(page, "Data")
    choose_radio(page, "Upload CSV")
    wait_idle(page)
    return main_text(page)


def test_two_people_each_see_only_their_own_work_across_sign_out_and_restart(browser, team_server, tmp_path):
    upload = tmp_path / SECRET_FILE
    days = pd.date_range("2022-01-01", periods=300)
    upload.write_text("date," + SECRET_COLUMN + "\n" + "".join(f"{day.date()},{value % 37 + value / 10}\n"
                                                               for value, day in enumerate(days)), encoding="utf-8")
    ann_context, ann = _person(browser)
    bob_context, bob = _person(browser)
    try:
        _sign_in(ann, team_server, "ann")
        _shot(ann, "ann-signed-in")
        click_sidebar_link(ann, "Data")
        choose_radio(ann, "Upload CSV")
        ann.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
        wait_idle(ann, timeout=60_000)
        assert f"Using: {SECRET_FILE}" in main_text(ann)
        click_sidebar_link(ann, "Train")
        set_number(ann, "Max epochs", 3)
        set_number(ann, "Units", 8)
        set_number(ann, "Window", 10)
        click_button(ann, "Train", wait=False)
        wait_for_text(ann, r"Trained \d+ epochs? in", timeout=TRAIN_TIMEOUT_MS)
        assert SECRET_FILE in _experiments_text(ann)

        _sign_in(bob, team_server, "bob")
        text = _experiments_text(bob)
        assert "No runs yet" in text and SECRET_FILE not in text and SECRET_COLUMN not in text
        choices = _upload_choices(bob)
        assert SECRET_FILE not in choices and "earlier uploads" not in choices
        for name in ("Results", "Forecast", "Tune"):
            click_sidebar_link(bob, name)
            wait_idle(bob, timeout=60_000)
            assert SECRET_FILE not in main_text(bob) and SECRET_COLUMN not in main_text(bob), name
        assert exception_texts(bob) == []

        _sign_out(ann)
        _sign_in(ann, team_server, "ann")
        assert SECRET_FILE in _experiments_text(ann)
        assert "earlier uploads" in _upload_choices(ann)
        _shot(ann, "ann-after-sign-in-again")

        team_server.stop()
        team_server.start()
        for page in (ann, bob):  # the cookie survives the restart: each is still signed in
            open_app(page, team_server.url, timeout=90_000)
        assert SECRET_FILE in _experiments_text(ann)
        text = _experiments_text(bob)
        assert "No runs yet" in text and SECRET_FILE not in text
        assert exception_texts(ann) == [] and exception_texts(bob) == []
    finally:
        ann_context.close()
        bob_context.close()
    assert "Traceback" not in team_server.log.read_text(errors="replace")


def test_eight_sessions_of_two_people_train_at_once_and_lose_nothing(browser, team_server):
    """Four sessions each for Ann and Bob train together on the PostgreSQL store: all finish, each run lands in
    its owner's workspace only, and none is lost."""
    lookers = {who: _person(browser) for who in USERS}  # one more session each, to read the Experiments page
    sessions = []
    try:
        for who, (_, page) in lookers.items():
            _sign_in(page, team_server, who)
        before = {who: _run_ids(page) for who, (_, page) in lookers.items()}
        for index in range(8):
            who = ("ann", "bob")[index % 2]
            context, page = _person(browser)
            sessions.append((who, context, page))
            _sign_in(page, team_server, who)
            click_sidebar_link(page, "Train")
            set_number(page, "Max epochs", 2)
            set_number(page, "Units", 8)
        for _, _, page in sessions:
            click_button(page, "Train", wait=False)
        deadline = time.monotonic() + 2 * TRAIN_TIMEOUT_MS / 1000
        done: set[int] = set()
        while len(done) < len(sessions) and time.monotonic() < deadline:
            for index, (_, _, page) in enumerate(sessions):
                if index not in done and re.search(r"Trained \d+ epochs? in", main_text(page)):
                    done.add(index)
            time.sleep(0.5)
        assert len(done) == len(sessions), f"only sessions {sorted(done)} finished"
        after = {who: _run_ids(page) for who, (_, page) in lookers.items()}
        for who in USERS:
            assert len(after[who] - before[who]) == 4 and before[who] <= after[who], (who, after[who], before[who])
        assert not after["ann"] & after["bob"]
        for _, _, page in sessions:
            assert exception_texts(page) == []
    finally:
        for _, context, _ in sessions:
            context.close()
        for context, _ in lookers.values():
            context.close()


def _run_ids(page) -> set[int]:
    """The run ids on this person's Experiments page."""
    text = _experiments_text(page)
    if "No runs yet" in text:
        return set()
    from .helpers import dataframe_rows

    return {int(row[0]) for row in dataframe_rows(page) if row and row[0].strip().isdigit()}
