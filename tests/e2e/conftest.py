"""Browser-test harness: a headless Streamlit server, Debian's Chromium via Playwright, screenshots.

Every test in tests/e2e is marked `e2e`. Without Playwright or Chromium the
tests are skipped on a developer's machine, but fail when CI is set, so CI
cannot pass by silently skipping them.

Environment:
  FORECASTER_E2E_APP       the Streamlit script to serve (default: the repo's app.py)
  FORECASTER_E2E_CHROMIUM  the Chromium binary (default: /usr/bin/chromium)
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
SCREENSHOT_DIR = E2E_DIR / "screenshots"
CHROMIUM = os.environ.get("FORECASTER_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT_S = 60
DEFAULT_TIMEOUT_MS = 30_000

_server_log_key = pytest.StashKey[Path]()
_browser_messages_key = pytest.StashKey[list]()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _require_browser() -> None:
    """Skip (locally) or fail (in CI) when the browser tooling is missing."""
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("Playwright for Python is not installed (pip install -r requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        problems.append(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    if problems:
        reason = "browser tests need: " + "; ".join(problems)
        if _in_ci():
            pytest.fail(reason + " [CI is set, so this fails instead of skipping]", pytrace=False)
        pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no server output>"
    return text[-limit:]


def _wait_healthy(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"streamlit exited with code {proc.returncode} before answering {url}:\n{_tail(log)}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.25)
    pytest.fail(
        f"streamlit did not answer {url} within {SERVER_START_TIMEOUT_S} s:\n{_tail(log)}",
        pytrace=False,
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)  # the server and anything it started
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def streamlit_command(app: Path, port: int) -> list[str]:
    """`streamlit run` headless on 127.0.0.1:port, with no file watcher and no usage statistics."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


@pytest.fixture(scope="session")
def app_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Start `streamlit run` headless on a free port; yield its base URL (no trailing slash)."""
    _require_browser()
    app = Path(os.environ.get("FORECASTER_E2E_APP", REPO_ROOT / "app.py")).resolve()
    if not app.is_file():
        pytest.fail(f"no Streamlit app at {app} (set FORECASTER_E2E_APP)", pytrace=False)
    port = _free_port()
    workdir = tmp_path_factory.mktemp("e2e-server")
    log = workdir / "streamlit.log"
    env = dict(os.environ)
    env["FORECASTER_HOME"] = str(workdir / "forecaster-home")  # never ~/.forecaster
    env["PYTHONUNBUFFERED"] = "1"
    cmd = streamlit_command(app, port)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,  # so .streamlit/config.toml applies
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group, killed as a whole
        )
    request.config.stash[_server_log_key] = log
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, f"{base_url}/_stcore/health", log)
        yield base_url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright, shared by the session."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser context and page (1400x900, 30 s default timeout) for each test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    pg = context.new_page()
    messages: list[str] = []
    pg.on("pageerror", lambda exc: messages.append(f"page error: {exc}"))
    pg.on(
        "console",
        lambda msg: messages.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    request.node.stash[_browser_messages_key] = messages
    try:
        yield pg
    finally:
        context.close()


def _file_stem(nodeid: str) -> str:
    name = nodeid.split("::", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:120] or "test"


SCREENSHOT_SETTLE_MS = 300
MAX_SCREENSHOT_HEIGHT = 8000
_CONTENT_HEIGHT_JS = """
() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return Math.max(document.documentElement.scrollHeight, main ? main.scrollHeight : 0);
}
"""


@pytest.fixture
def browser_messages(page, request: pytest.FixtureRequest) -> list[str]:
    """The page's uncaught JavaScript errors ("page error: ...") and console errors, as they happen."""
    return request.node.stash[_browser_messages_key]


@pytest.fixture
def server_log(app_server: str, request: pytest.FixtureRequest) -> Path:
    """The Streamlit server's output file (tracebacks of uncaught exceptions land here)."""
    return request.config.stash[_server_log_key]


@pytest.fixture
def screenshot(page, request: pytest.FixtureRequest) -> Callable[..., Path]:
    """`screenshot("after-train")` saves tests/e2e/screenshots/<test>-after-train.png and returns its path."""

    def take(label: str = "", full_page: bool = True) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        stem = _file_stem(request.node.nodeid)
        if label:
            stem += "-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
        path = SCREENSHOT_DIR / f"{stem}.png"
        page.wait_for_timeout(SCREENSHOT_SETTLE_MS)  # canvas grids and charts paint after the DOM settles
        viewport = page.viewport_size
        height = page.evaluate(_CONTENT_HEIGHT_JS) if full_page else 0
        if viewport and height > viewport["height"]:
            # Streamlit scrolls inside its main area, not the document, so Playwright's
            # full_page would stop at the viewport: grow the viewport to the content instead.
            page.set_viewport_size({"width": viewport["width"], "height": min(height, MAX_SCREENSHOT_HEIGHT)})
            try:
                page.wait_for_timeout(SCREENSHOT_SETTLE_MS)
                page.screenshot(path=str(path))
            finally:
                page.set_viewport_size(viewport)
        else:
            page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed or report.when not in ("setup", "call"):
        return
    pg = getattr(item, "funcargs", {}).get("page")
    if pg is not None:
        try:
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOT_DIR / f"{_file_stem(item.nodeid)}-FAILED.png"
            pg.screenshot(path=str(path), full_page=True)
            report.sections.append(("screenshot", str(path)))
        except Exception as exc:  # a crashed page must not hide the real failure
            report.sections.append(("screenshot", f"could not take one: {exc}"))
    messages = item.stash.get(_browser_messages_key, None)
    if messages:
        report.sections.append(("browser errors", "\n".join(messages[-50:])))
    log = item.config.stash.get(_server_log_key, None)
    if log is not None and "app_server" in getattr(item, "fixturenames", ()):
        report.sections.append(("streamlit server log (tail)", _tail(log, 4000)))
