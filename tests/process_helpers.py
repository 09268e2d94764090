"""Environment for a child process that runs the library: this checkout first on the path, one torch thread."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child_env() -> dict[str, str]:
    """os.environ with the checkout prepended to PYTHONPATH (packages found through it stay found)."""
    path = os.pathsep.join(part for part in (str(REPO), os.environ.get("PYTHONPATH", "")) if part)
    return {**os.environ, "PYTHONPATH": path, "FORECASTER_THREADS": "1"}
