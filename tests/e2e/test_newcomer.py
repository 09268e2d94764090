"""The app as a new user meets it: started by the README's `bash scripts/start.sh`, not by a test command line.

Every other browser test starts `streamlit run` with flags of its own (no file watcher among them), so
only this file sees what a user sees: an idle server that stays idle and quiet, a quick start that is
quick, and the newcomer's path through their own CSV to a forecast with bands.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO_ROOT, _free_port, _stop, _tail, _wait_healthy
from .helpers import click_button, exception_texts, open_app, wait_for_text, wait_idle

VERDICT = r"The LSTM (beats|does not beat) (the naive forecast|every baseline)|beats naive"
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
