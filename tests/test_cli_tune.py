"""Tests for the tune command: JSON and text output, the train line it prints, and its one-line errors."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shlex
from pathlib import Path

import pytest

from forecaster import cli
from forecaster.cli.options import config_from_args
from forecaster.cli.tune import SEARCHABLE, TUNE_EPOCHS, TUNE_PATIENCE, add_tune
from forecaster.config import ForecasterConfig, TrainConfig
from forecaster.csv_reader import read_csv
from forecaster.runs import storage_url
from forecaster.training import configure_threads
from forecaster.tuning import PARAMS

TINY = ["--units", "8", "--window", "14", "--units-range", "4,16", "--search", "lr,window", "--lr-range", "1e-3,1e-2",
        "--window-range", "7,21"]

configure_threads(1)


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FORECASTER_THREADS", "1")  # main() calls configure_threads()
    yield
    configure_threads(1)


@pytest.fixture
def csv_path(synthetic_series, tmp_path) -> Path:
    path = tmp_path / "series.csv"
    synthetic_series.to_csv(path, index_label="date")
    return path


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_the_cli_knows_every_searchable_parameter():
    assert SEARCHABLE == PARAMS


def test_tune_json_reports_the_best_params_and_a_train_line_that_rebuilds_them(csv_path, tmp_path):
    storage = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    code, out, err = run(["tune", "--data", str(csv_path), "--target", "y", "--features", "x", "--epochs", "3",
                          "--trials", "4", "--storage", storage, "--study", "cli", "--json", *TINY])
    assert code == 0, err
    payload = json.loads(out)
    assert payload["study"] == "cli" and payload["storage"] == storage
    assert set(payload["best_params"]) == {"units", "window", "lr"}  # --units-range added units to --search
    assert payload["n_complete"] + payload["n_pruned"] == 4 and payload["n_failed"] == 0
    assert payload["best_value"] <= payload["default_value"]
    assert [t["number"] for t in payload["trials"]] == [0, 1, 2, 3]
    assert payload["trials"][0]["units"] == 8 and payload["trials"][0]["window"] == 14  # trial 0: the base
    assert len([line for line in err.splitlines() if line.startswith("trial ")]) == 4
    best = ForecasterConfig.from_dict(payload["best_config"])
    assert (best.train.epochs, best.train.patience) == (3, TUNE_PATIENCE)
    # The printed train command trains the best configuration, with train's usual epochs and patience
    # rather than the search's short per-trial budget.
    words = shlex.split(payload["train_command"])
    assert words[:4] == ["python", "-m", "forecaster", "train"]
    args = cli.build_parser().parse_args(words[3:])
    dataset = read_csv(csv_path, target="y", features=["x"])
    usual = TrainConfig()
    assert config_from_args(args, dataset) == best.replace(train={"epochs": usual.epochs,
                                                                       "patience": usual.patience})


def test_tune_prints_a_table_and_uses_the_run_store_by_default(csv_path, forecaster_home):
    code, out, err = run(["tune", "--data", str(csv_path), "--trials", "2", "--study", "plain", *TINY])
    assert code == 0, err
    assert f"Study plain in {storage_url()}" in out
    assert "Best 2 trials by validation loss" in out
    assert "Default settings (trial 0): validation loss" in out
    assert "python -m forecaster train --data" in out
    assert (forecaster_home / "runs.sqlite").is_file()
    code, out, _ = run(["tune", "--data", str(csv_path), "--trials", "2", "--study", "plain", "--json", *TINY])
    best = ForecasterConfig.from_dict(json.loads(out)["best_config"])
    assert (best.train.epochs, best.train.patience) == (TUNE_EPOCHS, TUNE_PATIENCE)  # the tuning budget


@pytest.mark.parametrize("extra, words", [
    (["--units-range", "200,100"], ["units", "(200, 100)"]),
    (["--units-range", "abc"], ["--units-range", "'abc'"]),
    (["--lr-range", "1e-3"], ["--lr-range", "'1e-3'"]),
    (["--batch-sizes", "16,x"], ["--batch-sizes", "'16,x'"]),
    (["--cells", "lstm,rnn"], ["cell", "'rnn'"]),
    (["--search", "units,epochs"], ["--search", "'units,epochs'"]),
    (["--storage", "nosuchdb://x"], ["storage"]),
    (["--storage", "postgresql+psycopg2://ann:hunter2@127.0.0.1:1/x"], ["psycopg2", "***"]),
    (["--trials", "0"], ["trials", "0"]),
])
def test_mistakes_exit_2_with_one_line(csv_path, tmp_path, extra, words):
    code, out, err = run(["tune", "--data", str(csv_path), "--storage", f"sqlite:///{tmp_path / 'e.sqlite'}", *extra])
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for word in words:
        assert word in lines[0]


def test_a_study_started_with_other_settings_is_refused(csv_path, tmp_path):
    storage = f"sqlite:///{tmp_path / 'j.sqlite'}"
    first = ["tune", "--data", str(csv_path), "--epochs", "2", "--trials", "1", "--storage", storage, "--study", "s"]
    assert run([*first, *TINY])[0] == 0
    code, _, err = run([*first, "--units-range", "4,32", "--search", "units"])
    assert code == 2 and "another --study name" in err


def test_add_tune_works_on_any_parser():
    parser = argparse.ArgumentParser()
    add_tune(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["tune", "--data", "sample:seattle-weather", "--trials", "5", "--cells", "lstm,gru"])
    assert (args.trials, args.cells, args.timeout, args.tune_seed) == (5, "lstm,gru", None, 0)


def test_tune_acts_for_an_owner_and_takes_a_store_path(csv_path, tmp_path):
    store = tmp_path / "shared.sqlite"  # a plain file path, as --store takes it everywhere
    common = ["tune", "--data", str(csv_path), "--epochs", "2", "--store", str(store), "--study", "s", "--json", *TINY]
    payloads = {}
    for owner, trials in (("ann", "2"), ("bob", "1")):
        code, out, err = run([*common, "--trials", trials, "--owner", owner])
        assert code == 0, err
        payloads[owner] = json.loads(out)
    assert payloads["ann"]["owner"] == "ann" and payloads["ann"]["storage"] == f"sqlite:///{store}"
    # The same study name, two studies: Bob's search did not join Ann's.
    assert (len(payloads["ann"]["trials"]), len(payloads["bob"]["trials"])) == (2, 1)
    from forecaster.tuning import list_studies

    assert [s.name for s in list_studies(f"sqlite:///{store}", owner="bob")] == ["s"]
