"""The run store: every training run's data, settings, curves, metrics and model, in one SQLite file."""

from __future__ import annotations

from pathlib import Path

from forecaster.datasets import home

STORE_FILE = "runs.sqlite"


def default_store_path() -> Path:
    """The studio's one store file: $FORECASTER_HOME/runs.sqlite (Optuna studies live in it too)."""
    return home() / STORE_FILE


def storage_url(path: str | Path | None = None) -> str:
    """The SQLAlchemy URL of a store file, as Optuna's storage takes it."""
    return f"sqlite:///{Path(path) if path is not None else default_store_path()}"
