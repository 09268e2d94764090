"""Helpers that drive the Streamlit app in a browser the way a person does (clicks, not URLs)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # no runtime import: test modules must import even without playwright
    from playwright.sync_api import Locator, Page

# True once the app is connected and its script has stayed "notRunning" for
# `settleMs`: Streamlit flips to "running" a few milliseconds after a click,
# so a short quiet period avoids declaring idle before the rerun even began.
_IDLE_JS = """
(settleMs) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app !== null
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && document.querySelector('[data-testid="stStatusWidgetRunningIcon"]') === null;
    if (!idle) { window.__forecasterIdleSince = undefined; return false; }
    if (window.__forecasterIdleSince === undefined) {
        window.__forecasterIdleSince = performance.now();
    }
    return performance.now() - window.__forecasterIdleSince >= settleMs;
}
"""


def wait_idle(page: Page, timeout: float = 30_000, settle_ms: int = 400) -> None:
    """Wait until the app's script run (and any rerun it triggered) has finished."""
    page.evaluate("() => { window.__forecasterIdleSince = undefined; }")
    page.wait_for_function(_IDLE_JS, arg=settle_ms, timeout=timeout, polling=100)


def open_app(page: Page, base_url: str, timeout: float = 60_000) -> None:
    """Load the app's home page and wait until the first run has drawn everything."""
    page.goto(base_url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    wait_idle(page, timeout=timeout)


def _nav_links(page: Page, text: str, exact: bool) -> Locator:
    nav = page.locator('[data-testid="stSidebarNav"], [data-testid="stTopNav"]')
    return nav.get_by_role("link", name=text, exact=exact)


def click_sidebar_link(page: Page, text: str, timeout: float = 30_000) -> None:
    """Go to another page by clicking its link in the navigation (a new URL would start a new session)."""
    links = _nav_links(page, text, exact=True)
    if links.count() == 0:
        # Long page lists are folded behind "View N more".
        more = page.locator('[data-testid="stSidebarNavViewButton"]')
        if more.count() and re.match(r"View \d+ more", more.inner_text()):
            more.click()
        links = _nav_links(page, text, exact=True)
    if links.count() == 0:
        # Link names may carry an icon or emoji before the title.
        links = _nav_links(page, text, exact=False)
    if links.count() == 0:
        # Pages may also be linked with st.page_link in the sidebar.
        links = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]').filter(
            has_text=text
        )
    links.first.click(timeout=timeout)
    wait_idle(page, timeout=timeout)


def click_button(page: Page, label: str, timeout: float = 30_000, wait: bool = True) -> None:
    """Click the (first visible) button whose label is `label` and wait for the rerun to finish."""
    button = page.get_by_role("button", name=label, exact=True)
    if button.count() == 0:
        button = page.get_by_role("button", name=label)
    button.first.click(timeout=timeout)
    if wait:
        wait_idle(page, timeout=timeout)


def exception_texts(page: Page) -> list[str]:
    """Texts of any uncaught-exception boxes Streamlit drew (should be empty)."""
    return page.locator('[data-testid="stException"]').all_inner_texts()


# --- Reading what a person sees ----------------------------------------------------------------

MAIN = '[data-testid="stMain"]'


def main_text(page: Page) -> str:
    """All text of the page's main area (not the sidebar), as a person reads it."""
    return page.locator(MAIN).inner_text()


_MATCH_JS = """
([selector, source]) => {
    const element = document.querySelector(selector);
    if (element === null) { return false; }
    const match = element.innerText.match(new RegExp(source));
    return match ? match[0] : false;
}
"""


def wait_for_text(page: Page, pattern: str, timeout: float = 60_000, selector: str = MAIN) -> re.Match:
    """Wait until the text under `selector` matches `pattern` (a regex valid in both JS and Python).

    The match is taken in the browser at the moment it appears, so text that changes every
    second (training progress) is read consistently; the Python match of that text is returned.
    """
    handle = page.wait_for_function(_MATCH_JS, arg=[selector, pattern], timeout=timeout, polling=100)
    matched = handle.json_value()
    found = re.search(pattern, matched)
    assert found is not None, f"{pattern!r} matched {matched!r} in the browser but not in Python"
    return found


def set_number(page: Page, label: str, value: float, timeout: float = 30_000) -> None:
    """Type a value into the number input labelled `label`, commit it with Enter and wait for the rerun."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value), timeout=timeout)
    field.press("Enter")
    wait_idle(page, timeout=timeout)
    shown = page.get_by_label(label, exact=True).input_value()
    assert float(shown) == float(value), f"{label!r} shows {shown!r} after typing {value!r}"


def choose_radio(page: Page, option: str, timeout: float = 30_000) -> None:
    """Click a radio option by its visible text and wait for the rerun."""
    page.locator('[data-testid="stRadio"]').get_by_text(option, exact=True).click(timeout=timeout)
    wait_idle(page, timeout=timeout)


def alert_texts(page: Page) -> list[str]:
    """Texts of the st.error / st.warning / st.info / st.success boxes on the page."""
    return page.locator('[data-testid="stAlert"]').all_inner_texts()


def dataframe_rows(page: Page, index: int = 0, timeout: float = 30_000) -> list[list[str]]:
    """Header and body rows of the `index`-th st.dataframe, as lists of cell texts.

    st.dataframe paints its cells on a canvas (glide-data-grid), but the grid also keeps an
    accessibility table (role="row" / "columnheader" / "gridcell") with every visible cell's
    value for screen readers; that is what is read here. Values there are unformatted (full
    precision), and a missing value is an empty string.
    """
    grid = page.locator('[data-testid="stDataFrame"]').nth(index)
    grid.locator('[role="gridcell"]').first.wait_for(state="attached", timeout=timeout)
    return grid.evaluate(
        """grid => Array.from(grid.querySelectorAll('[role="row"]')).map(row =>
            Array.from(row.querySelectorAll('[role="columnheader"], [role="rowheader"], [role="gridcell"]'))
                .map(cell => cell.innerText.trim()))"""
    )


# --- Watching training progress -------------------------------------------------------------------

_RECORD_PROGRESS_JS = """
() => {
    if (window.__forecasterProgressObserver) { window.__forecasterProgressObserver.disconnect(); }
    const seen = [];
    window.__forecasterProgress = seen;
    const look = () => {
        for (const bar of document.querySelectorAll('[data-testid="stProgress"]')) {
            const text = bar.innerText.trim();
            if (text && seen[seen.length - 1] !== text) { seen.push(text); }
        }
    };
    const observer = new MutationObserver(look);
    observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
    window.__forecasterProgressObserver = observer;
    look();
}
"""


def record_progress(page: Page) -> None:
    """Start noting every progress-bar text the page shows, even ones that last a fraction of a second."""
    page.evaluate(_RECORD_PROGRESS_JS)


def recorded_progress(page: Page) -> list[str]:
    """Progress-bar texts seen since `record_progress` (each change once, in order)."""
    return page.evaluate("() => (window.__forecasterProgress || []).slice()")


def epochs_in(texts: list[str]) -> list[int]:
    """Epoch numbers named by progress texts ("Epoch 7 of at most 60 ..." -> 7; "Preparing ... epoch 1" -> 0)."""
    numbers = []
    for text in texts:
        found = re.search(r"Epoch (\d+) of at most", text)
        if found:
            numbers.append(int(found.group(1)))
        elif text.startswith("Preparing data"):
            numbers.append(0)
    return numbers


_EPOCH_ABOVE_JS = """
(above) => {
    for (const bar of document.querySelectorAll('[data-testid="stProgress"]')) {
        const match = bar.innerText.match(/Epoch (\\d+) of at most/);
        if (match && Number(match[1]) > above) { return Number(match[1]); }
    }
    return false;
}
"""


def wait_for_epoch(page: Page, above: int, timeout: float = 60_000) -> int:
    """Wait until the progress bar reports an epoch greater than `above`; that epoch."""
    return int(page.wait_for_function(_EPOCH_ABOVE_JS, arg=above, timeout=timeout, polling=100).json_value())


def wait_charts(page: Page, count: int = 1, timeout: float = 30_000) -> None:
    """Wait until at least `count` Plotly charts have been drawn (their code loads lazily, once per browser)."""
    page.wait_for_function(
        """(count) => document.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg').length >= count""",
        arg=count, timeout=timeout, polling=100,
    )
