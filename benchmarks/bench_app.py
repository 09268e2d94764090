"""How fast the app answers a person: first render, page switch, widget change during training.

Starts the app as a user does (`bash scripts/start.sh`, on a free port), measures the idle
server's CPU and console output, then drives Debian's Chromium with Playwright: the Home quick
start, first render, page switches, and a widget change while training. Run: python benchmarks/bench_app.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TITLE = "LSTM Forecasting Studio"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, home: str, log) -> subprocess.Popen:
    """The app exactly as a user starts it: the README's `bash scripts/start.sh`, plus a port."""
    command = ["bash", "scripts/start.sh", "--server.port", str(port), "--server.headless", "true"]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "FORECASTER_HOME": home},
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120  # start.sh may install first
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("the app did not start within 120 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def idle_cpu(pid: int, seconds: float) -> float:
    """Share of one core the server uses while nobody is connected."""
    before, start = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.perf_counter() - start)


def sidebar(page, name: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=name).first.click()


def log_lines(log, since: int) -> int:
    """Lines the server printed since byte `since` of its log."""
    log.seek(since)
    return log.read().count(b"\n")


def first_render(browser, url: str) -> float:
    """Seconds from navigation to the home page's title being drawn, in a new session."""
    context = browser.new_context()
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name=TITLE).wait_for()
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def page_switches(page, rounds: int) -> list[float]:
    """Seconds from a sidebar click to the next page's heading being drawn."""
    times = []
    for _ in range(rounds):
        for name, marker in (("Data", "Using: "), ("Home", TITLE)):
            start = time.perf_counter()
            sidebar(page, name)
            page.get_by_role("heading", name=marker).first.wait_for()
            times.append(time.perf_counter() - start)
    return times


def start_long_training(page) -> None:
    sidebar(page, "Train")
    page.get_by_role("heading", name="Train", exact=True).wait_for()
    for label, value in (("Max epochs", "1000"), ("Patience", "0")):
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
        time.sleep(0.5)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Epoch ", exact=False).first.wait_for(timeout=120_000)


def quick_start(browser, url: str) -> float:
    """Seconds from pressing Home's "Train a quick model" in a new session to its verdict being drawn."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.get_by_role("heading", name=TITLE).wait_for()
    start = time.perf_counter()
    page.get_by_role("button", name="Train a quick model").click()
    page.get_by_text("Skill vs naive").first.wait_for(timeout=180_000)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def widget_latency(page, rounds: int) -> list[float]:
    """Seconds from moving the Data page's training-part slider to its caption being redrawn."""
    for attempt in range(6):  # a click that lands while the live-progress fragment reruns can be lost: click again
        sidebar(page, "Data")
        try:
            page.get_by_role("heading", name="Using: ").first.wait_for(timeout=20_000)
            break
        except Exception:  # playwright's TimeoutError
            if attempt == 5:
                raise
    slider = page.get_by_role("slider").first
    times = []
    for index in range(rounds):
        key = "ArrowLeft" if index % 2 == 0 else "ArrowRight"
        before = page.get_by_text("Test part:").first.inner_text()
        slider.focus()
        start = time.perf_counter()
        slider.press(key)
        page.wait_for_function("([text]) => { const el = [...document.querySelectorAll('p')]"
                               ".find(p => p.innerText.startsWith('Test part:')); return el && el.innerText !== text; }",
                               arg=[before], timeout=30_000)
        times.append(time.perf_counter() - start)
        time.sleep(0.3)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing; install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    rounds = 3 if args.quick else 8
    port = free_port()
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryFile("w+b") as log:
        server = start_server(port, home, log)
        url = f"http://127.0.0.1:{port}"
        try:
            streamlit_pid = server.pid  # start.sh execs streamlit, so this is the server itself
            time.sleep(2)  # let start-up work finish before measuring idleness
            log_before = os.fstat(log.fileno()).st_size
            idle = idle_cpu(streamlit_pid, 10 if args.quick else 30)
            idle_lines = log_lines(log, log_before)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                renders = [first_render(browser, url) for _ in range(rounds)]
                quick = [quick_start(browser, url) for _ in range(1 if args.quick else 3)]
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                page.goto(url)
                page.get_by_role("heading", name=TITLE).wait_for()
                switches = page_switches(page, rounds)
                start_long_training(page)
                latencies = widget_latency(page, rounds * 2)
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    result = {"idle_server_cpu_share": round(idle, 4), "idle_console_lines": idle_lines,
              "quick_start_s": round(statistics.median(quick), 2),
              "first_render_s": round(statistics.median(renders), 3),
              "page_switch_s": round(statistics.median(switches), 3),
              "widget_change_during_training_ms": round(1000 * statistics.median(latencies)),
              "samples": {"first_render": len(renders), "quick_start": len(quick), "page_switch": len(switches),
                          "widget_change": len(latencies)}}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"idle server (started by scripts/start.sh, nobody connected): {100 * result['idle_server_cpu_share']:.1f}% "
              f"of one core, {result['idle_console_lines']} console lines")
        print(f"quick start in the browser, click to verdict (median of {len(quick)}): {result['quick_start_s']:.1f} s")
        print(f"first page rendered (median of {len(renders)} new sessions): {result['first_render_s']:.2f} s")
        print(f"page switch (median of {len(switches)}): {result['page_switch_s']:.2f} s")
        print(f"widget change answered while training (median of {len(latencies)}): "
              f"{result['widget_change_during_training_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
