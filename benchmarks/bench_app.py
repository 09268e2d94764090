"""How fast the app answers a person: first render, page switch, widget change during training.

Starts `streamlit run app.py` headless on a free port and drives Debian's Chromium with
Playwright. Run: python benchmarks/bench_app.py [--quick] [--json]
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


def start_server(port: int, home: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.fileWatcherType", "none", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "FORECASTER_HOME": home},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("the app did not start within 60 s")


def sidebar(page, name: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=name).first.click()


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


def widget_latency(page, rounds: int) -> list[float]:
    """Seconds from moving the Data page's training-part slider to its caption being redrawn."""
    sidebar(page, "Data")
    page.get_by_role("heading", name="Using: ").first.wait_for()
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
    with tempfile.TemporaryDirectory() as home:
        server = start_server(port, home)
        url = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                renders = [first_render(browser, url) for _ in range(rounds)]
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
    result = {"first_render_s": round(statistics.median(renders), 3),
              "page_switch_s": round(statistics.median(switches), 3),
              "widget_change_during_training_ms": round(1000 * statistics.median(latencies)),
              "samples": {"first_render": len(renders), "page_switch": len(switches), "widget_change": len(latencies)}}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"first page rendered (median of {len(renders)} new sessions): {result['first_render_s']:.2f} s")
        print(f"page switch (median of {len(switches)}): {result['page_switch_s']:.2f} s")
        print(f"widget change answered while training (median of {len(latencies)}): "
              f"{result['widget_change_during_training_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
