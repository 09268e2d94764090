"""Shared AppTest helpers for the page tests: open the app and move to a page with a prepared session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(page: str, **session_state: Any) -> AppTest:
    """Run the app with these session values (None values are skipped), switch to `page`, check no exception."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in session_state.items():
        if value is not None:
            at.session_state[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def start_backtest(at: AppTest, *, epochs: int, folds: int | None = None) -> Any:
    """On the Results page: set the backtest's epochs per fold (and folds), press Run backtest, return its job."""
    if folds is not None:
        [number] = [n for n in at.number_input if n.label == "Folds"]
        number.set_value(folds).run()
    [number] = [n for n in at.number_input if n.label == "Max epochs per fold"]
    number.set_value(epochs).run()
    [button] = [b for b in at.button if b.label == "Run backtest"]
    button.click().run()
    assert not at.exception
    return at.session_state["backtest_job"][1]
