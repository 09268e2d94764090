"""benchmarks/bench_cluster.py's own arithmetic: comparing two backtests' fold metrics, the scheduler log filter.

The benchmark itself (a local cluster, 8 folds twice) runs in CI in quick mode; this only loads the file.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cluster.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_cluster", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_cluster"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_cluster", None)


def folds(*maes: float) -> list[dict]:
    return [{"lstm": {"mae": mae, "rmse": 2 * mae}, "naive": {"mae": 1.0, "rmse": math.nan}} for mae in maes]


def test_equal_backtests_differ_by_nothing_and_nan_equals_nan(bench):
    assert bench.largest_difference(folds(0.5, 0.25), folds(0.5, 0.25)) == 0.0
    assert "match" in bench.match_line(0.0, "1-thread serial")


def test_the_largest_relative_difference_is_found(bench):
    difference = bench.largest_difference(folds(0.5, 0.25), folds(0.5, 0.25 * (1 + 1e-3)))
    assert difference == pytest.approx(1e-3, rel=1e-2)
    assert "DIFFER" in bench.match_line(difference, "1-thread serial")


def test_backtests_of_other_shapes_do_not_compare(bench):
    assert bench.largest_difference(folds(0.5), folds(0.5, 0.25)) == math.inf
    other = folds(0.5)
    other[0]["lstm"]["rmse"] = math.inf
    assert bench.largest_difference(folds(0.5), other) == math.inf
    assert bench.finite(math.inf) is None
    assert "DIFFER" in bench.match_line(None, "1-thread serial")


def test_only_the_schedulers_poll_timeouts_are_kept_off_the_screen(bench):
    timeouts = bench.ExpectedTimeouts()

    def record(message: str, error: BaseException | None) -> logging.LogRecord:
        info = (type(error), error, None) if error else None
        return logging.LogRecord("distributed.core", logging.ERROR, __file__, 1, message, ("queue_get",), info)

    assert not timeouts.filter(record("Exception while handling op %s", TimeoutError()))
    assert timeouts.filter(record("Exception while handling op %s", ValueError("a real failure")))
    assert timeouts.filter(record("Lost connection to %r", None))
    assert timeouts.count == 1
