"""Smoke test of benchmarks/bench_accuracy.py: tiny models on the shortest real series, the output's shape."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_accuracy.py"
LAST = re.compile(r"^lstm/best-baseline MAE: geometric mean \d+\.\d{3}, worst \d+\.\d{3} \((\S+)\)$")
TINY = ["--seeds", "0", "--threads", "1", "--set", "train.epochs=1", "--set", "model.units=8"]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_accuracy", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_accuracy"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_accuracy", None)


def test_text_output_reports_cases_skips_and_ends_with_the_headline(bench, capsys):
    # nile has 100 yearly rows; GOOG's 68 months are too few for a 12-month horizon at the defaults.
    assert bench.main(["--cases", "nile/h1,monthly-goog/h12", *TINY]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    nile = next(line for line in lines if line.startswith("nile/h1 "))
    assert re.search(r"LSTM MAE \S+ \(\S+-\S+\), best .+ \S+, lstm/best \d\.\d{3} \(seeds \d\.\d{3}\), "
                     r"lstm/naive \d\.\d{3}, epochs 1  \[\d+\.\d s, 1 thr\]$", nile), nile
    goog = next(line for line in lines if line.startswith("monthly-goog/h12 "))
    assert re.search(r": skipped: .*68 .*rows", goog), goog  # the library's own one-line reason
    assert "1 cases ran, 1 skipped" in lines[-2] and lines[-2].startswith("worst single seed: lstm/best ")
    assert LAST.match(lines[-1]).group(1) == "nile/h1"


def test_json_and_variants(bench, capsys):
    assert bench.main(["--cases", "nile/h1", "--json", "--variants", "base:;small:model.units=4", *TINY]) == 0
    captured = capsys.readouterr()
    *body, last = captured.out.strip().splitlines()
    payload = json.loads("\n".join(body))
    assert [v["name"] for v in payload["variants"]] == ["base", "small"]
    assert payload["variants"][1]["overrides"] == {"train": {"epochs": 1}, "model": {"units": 4}}
    run = payload["cases"]["small"][0]["runs"][0]
    assert run["seed"] == 0 and run["epochs"] == 1 and run["skipped"] is None and run["lstm_mae"] > 0
    assert payload["summary"]["base"]["ran"] == 1 and LAST.match(last)
    assert "base nile/h1" in captured.err and "small nile/h1" in captured.err  # per-case lines on stderr


def test_variants_table_in_text_mode(bench, capsys):
    bench.main(["--cases", "nile/h1", "--variants", "a:;b:model.units=4", *TINY])
    out = capsys.readouterr().out
    assert re.search(r"^a +1 +0 +\d\.\d{3}", out, re.M) and re.search(r"^b +1 +0 +\d\.\d{3}", out, re.M)
    assert "(the lines below are for the first variant, a)" in out


def test_overrides_are_parsed_and_checked(bench):
    assert bench.parse_overrides(["model.units=32", "train.lr=3e-3", "model.residual=false", "data.split=0.6|0.2|0.2"]) \
        == {"model": {"units": 32, "residual": False}, "train": {"lr": 0.003}, "data": {"split": (0.6, 0.2, 0.2)}}
    for bad, words in (("model.unit=3", "model has no option 'unit'"), ("units=3", "section.key=value"),
                       ("model.units=2", "units must be"), ("train.seed=1", "--seeds"), ("net.units=3", "section")):
        with pytest.raises(ValueError, match=re.escape(words)):
            bench.parse_overrides([bad])


def test_panel_covers_every_frequency_at_both_horizons(bench):
    cases = bench.panel()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)) == 2 * len(bench.series_names())
    assert {c.series for c in cases} >= {"seattle-weather", "sf-temps", "sp500", "wti", "co2", "sunspots", "realgdp"}
    assert {c.name for c in bench.panel(quick=True)} == set(bench.QUICK) and set(bench.QUICK) <= set(names)
    assert [c.name for c in bench.panel(names=["vix"])] == ["vix/h1", "vix/h5"]
    assert bench.multi_horizon("W-SAT") == 13 and bench.multi_horizon("QS-OCT") == 4
    with pytest.raises(ValueError, match="unknown case"):
        bench.panel(names=["nope/h3"])


def test_extra_series_are_datasets_with_their_declared_frequency(bench):
    for name, (freq, _) in bench.EXTRA.items():
        dataset = bench.load_series(name)
        frame = dataset.frame
        assert dataset.freq == freq, name
        assert frame.index.name == "date" and frame.index.is_monotonic_increasing, name
        assert (frame.dtypes == "float64").all() and dataset.target in frame.columns, name
        assert frame[dataset.target].notna().all(), name
