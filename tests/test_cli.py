"""Tests for forecaster.cli: datasets, train, evaluate and forecast, in-process and through python -m."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from process_helpers import child_env

from forecaster import cli
from forecaster.training import configure_threads

REPO = Path(__file__).resolve().parents[1]
BAD_CSVS = sorted((REPO / "tests" / "data" / "bad").glob("*")) if (REPO / "tests" / "data" / "bad").is_dir() else []
MODELS = ["lstm", "naive", "seasonal_naive", "drift", "moving_average", "linear", "ets"]
METRICS = ["mae", "rmse", "mape", "smape", "r2", "mase", "direction"]
TINY = ["--epochs", "1", "--units", "8", "--layers", "1", "--window", "7"]

configure_threads(1)


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FORECASTER_THREADS", "1")  # main() calls configure_threads()
    yield
    configure_threads(1)


def run(argv: list[str]) -> tuple[int, str, str]:
    """main(argv) in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def assert_user_error(code: int, err: str, *words: str) -> None:
    """Status 2 and exactly one line on stderr, naming `words`, and no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


def user_error(argv: list[str], *words: str) -> None:
    code, out, err = run(argv)
    assert_user_error(code, err, *words)
    assert "Traceback" not in out


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A tiny model trained on sample:seattle-weather by `train --json`, and its printed summary."""
    out = tmp_path_factory.mktemp("cli") / "model"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORECASTER_THREADS", "1")
        code, stdout, stderr = run(["train", "--data", "sample:seattle-weather", *TINY, "--json", "--out", str(out)])
    configure_threads(1)
    assert code == 0, stderr
    assert stderr == ""  # JSON mode draws no progress bar
    return out, json.loads(stdout)


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    n = 200
    t = np.arange(n)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "date": pd.date_range("2023-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "sales": 50 + 5 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, n),
        "promo": (t % 7 == 0).astype(float),
        "other": rng.normal(0, 1, n),
    })
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- datasets

def test_datasets_lists_samples() -> None:
    code, out, err = run(["datasets"])
    assert code == 0 and err == ""
    assert "sample:seattle-weather" in out and "Weather:" in out and "Stocks:" in out


def test_datasets_json() -> None:
    code, out, _ = run(["datasets", "--json"])
    assert code == 0
    samples = json.loads(out)["samples"]
    weather = next(s for s in samples if s["name"] == "seattle-weather")
    assert weather["target"] == "temp_max" and weather["freq"] == "D"


# ---------------------------------------------------------------- train, evaluate, forecast

def test_train_json_summary(trained: tuple[Path, dict]) -> None:
    folder, summary = trained
    assert set(summary["metrics"]) == set(MODELS)
    for name in MODELS:
        assert list(summary["metrics"][name]) == METRICS
        assert isinstance(summary["metrics"][name]["mae"], float)
    assert summary["epochs_run"] == 1 and summary["best_epoch"] in (0, 1)
    assert summary["train_seconds"] >= 0
    assert summary["config"]["model"]["units"] == 8 and summary["config"]["data"]["window"] == 7
    assert summary["config"]["data"]["target"] == "temp_max"
    assert summary["model_dir"] == str(folder)
    assert "beat" in summary["verdict"]
    # The verdict's yardstick: the baseline with the lowest test MAE, by name, label and skill against it.
    baselines = {name: m["mae"] for name, m in summary["metrics"].items() if name != "lstm"}
    best = min(baselines, key=baselines.get)
    assert summary["best_baseline"] == best and summary["best_baseline_label"] not in ("", best)
    assert summary["skill_vs_best"] == pytest.approx(1 - summary["metrics"]["lstm"]["mae"] / baselines[best])
    assert summary["skill_vs_naive"] == pytest.approx(1 - summary["metrics"]["lstm"]["mae"] / baselines["naive"])
    assert summary["standing"] in ("beats_all", "beats_naive", "loses")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.json", "weights.safetensors"]


def test_evaluate_gives_the_same_metrics(trained: tuple[Path, dict]) -> None:
    folder, summary = trained
    code, out, err = run(["evaluate", "--model", str(folder), "--json"])
    assert code == 0, err
    again = json.loads(out)
    for name in MODELS:
        for metric in METRICS:
            assert again["metrics"][name][metric] == pytest.approx(summary["metrics"][name][metric], nan_ok=True)
    assert again["test_points"] == summary["test_points"]


def test_evaluate_prints_a_table(trained: tuple[Path, dict]) -> None:
    folder, _ = trained
    code, out, _ = run(["evaluate", "--model", str(folder)])
    assert code == 0
    assert "MAE" in out and "Naive" in out and "Skill vs naive" in out
    again = json.loads(run(["evaluate", "--model", str(folder), "--json"])[1])
    best = again["best_baseline_label"]
    assert f"Skill vs best baseline, {best} (1 - MAE_lstm / MAE_best): {again['skill_vs_best']:+.3f}" in out
    assert again["verdict"] in out  # the same sentence as the JSON's


def test_forecast_writes_csv(trained: tuple[Path, dict], tmp_path: Path) -> None:
    folder, _ = trained
    target = tmp_path / "f.csv"
    code, out, err = run(["forecast", "--model", str(folder), "--steps", "5", "--out", str(target)])
    assert code == 0, err
    assert "Wrote 5 forecast points" in out
    frame = pd.read_csv(target)
    assert list(frame.columns) == ["date", "temp_max"] and len(frame) == 5
    dates = pd.to_datetime(frame["date"])
    assert dates.iloc[0] == pd.Timestamp("2016-01-01")  # the sample ends on 2015-12-31
    assert (dates.diff().dropna() == pd.Timedelta(days=1)).all()
    assert np.isfinite(frame["temp_max"]).all()
    # Written to the data's own precision (temperatures in tenths of a degree), not 15 digits of float noise.
    values = target.read_text().splitlines()[1].split(",")[1]
    assert len(values.split(".")[-1]) <= 1, values


def test_forecast_json(trained: tuple[Path, dict]) -> None:
    folder, _ = trained
    code, out, _ = run(["forecast", "--model", str(folder), "--steps", "3", "--json"])
    assert code == 0
    payload = json.loads(out)
    assert payload["target"] == "temp_max" and len(payload["forecast"]) == 3
    assert all(isinstance(point["value"], float) for point in payload["forecast"])


def test_train_on_csv_with_target_and_features(small_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv-model"
    code, stdout, err = run(["train", "--data", str(small_csv), "--target", "sales", "--features", "promo",
                             *TINY, "--json", "--out", str(out)])
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["target"] == "sales"
    assert summary["config"]["data"]["target"] == "sales" and summary["config"]["data"]["features"] == ["promo"]
    # The model remembers the CSV, its target and features, so evaluate needs no --data.
    code, again, err = run(["evaluate", "--model", str(out), "--json"])
    assert code == 0, err
    assert json.loads(again)["metrics"]["lstm"]["mae"] == pytest.approx(summary["metrics"]["lstm"]["mae"])


def test_progress_bar_goes_to_stderr_only_without_json(small_csv: Path, tmp_path: Path) -> None:
    args = ["train", "--data", str(small_csv), "--target", "sales", "--units", "8", "--layers", "1",
            "--window", "7", "--epochs", "2", "--patience", "0"]
    code, out, err = run([*args, "--out", str(tmp_path / "a")])
    assert code == 0
    assert "epoch 1/2" in err and "epoch 2/2" in err and "[" in err
    assert "epoch 2/2" not in out and "Saved the model" in out and "MAE" in out
    code, out, err = run([*args, "--json", "--out", str(tmp_path / "b")])
    assert code == 0 and err == ""
    json.loads(out)


# ---------------------------------------------------------------- user mistakes

def test_unknown_sample() -> None:
    user_error(["train", "--data", "sample:no-such-sample", *TINY], "no-such-sample")


def test_missing_csv(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    user_error(["train", "--data", str(missing), *TINY], "nope.csv")


@pytest.mark.skipif(not BAD_CSVS, reason="tests/data/bad/ is not there")
@pytest.mark.parametrize("path", BAD_CSVS, ids=lambda p: p.name)
def test_broken_csv(path: Path, tmp_path: Path) -> None:
    user_error(["train", "--data", str(path), *TINY, "--out", str(tmp_path / "m")])
    assert not (tmp_path / "m").exists()


def test_window_one(small_csv: Path) -> None:
    user_error(["train", "--data", str(small_csv), "--window", "1"], "window", "1")


def test_split_not_adding_up(small_csv: Path) -> None:
    user_error(["train", "--data", str(small_csv), "--split", "0.5,0.5,0.5"], "split")


def test_window_too_long_for_the_data(small_csv: Path) -> None:
    user_error(["train", "--data", str(small_csv), "--window", "150", "--epochs", "1"], "shorter window")


def test_model_folder_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("not a model")
    user_error(["evaluate", "--model", str(tmp_path)], "lacks")
    user_error(["forecast", "--model", str(tmp_path / "nowhere")], "No saved model")


def test_forecast_bad_steps(trained: tuple[Path, dict]) -> None:
    user_error(["forecast", "--model", str(trained[0]), "--steps", "0"], "steps")


def test_ticker_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import forecaster.yahoo as yahoo

    calls = []

    def offline(symbol, **kwargs):
        calls.append(symbol)
        raise ConnectionError("network is unreachable")

    monkeypatch.setattr(yahoo, "download", offline)
    user_error(["train", "--data", "ticker:ZZOFFLINE", *TINY], "Yahoo Finance", "network")
    assert calls == ["ZZOFFLINE"]


def test_argparse_mistakes_exit_with_two() -> None:
    code, _, err = run(["train", "--data", "sample:seattle-weather", "--cell", "transformer"])
    assert code == 2 and "invalid choice" in err and "Traceback" not in err
    code, _, err = run(["train", "--data", "x.csv", "--split", "a,b,c"])
    assert code == 2 and "commas" in err


# ---------------------------------------------------------------- the real entry point

def _python_m(*args: str) -> subprocess.CompletedProcess:
    env = child_env()
    return subprocess.run([sys.executable, "-m", "forecaster", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_python_m_datasets_json() -> None:
    result = _python_m("datasets", "--json")
    assert result.returncode == 0, result.stderr
    names = [s["name"] for s in json.loads(result.stdout)["samples"]]
    assert "seattle-weather" in names


def test_python_m_user_error_has_no_traceback() -> None:
    result = _python_m("train", "--data", "sample:no-such-sample")
    assert_user_error(result.returncode, result.stderr, "no-such-sample")
    assert result.stdout == ""


# ---------------------------------------------------------------- dates missing from the calendar

GAP_NOTE = "2 dates missing from the daily calendar: 2023-02-01, 2023-05-10 (filled by interpolation)."


def test_missing_dates_are_noted_and_a_saved_model_lines_up_again(tmp_path: Path) -> None:
    dates = pd.date_range("2023-01-01", periods=200, freq="D").drop([pd.Timestamp("2023-02-01"),
                                                                     pd.Timestamp("2023-05-10")])
    t = np.arange(len(dates))
    path = tmp_path / "gappy.csv"
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sales": 50 + 5 * np.sin(2 * np.pi * t / 7)}).to_csv(
        path, index=False)
    out = tmp_path / "model"
    code, stdout, err = run(["train", "--data", str(path), *TINY, "--json", "--no-record", "--out", str(out)])
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["notes"][0] == GAP_NOTE
    assert summary["data"]["rows"] == 200  # the two dates are rows of the cleaned series

    code, report, err = run(["evaluate", "--model", str(out)])
    assert code == 0, err
    assert f"Note: {GAP_NOTE}" in report.splitlines()
    code, again, err = run(["evaluate", "--model", str(out), "--json"])
    assert code == 0, err
    assert json.loads(again)["metrics"]["lstm"]["mae"] == pytest.approx(summary["metrics"]["lstm"]["mae"])

    code, printed, err = run(["forecast", "--model", str(out), "--steps", "3", "--json"])
    assert code == 0, err
    assert [p["date"][:10] for p in json.loads(printed)["forecast"]] == ["2023-07-20", "2023-07-21", "2023-07-22"]


def test_train_prints_the_missing_dates_note(tmp_path: Path) -> None:
    dates = pd.date_range("2023-01-01", periods=120, freq="D").drop([pd.Timestamp("2023-02-01")])
    path = tmp_path / "gappy.csv"
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sales": np.arange(len(dates), dtype=float)}).to_csv(
        path, index=False)
    code, stdout, err = run(["train", "--data", str(path), *TINY, "--missing", "drop", "--no-record",
                             "--out", str(tmp_path / "m")])
    assert code == 0, err
    assert ("Note: 1 date missing from the daily calendar: 2023-02-01 (left as gaps, so windows span them)."
            in stdout.splitlines())


def test_train_switches_relative_inputs_and_the_skip(tmp_path: Path) -> None:
    out = tmp_path / "plain"
    code, stdout, stderr = run(["train", "--data", "sample:seattle-weather", *TINY, "--no-relative", "--no-skip",
                                "--json", "--no-record", "--out", str(out)])
    assert code == 0, stderr
    model = json.loads(stdout)["config"]["model"]
    assert model["relative"] is False and model["skip"] is False
    code, stdout, _ = run(["train", "--data", "sample:seattle-weather", *TINY, "--json", "--no-record"])
    model = json.loads(stdout)["config"]["model"]
    assert model["relative"] is True and model["skip"] is True  # the defaults


def test_train_switches_calendar_inputs(tmp_path: Path) -> None:
    code, stdout, stderr = run(["train", "--data", "sample:seattle-weather", *TINY, "--calendar", "--json",
                                "--no-record", "--out", str(tmp_path / "cal")])
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["config"]["data"]["calendar"] is True
    meta = json.loads((tmp_path / "cal" / "model.json").read_text())
    assert meta["calendar"] == ["dow_sin", "dow_cos", "doy_sin", "doy_cos"]  # four years of days
    code, stdout, stderr = run(["evaluate", "--model", str(tmp_path / "cal"), "--json"])  # loaded, data prepared again
    assert code == 0, stderr
    assert json.loads(stdout)["metrics"]["lstm"]["mae"] == pytest.approx(summary["metrics"]["lstm"]["mae"])
    code, stdout, stderr = run(["forecast", "--model", str(tmp_path / "cal"), "--steps", "3", "--json"])
    assert code == 0, stderr
    code, stdout, _ = run(["train", "--data", "sample:seattle-weather", *TINY, "--no-calendar", "--json", "--no-record"])
    assert json.loads(stdout)["config"]["data"]["calendar"] is False


# ---------------------------------------------------------------- the store: --store, --owner, a writer killed

def test_every_store_command_takes_store_and_owner() -> None:
    parser = cli.build_parser()
    for argv in (["train", "--data", "sample:x"], ["evaluate", "--run", "1"], ["forecast", "--run", "1"],
                 ["inspect", "--run", "1"], ["runs", "list"], ["runs", "show", "1"], ["runs", "delete", "1"],
                 ["runs", "export", "1", "--out", "m.zip"], ["tune", "--data", "sample:x"]):
        args = parser.parse_args([*argv, "--owner", "ann", "--store", "postgresql+psycopg://u:p@db/x"])
        assert args.owner == "ann" and (getattr(args, "store", None) or args.storage) == "postgresql+psycopg://u:p@db/x"
    from forecaster.workspace import LOCAL_OWNER

    assert parser.parse_args(["runs", "list"]).owner == LOCAL_OWNER
    code, out, _ = run(["runs", "list", "--help"])
    assert code == 0 and "FORECASTER_STORE" in out and "postgresql+psycopg://" in out and "--owner" in out


def test_a_cli_writer_killed_mid_run_loses_no_completed_run_and_the_store_takes_new_writes(store_url: str,
                                                                                          small_csv: Path) -> None:
    train = [sys.executable, "-m", "forecaster", "train", "--data", str(small_csv), "--target", "sales", *TINY,
             "--store", store_url, "--passes", "2"]
    done = subprocess.run([*train, "--label", "whole"], cwd=REPO, env=child_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # Killed while it trains (its progress bar has started), long before it could record anything.
    writer = subprocess.Popen([*train, "--label", "killed", "--epochs", "1000", "--patience", "0"], cwd=REPO,
                              env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert writer.stderr.read(1) == b"\r", "no progress bar"
    finally:
        writer.kill()
        writer.wait(timeout=30)
    code, out, err = run(["runs", "list", "--store", store_url, "--json"])
    assert code == 0 and [r["Label"] for r in json.loads(out)["runs"]] == ["whole"], err
    code, out, err = run(["train", "--data", str(small_csv), "--target", "sales", *TINY, "--store", store_url,
                          "--label", "after", "--passes", "2", "--json"])
    assert code == 0, err
    assert json.loads(out)["run_id"] == 2
    code, out, _ = run(["runs", "list", "--store", store_url, "--json"])
    assert [r["Label"] for r in json.loads(out)["runs"]] == ["after", "whole"]
