"""Experiments and Tune in a real browser: recorded runs survive a server restart, can be compared,
loaded back and deleted; a hyperparameter search runs, hands its best settings to Train, and stops.

Every step is a click or a keystroke; pages are changed through the sidebar only (a new URL would
start a new Streamlit session). The run-store tests start their own servers with a fresh
FORECASTER_HOME, so their store starts empty whatever else the session trained; the Tune tests use
the shared server. Trainings and searches are tiny (2 epochs, 8 units, 4 trials).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from forecaster.errors import StoreError
from forecaster.runs import RunStore

from .conftest import REPO_ROOT, _free_port, _stop, _tail, _wait_healthy, streamlit_command
from .helpers import (
    alert_texts,
    click_button,
    click_sidebar_link,
    dataframe_rows,
    exception_texts,
    main_text,
    open_app,
    record_progress,
    recorded_progress,
    set_number,
    wait_charts,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.e2e

TRAIN_TIMEOUT_MS = 150_000  # a tiny run on a busy two-core machine, torch import included
SEARCH_TIMEOUT_MS = 240_000  # four tiny trials, the optuna import included
STOP_TIMEOUT_MS = 20_000
ROW_PX, HEADER_PX = 35, 35  # st.dataframe's row and header heights
GRID = '[data-testid="stDataFrame"]'


# --- servers of our own ---------------------------------------------------------------------------


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[[Path], tuple[str, Path]]]:
    """`start_server(home)` starts `streamlit run app.py` (as the shared fixture does) with FORECASTER_HOME=home.

    Returns (base URL, its log file). `stop_servers()` on the returned callable stops every one started so
    far; all are stopped at the end of the test, and none may have logged a traceback.
    """
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []

    def start(home: Path) -> tuple[str, Path]:
        port = _free_port()
        log = tmp_path / f"streamlit-{len(logs) + 1}.log"
        env = dict(os.environ)
        env["FORECASTER_HOME"] = str(home)
        env["PYTHONUNBUFFERED"] = "1"
        cmd = streamlit_command(REPO_ROOT / "app.py", port)
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        logs.append(log)
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(proc, f"{url}/_stcore/health", log)
        return url, log

    def stop_all() -> None:
        for proc in procs:
            _stop(proc)

    start.stop_servers = stop_all  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        stop_all()
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace"), f"{log.name} has a traceback:\n{_tail(log)}"


@pytest.fixture(autouse=True)
def clean_page(page, browser_messages: list[str]) -> Iterator[None]:
    """After every test: nothing left running in the session, no exception box, no JavaScript error."""
    yield
    for label in ("Stop search", "Stop"):  # a failed test must not leave a job eating the CPU
        try:
            button = page.get_by_role("button", name=label, exact=True)
            if button.count() and button.first.is_enabled():
                button.first.click(timeout=5_000)
        except Exception:  # the page or its server may be gone already
            pass
    assert exception_texts(page) == []
    assert [m for m in browser_messages if m.startswith("page error")] == []


def _new_log_text(log: Path, start: int) -> str:
    with open(log, "rb") as handle:
        handle.seek(start)
        return handle.read().decode(errors="replace")


# --- steps a person takes -------------------------------------------------------------------------


def _train_tiny(page, units: int, run_id: int) -> None:
    """On the Train page: 2 epochs of `units` units, press Train, wait until it is kept as run `run_id`."""
    set_number(page, "Max epochs", 2)
    set_number(page, "Units", units)
    click_button(page, "Train", wait=False)
    wait_for_text(page, rf"Kept as run {run_id}\b", timeout=TRAIN_TIMEOUT_MS)
    wait_idle(page, timeout=60_000)
    assert re.search(r"Trained \d+ epochs", main_text(page))


def _grid(page, index: int = 0):
    return page.locator(GRID).nth(index)


def _tick_row(page, row: int) -> None:
    """Click a row's checkbox in the runs table (drawn on the grid's canvas, in its first column)."""
    grid = _grid(page)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None, "the runs table is not drawn"
    page.mouse.click(box["x"] + 15, box["y"] + HEADER_PX + row * ROW_PX + ROW_PX // 2)
    wait_idle(page)


def _runs_table(page) -> tuple[list[str], list[list[str]]]:
    """The runs table's heading and body rows (cell texts, full precision)."""
    rows = dataframe_rows(page, 0)
    header, body = rows[0], [row for row in rows[1:] if any(row)]
    # The selection column (row checkboxes) may lead each row; keep the table's own columns.
    offset = len(header) - header[::-1].index("ID") - 1 if "ID" in header else 0
    return header[offset:], [row[len(row) - len(header) + offset:] for row in body]


def _check_runs_listed(page, store: RunStore, count: int) -> None:
    """The Experiments table lists the store's `count` runs, oldest first, with their MAE and naive MAE."""
    wait_for_text(page, rf"{count} of {count} runs shown")
    runs = sorted(store.runs(), key=lambda run: run.id)
    assert len(runs) == count, [run.id for run in runs]
    header, body = _runs_table(page)
    assert {"ID", "MAE", "Naive MAE"} <= set(header), header
    assert len(body) == count, body
    for run, row in zip(runs, body):
        cells = dict(zip(header, row))
        assert int(float(cells["ID"])) == run.id, (cells, run.id)
        assert run.mae is not None and run.naive_mae is not None and run.mae > 0 and run.naive_mae > 0
        assert float(cells["MAE"]) == pytest.approx(run.mae, rel=1e-3), cells
        assert float(cells["Naive MAE"]) == pytest.approx(run.naive_mae, rel=1e-3), cells


def _two_runs(page, start_server, tmp_path: Path, units: tuple[int, int]) -> tuple[RunStore, str]:
    """A server of our own on an empty store, and two tiny runs trained on its Train page."""
    home = tmp_path / "home"
    store = RunStore(home / "runs.sqlite")
    url, _ = start_server(home)
    open_app(page, url)
    click_sidebar_link(page, "Train")
    for run_id, size in enumerate(units, start=1):
        _train_tiny(page, units=size, run_id=run_id)
    return store, url


# --- the run store ----------------------------------------------------------------------------------


def test_runs_survive_a_restart_and_load_and_compare(page, start_server, tmp_path, screenshot):
    store, _ = _two_runs(page, start_server, tmp_path, units=(8, 16))
    home = store.path.parent
    screenshot("1-trained-twice")
    assert [run.id for run in store.runs()] == [2, 1]

    # A new server process on the same home: the runs are still there.
    start_server.stop_servers()
    url, _ = start_server(home)
    open_app(page, url)
    click_sidebar_link(page, "Experiments")
    assert page.locator("h1").first.inner_text().strip() == "Experiments"
    _check_runs_listed(page, store, 2)
    text = main_text(page)
    assert f"store: {store.path}" in text, text[-400:]
    assert "Tick one run to load or delete it" in text
    screenshot("2-after-restart")

    # Tick the first run and load its model.
    _tick_row(page, 0)
    load = page.get_by_role("button", name="Load run 1's model", exact=True)
    load.wait_for(state="visible")
    assert page.get_by_role("button", name="Load run 2's model", exact=True).count() == 0
    click_button(page, "Load run 1's model", timeout=60_000)
    wait_for_text(page, r"Loaded run 1's model")
    assert not [t for t in alert_texts(page) if "cannot" in t], alert_texts(page)
    screenshot("3-loaded")

    click_sidebar_link(page, "Forecast")
    assert page.locator("h1").first.inner_text().strip() == "Forecast"
    wait_charts(page, 1)
    assert "No model yet" not in main_text(page)
    assert exception_texts(page) == []
    screenshot("4-forecast")

    # Back on Experiments: tick both runs to see them side by side.
    click_sidebar_link(page, "Experiments")
    _check_runs_listed(page, store, 2)
    if page.get_by_role("button", name="Load run 1's model", exact=True).count():
        _tick_row(page, 1)  # run 1's tick was kept while we were away
    else:
        assert "Tick one run to load or delete it" in main_text(page)
        _tick_row(page, 0)
        page.get_by_role("button", name="Load run 1's model", exact=True).wait_for(state="visible")
        _tick_row(page, 1)
    wait_for_text(page, r"Side by side")
    wait_charts(page, 1)
    rows = dataframe_rows(page, 1)
    heading = " | ".join(rows[0])
    assert "Run 1 · LSTM 1×8" in heading and "Run 2 · LSTM 1×16" in heading and "Naive" in heading, heading
    metrics = {row[0]: row[1:] for row in rows[1:] if row}
    assert "MAE" in metrics, list(metrics)
    assert "Tick a single run to load its model." in main_text(page)
    assert page.get_by_role("button", name=re.compile("Delete 2 runs")).count() == 1
    screenshot("5-side-by-side")
    assert exception_texts(page) == []


def test_delete_a_run_from_the_page(page, start_server, tmp_path, screenshot):
    store, _ = _two_runs(page, start_server, tmp_path, units=(8, 8))
    assert store.get(1).has_model

    click_sidebar_link(page, "Experiments")
    _check_runs_listed(page, store, 2)
    _tick_row(page, 0)
    page.get_by_role("button", name="Load run 1's model", exact=True).wait_for(state="visible")
    click_button(page, "Delete 1 run")
    confirm = page.get_by_role("button", name="Delete for good")
    confirm.wait_for(state="visible")
    assert "Delete run 1 and its saved model for good?" in page.locator('[data-testid="stPopoverBody"]').inner_text()
    screenshot("1-confirm")
    confirm.click()
    wait_idle(page, timeout=60_000)

    assert [run.id for run in store.runs()] == [2]
    with pytest.raises(StoreError, match="no run 1"):
        store.model_archive(1)  # its model went with it
    assert store.load_model(2) is not None  # the other run and its model stay
    _check_runs_listed(page, store, 1)
    assert "Tick one run to load or delete it" in main_text(page)  # the tick went with the run
    screenshot("2-deleted")
    # The grid in the browser keeps its own ticks: anything that reruns the page (here: exporting the
    # table) must not tick run 2, which moved into the deleted run's row, behind the user's back.
    with page.expect_download(timeout=30_000):
        page.get_by_role("button", name="Export table as CSV").click()
    wait_idle(page)
    assert page.get_by_role("button", name="Load run 2's model", exact=True).count() == 0, "run 2 got ticked by itself"
    assert "Tick one run to load or delete it" in main_text(page)
    assert exception_texts(page) == []


# --- the Tune page ----------------------------------------------------------------------------------


def _search_only(page, keep: set[str]) -> None:
    """Remove every setting but `keep` from "Settings to search" with the tags' × buttons."""
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Settings to search")

    def chosen() -> list[str]:
        return box.locator("[data-tag]").evaluate_all("tags => tags.map(tag => tag.getAttribute('aria-label'))")

    assert keep <= set(chosen()), chosen()
    for name in [name for name in chosen() if name not in keep]:
        box.get_by_role("button", name=f"Remove {name}", exact=True).click()
        wait_idle(page)
    assert sorted(chosen()) == sorted(keep)


_GRID_TEXT_JS = """
(pattern) => {
    const re = new RegExp(pattern);
    for (const cell of document.querySelectorAll('[data-testid="stDataFrame"] [role="gridcell"]')) {
        if (re.test(cell.textContent)) { return cell.textContent; }
    }
    return false;
}
"""


def _wait_for_trial_row(page, timeout: float) -> str:
    """Wait until the live trials table shows a finished trial; its state."""
    return page.wait_for_function(_GRID_TEXT_JS, arg=r"^(complete|pruned|COMPLETE|PRUNED)$", timeout=timeout,
                                  polling=200).json_value()


def _setup_search(page, trials: int, epochs: int = 2) -> None:
    click_sidebar_link(page, "Tune")
    assert page.locator("h1").first.inner_text().strip() == "Tune"
    _search_only(page, {"Units", "Learning rate"})
    set_number(page, "Trials", trials)
    set_number(page, "Epochs per trial", epochs)


def test_search_then_train_with_the_best_settings(page, app_server, server_log, screenshot):
    log_start = server_log.stat().st_size if server_log.exists() else 0
    open_app(page, app_server)
    _setup_search(page, trials=4)
    screenshot("1-set-up")

    record_progress(page)
    click_button(page, "Start search", wait=False)
    state = _wait_for_trial_row(page, timeout=SEARCH_TIMEOUT_MS)
    assert state.lower() in ("complete", "pruned")
    wait_charts(page, 1)
    screenshot("2-running")

    button = page.get_by_role("button", name="Train with these settings")
    button.wait_for(state="visible", timeout=SEARCH_TIMEOUT_MS)
    wait_idle(page, timeout=60_000)
    best = wait_for_text(page, r"Best validation loss [\d.]+ \(trial \d+\)[^\n]*")
    units = re.search(r"units (\d+)", best.group(0))
    lr = re.search(r"learning rate (\d\.\de-\d\d)", best.group(0))
    assert units and lr, best.group(0)
    seen = recorded_progress(page)
    assert seen and all(re.match(r"Trial \d+ of 4 running for \d+s", text) for text in seen), seen
    assert page.locator('[data-testid="stProgress"]').count() == 0  # the bar goes once the search ends
    assert page.get_by_role("button", name="Start search").is_enabled()
    text = main_text(page)
    assert re.search(r"\d+ complete, \d+ pruned, 0 failed", text), text[-800:]
    assert "The search was stopped" not in text
    rows = dataframe_rows(page, 0)
    assert len([row for row in rows[1:] if any(row)]) == 4, rows
    screenshot("3-done")

    click_button(page, "Train with these settings", timeout=60_000)
    page.locator("h1").filter(has_text="Train").first.wait_for(timeout=30_000)
    assert page.locator("h1").first.inner_text().strip() == "Train"
    assert int(float(page.get_by_label("Units", exact=True).input_value())) == int(units.group(1))
    shown_lr = float(page.get_by_label("Learning rate", exact=True).input_value())
    assert shown_lr == pytest.approx(float(lr.group(1)), rel=0.05)  # the message rounds to two digits
    screenshot("4-train-page")
    assert exception_texts(page) == []
    assert "Traceback" not in _new_log_text(server_log, log_start)


def test_stop_a_search(page, app_server, server_log, screenshot):
    log_start = server_log.stat().st_size if server_log.exists() else 0
    open_app(page, app_server)
    _setup_search(page, trials=50, epochs=40)  # trials long enough to watch one learn
    click_button(page, "Start search", wait=False)
    wait_for_text(page, r"Trial \d+ of 50 running", timeout=60_000)
    _wait_for_trial_row(page, timeout=SEARCH_TIMEOUT_MS)
    # The running trial shows how far it has got, not only how long it has run.
    wait_for_text(page, r"Trial \d+ of 50 running for \d+s · epoch \d+ of 40, validation loss [\d.]+",
                  timeout=SEARCH_TIMEOUT_MS)
    assert page.get_by_role("button", name="Start search").is_disabled()  # one search at a time
    screenshot("running")
    page.get_by_role("button", name="Stop search").click(timeout=30_000)
    stopped = wait_for_text(page, r"The search was stopped after (\d+) trials", timeout=STOP_TIMEOUT_MS)
    wait_idle(page, timeout=30_000)
    assert 1 <= int(stopped.group(1)) < 50
    assert page.get_by_role("button", name="Stop search").count() == 0
    assert page.get_by_role("button", name="Start search").is_enabled()
    screenshot("stopped")
    assert exception_texts(page) == []
    assert "Traceback" not in _new_log_text(server_log, log_start)
