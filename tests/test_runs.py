"""The run store: what a run keeps, reading it back, deleting, damage, and several writers at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster import cli
from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.errors import ModelFileError, StoreError
from forecaster.evaluation import evaluate
from forecaster.forecaster import LSTMForecaster
from forecaster.runs import TABLE_COLUMNS, RunStore, compare_metrics, data_fingerprint
from forecaster.training import configure_threads
from process_helpers import child_env

configure_threads(1)
REPO = Path(__file__).resolve().parents[1]


def tiny() -> ForecasterConfig:
    return ForecasterConfig(data=DataConfig(target="y", features=("x",), window=10),
                            model=ModelConfig(units=8), train=TrainConfig(epochs=2, batch_size=32, seed=0))


@pytest.fixture
def dataset(synthetic_series: pd.DataFrame) -> Dataset:
    return Dataset(frame=synthetic_series, name="synthetic", source="upload:synthetic.csv", target="y",
                   features=("x",), freq="D", unit="m")


@pytest.fixture
def fitted(dataset: Dataset):
    model = LSTMForecaster(tiny()).fit(dataset)
    return model, evaluate(model, unit=dataset.unit)


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "store" / "runs.sqlite")


def test_a_recorded_run_keeps_everything_it_needs(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    run_id = store.record(model, evaluation, dataset, label="first try", origin="test", timings={"wall_seconds": 1.5})
    run = RunStore(store.path).get(run_id)  # a new instance: nothing is held in memory
    assert (run.dataset, run.source, run.target, run.features, run.unit) == (
        "synthetic", "upload:synthetic.csv", "y", ("x",), "m")
    assert run.data_rows == 600 and run.data_start.startswith("2020-01-01") and run.data_end.startswith("2021-08-22")
    assert run.data_hash == data_fingerprint(dataset.frame, ["y", "x"])
    assert ForecasterConfig.from_dict(run.config) == model.config
    assert run.history["train_loss"] == pytest.approx(model.history_.train_loss)
    assert run.timings["wall_seconds"] == 1.5 and run.timings["train_seconds"] >= 0
    assert set(run.metrics) == set(evaluation.metrics)  # the LSTM and every baseline
    assert run.mae == pytest.approx(evaluation.metrics["lstm"]["mae"])
    assert run.naive_mae == pytest.approx(evaluation.metrics["naive"]["mae"])
    assert run.skill == pytest.approx(evaluation.skill)
    assert run.labels == evaluation.labels
    frame = run.predictions_frame()
    pd.testing.assert_frame_equal(frame, evaluation.predictions_frame(step=1), check_freq=False)


def test_a_recorded_model_forecasts_exactly_as_before(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    run_id = store.record(model, evaluation, dataset)
    again = store.load_model(run_id)
    pd.testing.assert_frame_equal(again.forecast(5), model.forecast(5))
    assert Path(store.get(run_id).model_dir).parent == store.models_dir


def test_listing_is_newest_first_and_filters_by_dataset(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    other = Dataset(frame=dataset.frame, name="other", source="sample:other", target="y", features=("x",), freq="D")
    first = store.record(model, evaluation, dataset, keep_model=False)
    second = store.record(model, evaluation, other, keep_model=False)
    assert [run.id for run in store.runs()] == [second, first]
    assert [run.id for run in store.runs("other")] == [second]
    assert sorted(store.table()["Dataset"]) == ["other", "synthetic"]
    table = store.table()
    assert list(table.index) == [second, first] and list(table.columns) == list(TABLE_COLUMNS[1:])
    assert store.get(first).model_dir is None
    with pytest.raises(StoreError, match="without its model"):
        store.load_model(first)


def test_an_empty_or_absent_store_lists_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "none" / "runs.sqlite")
    assert store.runs() == [] and store.table().empty
    assert not store.path.exists()  # reading does not create files
    with pytest.raises(StoreError, match="no run 3"):
        store.get(3)


def test_delete_forgets_the_run_and_its_model(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    keep = store.record(model, evaluation, dataset)
    gone = store.record(model, evaluation, dataset)
    folder = Path(store.get(gone).model_dir)
    store.delete(gone)
    assert not folder.exists() and [run.id for run in store.runs()] == [keep]
    assert Path(store.get(keep).model_dir).is_dir()
    with pytest.raises(StoreError, match=f"no run {gone}"):
        store.delete(gone)


def test_delete_never_removes_a_folder_outside_the_store(store: RunStore, fitted, dataset: Dataset,
                                                         tmp_path: Path) -> None:
    model, evaluation = fitted
    run_id = store.record(model, evaluation, dataset, keep_model=False)
    precious = tmp_path / "precious"
    precious.mkdir()
    with sqlite3.connect(store.path) as connection:  # a store edited by hand to point elsewhere
        connection.execute("UPDATE runs SET model_dir = ? WHERE id = ?", (str(precious), run_id))
    store.delete(run_id)
    assert precious.is_dir()


def test_a_failed_model_save_records_nothing(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    store.path.parent.mkdir(parents=True)
    store.models_dir.write_text("a file where the models folder should be")
    with pytest.raises(StoreError, match="could not be saved"):
        store.record(model, evaluation, dataset)
    assert store.runs() == []


def test_a_tampered_model_folder_is_refused_on_load(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    run_id = store.record(model, evaluation, dataset)
    (Path(store.get(run_id).model_dir) / "weights.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelFileError, match="damaged"):
        store.load_model(run_id)


def test_a_damaged_store_file_gets_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="damaged or is not a run store.*move it aside"):
        RunStore(path).runs()


def test_a_store_from_a_newer_version_is_refused(store: RunStore, fitted, dataset: Dataset) -> None:
    store.record(*fitted, dataset, keep_model=False)
    with sqlite3.connect(store.path) as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer version"):
        store.runs()


def test_the_store_file_is_in_wal_mode(store: RunStore, fitted, dataset: Dataset) -> None:
    store.record(*fitted, dataset, keep_model=False)
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# ---------------------------------------------------------------- several writers, and a writer killed

_WRITER = textwrap.dedent("""
    import sys, numpy as np, pandas as pd
    from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
    from forecaster.datasets import Dataset
    from forecaster.evaluation import evaluate
    from forecaster.forecaster import LSTMForecaster
    from forecaster.runs import RunStore
    from forecaster.training import configure_threads
    configure_threads(1)
    path, label, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t = np.arange(300.0)
    frame = pd.DataFrame({"y": np.sin(t / 5) + t / 100}, index=pd.date_range("2020-01-01", periods=300, name="date"))
    data = Dataset(frame=frame, name="wave", source="upload:wave.csv", target="y", freq="D")
    config = ForecasterConfig(data=DataConfig(target="y", window=5), model=ModelConfig(units=4),
                              train=TrainConfig(epochs=1))
    model = LSTMForecaster(config).fit(data)
    evaluation = evaluate(model)
    store = RunStore(path)
    print("ready", flush=True)
    i = 0
    while count < 0 or i < count:
        store.record(model, evaluation, data, label=f"{label}-{i}")
        print(i, flush=True)
        i += 1
""")


def _writer(path: Path, label: str, count: int) -> subprocess.Popen:
    env = child_env()
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(path), label, str(count)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_writing_at_once_lose_nothing(store: RunStore) -> None:
    count = 15
    writers = [_writer(store.path, name, count) for name in ("a", "b")]
    for writer in writers:
        out, err = writer.communicate(timeout=240)
        assert writer.returncode == 0, err
    runs = store.runs()
    assert sorted(run.label for run in runs) == sorted(f"{n}-{i}" for n in "ab" for i in range(count))
    assert len({run.id for run in runs}) == 2 * count
    assert all(Path(run.model_dir).is_dir() for run in runs)


def test_a_writer_killed_mid_write_leaves_a_store_that_lists_every_completed_run(store: RunStore) -> None:
    writer = _writer(store.path, "k", -1)  # records until killed
    assert writer.stdout.readline().strip() == "ready"
    completed = -1
    deadline = time.monotonic() + 120
    while completed < 8 and time.monotonic() < deadline:  # let several runs complete, then kill mid-stream
        completed = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    runs = RunStore(store.path).runs()
    labels = {run.label for run in runs}
    assert {f"k-{i}" for i in range(completed + 1)} <= labels  # everything it reported done is there
    assert len(runs) <= completed + 2  # and at most the one in flight besides
    for run in runs:  # every listed run is whole: its model loads
        assert store.load_model(run.id).config.model.units == 4
    # Writing goes on: the store is not left locked by the dead writer.
    model = store.load_model(runs[0].id)
    assert store.get(runs[0].id).predictions is not None and model is not None


# ---------------------------------------------------------------- command line

def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_setup(tmp_path: Path, synthetic_series: pd.DataFrame) -> tuple[Path, Path, list[str]]:
    """A CSV of the synthetic series, a store file, and the train options for a tiny run on them."""
    csv = tmp_path / "series.csv"
    synthetic_series.to_csv(csv)
    db = tmp_path / "cli.sqlite"
    return csv, db, ["--data", str(csv), "--target", "y", "--window", "7", "--units", "8", "--epochs", "1",
                     "--store", str(db)]


def test_cli_train_records_a_run_that_runs_commands_show_forecast_and_delete(tmp_path: Path, capsys,
                                                                            cli_setup) -> None:
    csv, db, base = cli_setup
    code, out, err = run(["train", *base, "--label", "cli test", "--json"], capsys)
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    assert run_id == 1 and "model_dir" not in json.loads(out)  # recorded runs keep their model in the store
    code, out, _ = run(["train", *base, "--no-record", "--out", str(tmp_path / "m"), "--json"], capsys)
    assert code == 0 and json.loads(out)["run_id"] is None
    code, out, _ = run(["runs", "list", "--store", str(db), "--json"], capsys)
    listed = json.loads(out)["runs"]
    assert [r["ID"] for r in listed] == [1] and listed[0]["Label"] == "cli test"
    code, out, _ = run(["runs", "list", "--store", str(db)], capsys)
    assert code == 0 and "series" in out and "cli test" in out and "Skill vs best" in out and "Best baseline" in out
    code, out, _ = run(["runs", "show", "1", "--store", str(db)], capsys)
    assert code == 0 and "Naive (last value)" in out and "content hash" in out
    assert "Skill vs the best baseline, " in out
    code, out, _ = run(["runs", "show", "1", "--store", str(db), "--json"], capsys)
    assert json.loads(out)["config"]["model"]["units"] == 8
    code, out, err = run(["forecast", "--run", "1", "--store", str(db), "--steps", "3", "--data", str(csv),
                          "--json"], capsys)
    assert code == 0, err
    assert len(json.loads(out)["forecast"]) == 3
    code, out, _ = run(["runs", "delete", "1", "--store", str(db)], capsys)
    assert code == 0 and "Deleted run 1" in out
    code, _, err = run(["runs", "show", "1", "--store", str(db)], capsys)
    assert code == 2 and err.count("\n") == 1 and "no run 1" in err


def test_cli_refuses_a_damaged_store_in_one_line(tmp_path: Path, capsys) -> None:
    db = tmp_path / "bad.sqlite"
    db.write_bytes(b"garbage" * 1000)
    code, _, err = run(["runs", "list", "--store", str(db)], capsys)
    assert code == 2 and err.count("\n") == 1 and "damaged" in err


def test_runs_and_optuna_studies_share_one_file(store: RunStore, fitted, dataset: Dataset) -> None:
    from forecaster.tuning import SearchSpace, tune

    run_id = store.record(*fitted, dataset, keep_model=False)
    result = tune(dataset, fitted[0].config, SearchSpace(units=(4, 8)), trials=2, storage=f"sqlite:///{store.path}",
                  study_name="shared")
    assert result.n_complete + result.n_pruned == 2
    assert [run.id for run in store.runs()] == [run_id]  # the study's tables sit beside the runs, untouched
    assert store.record(*fitted, dataset, keep_model=False) == run_id + 1


def test_a_run_s_model_archive_loads_like_a_downloaded_model(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    run_id = store.record(model, evaluation, dataset)
    again = LSTMForecaster.from_bytes(store.model_archive(run_id))
    pd.testing.assert_frame_equal(again.forecast(4), model.forecast(4))
    assert again.extra_["source"] == "upload:synthetic.csv"


def test_cli_exports_a_run_as_one_file_that_forecasts_like_the_run(tmp_path: Path, capsys, cli_setup) -> None:
    csv, db, base = cli_setup
    assert run(["train", *base, "--out", str(tmp_path / "direct.zip")], capsys)[0] == 0
    code, out, err = run(["runs", "export", "1", "--store", str(db), "--out", str(tmp_path / "run1.zip")], capsys)
    assert code == 0, err
    assert "Wrote run 1's model" in out
    forecasts = []
    for source in (["--run", "1", "--store", str(db)], ["--model", str(tmp_path / "run1.zip")],
                   ["--model", str(tmp_path / "direct.zip")]):
        code, out, err = run(["forecast", *source, "--steps", "3", "--data", str(csv), "--json"], capsys)
        assert code == 0, err
        forecasts.append(json.loads(out)["forecast"])
    assert forecasts[0] == forecasts[1] == forecasts[2]


def test_cli_refuses_a_tampered_model_file_in_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "model.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    code, _, err = run(["forecast", "--model", str(bad), "--steps", "3"], capsys)
    assert code == 2 and err.count("\n") == 1 and "not a valid archive" in err


def test_a_database_url_is_shown_without_its_password() -> None:
    from forecaster.runs import hide_password

    assert hide_password("postgresql+psycopg://ann:s3cr%40t@db.example:5432/studio") == \
        "postgresql+psycopg://ann:***@db.example:5432/studio"
    assert hide_password("postgresql://ann@db/studio") == "postgresql://ann@db/studio"
    assert hide_password("/home/ann/.forecaster/runs.sqlite") == "/home/ann/.forecaster/runs.sqlite"


# ---------------------------------------------------------------- the best baseline, from the stored metrics

def _restore(store: RunStore, run_id: int, metrics: dict, labels: dict) -> None:
    """Overwrite a run's metrics and labels JSON (and the copies kept for sorting), as an older build wrote them."""
    mae, naive = metrics["lstm"]["mae"], metrics["naive"]["mae"]
    with sqlite3.connect(store.path) as connection:
        connection.execute("UPDATE runs SET metrics = ?, labels = ?, mae = ?, naive_mae = ?, skill = ? WHERE id = ?",
                           (json.dumps(metrics), json.dumps(labels), mae, naive, 1 - mae / naive if naive else None,
                            run_id))


def test_the_table_names_each_run_s_best_baseline_and_skill_against_it(store: RunStore, fitted,
                                                                       dataset: Dataset) -> None:
    model, evaluation = fitted
    run_id = store.record(model, evaluation, dataset, keep_model=False)
    row = store.table().loc[run_id]
    assert row["Best baseline"] == evaluation.labels[evaluation.best_baseline]
    assert row["Skill vs best"] == pytest.approx(evaluation.skill_vs_best)
    assert row["Skill vs naive"] == pytest.approx(evaluation.skill)
    run = store.get(run_id)
    assert run.best_baseline == evaluation.best_baseline and run.summary()["Skill vs best"] == row["Skill vs best"]


def test_runs_recorded_before_the_best_baseline_columns_read_it_from_their_metrics(store: RunStore, fitted,
                                                                                    dataset: Dataset) -> None:
    model, evaluation = fitted
    old, perfect = (store.record(model, evaluation, dataset, keep_model=False) for _ in range(2))
    # Undefined values were stored as null; a baseline without a stored label shows its name.
    _restore(store, old, {"lstm": {"mae": 1.2}, "naive": {"mae": 1.5}, "drift": {"mae": None},
                          "linear": {"mae": 1.0}, "theta": {"mae": 1.1}},
             {"lstm": "LSTM", "naive": "Naive (last value)", "linear": "Linear (ridge on lags)"})
    _restore(store, perfect, {"lstm": {"mae": 0.5}, "naive": {"mae": 0.0}}, {"lstm": "LSTM"})
    table = store.table()
    assert table.loc[old, "Best baseline"] == "Linear (ridge on lags)"
    assert table.loc[old, "Skill vs best"] == pytest.approx(1 - 1.2 / 1.0)
    assert table.loc[perfect, "Best baseline"] == "naive"
    assert pd.isna(table.loc[perfect, "Skill vs best"])  # a perfect baseline leaves no skill to measure


def test_compare_names_the_best_baseline_of_each_dataset(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    other = Dataset(frame=dataset.frame * 2, name="other", source="sample:other", target="y", features=("x",),
                    freq="D")
    first, second, third = (store.record(model, evaluation, data, keep_model=False)
                            for data in (dataset, dataset, other))
    labels = {"lstm": "LSTM", "naive": "Naive (last value)", "linear": "Linear (ridge on lags)"}
    _restore(store, first, {"lstm": {"mae": 1.2}, "naive": {"mae": 1.5}, "linear": {"mae": 1.0}}, labels)
    _restore(store, second, {"lstm": {"mae": 0.9}, "naive": {"mae": 1.5}, "linear": {"mae": 1.0}}, labels)
    _restore(store, third, {"lstm": {"mae": 2.0}, "naive": {"mae": 2.5}, "linear": {"mae": 3.0}}, labels)
    runs = [store.get(run_id) for run_id in (first, second)]
    one = compare_metrics(runs)
    names = [f"Run {first} · LSTM 1×8", f"Run {second} · LSTM 1×8"]
    assert list(one.columns) == [*names, "Naive", "Best baseline: Linear (ridge on lags)"]
    assert one.loc["MAE", "Best baseline: Linear (ridge on lags)"] == 1.0
    assert list(one.loc["Skill vs best", names]) == pytest.approx([1 - 1.2 / 1.0, 1 - 0.9 / 1.0])
    assert list(one.loc["Skill vs naive", names]) == pytest.approx([1 - 1.2 / 1.5, 1 - 0.9 / 1.5])
    two = compare_metrics([runs[0], store.get(third)])
    assert list(two.columns)[2:] == [f"Naive (run {first}'s data)", f"Best baseline (run {first}'s data): "
                                     "Linear (ridge on lags)", f"Naive (best baseline) (run {third}'s data)"]
