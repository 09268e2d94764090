"""Shared test setup: an isolated FORECASTER_HOME and a small synthetic series."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

# Property-based fuzzing: a quick profile for every run of the suite, a long one run by hand:
#   HYPOTHESIS_PROFILE=long python -m pytest -q tests/test_csv_reader.py tests/test_hostile.py -k "input"
FUZZ_EXAMPLES = {"quick": 100, "long": 5000}
for _name, _examples in FUZZ_EXAMPLES.items():
    settings.register_profile(_name, max_examples=_examples, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))

_saved_home: str | None = None
_test_home: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    # Set before any test module is imported, so even a default computed at
    # import time points into the temporary folder, never at ~/.forecaster.
    global _saved_home, _test_home
    _saved_home = os.environ.get("FORECASTER_HOME")
    _test_home = tempfile.mkdtemp(prefix="forecaster-home-")
    os.environ["FORECASTER_HOME"] = _test_home
    # One torch thread in tests and in the app servers they start: the CI machine has 2 shared cores.
    os.environ.setdefault("FORECASTER_THREADS", "1")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _test_home is None:
        return
    if _saved_home is None:
        os.environ.pop("FORECASTER_HOME", None)
    else:
        os.environ["FORECASTER_HOME"] = _saved_home
    shutil.rmtree(_test_home, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def forecaster_home() -> Path:
    """The session's FORECASTER_HOME (a temporary folder); re-asserted in case a test changed it."""
    assert _test_home is not None
    os.environ["FORECASTER_HOME"] = _test_home
    return Path(_test_home)


SYNTHETIC_LENGTH = 600
SYNTHETIC_PERIOD = 30


@pytest.fixture
def synthetic_series() -> pd.DataFrame:
    """600 daily rows from 2020-01-01: y = trend + 30-day sine + noise, x = the matching cosine.

    x leads y by a quarter period, so it carries information about y's future.
    Deterministic (seed 0) and fresh for every test, so a test may modify it.
    """
    t = np.arange(SYNTHETIC_LENGTH, dtype="float64")
    rng = np.random.default_rng(0)
    phase = 2 * np.pi * t / SYNTHETIC_PERIOD
    y = 10 + 0.01 * t + 3 * np.sin(phase) + rng.normal(0.0, 0.3, SYNTHETIC_LENGTH)
    x = np.cos(phase)
    index = pd.date_range("2020-01-01", periods=SYNTHETIC_LENGTH, freq="D", name="date")
    return pd.DataFrame({"y": y, "x": x}, index=index)


# ---------------------------------------------------------------- a real PostgreSQL server

@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server's URL: $FORECASTER_TEST_POSTGRES (as .ci/run sets), or a cluster started for the session.

    Without the server's binaries the tests that need it are skipped (failed where $CI is set).
    """
    import pg_server

    given = os.environ.get(pg_server.ENV, "").strip()
    if given:
        yield given
        return
    if pg_server.binaries_missing():
        message = f"PostgreSQL is not installed; run: {pg_server.APT} (or set {pg_server.ENV} to a server URL)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = pg_server.Cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[str]:
    """A new, empty database on the test server, for one test (dropped after it, open connections and all)."""
    import pg_server

    from forecaster.runs import close_engines

    url = pg_server.fresh_database(postgres_url)
    try:
        yield url
    finally:
        close_engines()
        pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store: a SQLite file's URL, then an empty PostgreSQL database's."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'runs.sqlite'}"
    return request.getfixturevalue("postgres_db")


# ---------------------------------------------------------------- a real Dask cluster

@pytest.fixture(scope="session")
def dask_cluster() -> Iterator:
    """A `dask scheduler` and two one-thread `dask worker` processes on loopback, shared by the session's tests."""
    import dask_server

    cluster = dask_server.DaskCluster(workers=2)
    try:
        yield cluster
    finally:
        cluster.stop()
