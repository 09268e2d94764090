"""The project's own Streamlit settings: what `streamlit run app.py` gets without any flag."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_app_watches_no_files_by_default():
    """Watching the checkout (.venv included) kept a core busy and flooded the console with inotify warnings."""
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["fileWatcherType"] == "none"
    start = (ROOT / "scripts" / "start.sh").read_text()
    assert "fileWatcherType" not in start, "start.sh must not override the project's setting"


def test_no_full_garbage_collection_after_every_rerun():
    """A live view reruns every second; a gc.collect(2) after each kept a third of a core busy per browser."""
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["runner"]["postScriptGC"] is False
