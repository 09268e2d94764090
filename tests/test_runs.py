"""The run store on SQLite and PostgreSQL: what a run keeps, owners kept apart, uploads, damage, upgrades, writers."""

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

import pandas as pd
import pytest
import sqlalchemy
from process_helpers import child_env

from forecaster import cli
from forecaster.compare import compare_metrics, overlay_frame
from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.errors import ModelFileError, StoreError
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.runs import SCHEMA_VERSION, TABLE_COLUMNS, RunStore, Upload, data_fingerprint
from forecaster.training import configure_threads
from forecaster.workspace import LOCAL_OWNER, oidc_owner

configure_threads(1)
REPO = Path(__file__).resolve().parents[1]
ANN, BOB = oidc_owner("https://id.example", "ann-1"), oidc_owner("https://id.example", "bob-2")


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
def store(store_url: str) -> RunStore:
    return RunStore(store_url)


def sql(store: RunStore, statement: str, **params) -> None:
    """Change the store's database behind its back (as a hand edit or an older build would)."""
    engine = sqlalchemy.create_engine(store.url, poolclass=sqlalchemy.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(statement), params)
    engine.dispose()


def test_a_recorded_run_keeps_everything_it_needs(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    run_id = store.record(model, evaluation, dataset, label="first try", origin="test", timings={"wall_seconds": 1.5})
    run = RunStore(store.url).get(run_id)  # a new instance: nothing is held in memory
    assert (run.dataset, run.source, run.target, run.features, run.unit) == (
        "synthetic", "upload:synthetic.csv", "y", ("x",), "m")
    assert run.owner == LOCAL_OWNER and run.has_model
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


def test_a_recorded_model_forecasts_exactly_as_before_and_lives_in_the_database(store: RunStore, fitted,
                                                                                dataset: Dataset) -> None:
    model, evaluation = fitted
    run_id = store.record(model, evaluation, dataset)
    again = store.load_model(run_id)
    pd.testing.assert_frame_equal(again.forecast(5), model.forecast(5))
    assert again.extra_["source"] == "upload:synthetic.csv" and "conformal" in again.extra_
    if store.path is not None:  # nothing beside the SQLite file: a replica elsewhere reaches the model too
        assert sorted(p.name for p in store.path.parent.iterdir() if not p.name.startswith("runs.sqlite")) == []


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
    assert not store.get(first).has_model
    with pytest.raises(StoreError, match="without its model"):
        store.load_model(first)


def test_an_empty_or_absent_store_lists_nothing(store_url: str) -> None:
    store = RunStore(store_url)
    assert store.runs() == [] and store.table().empty and store.uploads() == []
    if store.path is not None:
        assert not store.path.exists()  # reading does not create files
    with pytest.raises(StoreError, match="no run 3"):
        store.get(3)


def test_a_plain_path_is_a_sqlite_file(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "a" / "runs.sqlite")
    assert store.url == f"sqlite:///{tmp_path / 'a' / 'runs.sqlite'}" and store.path == tmp_path / "a" / "runs.sqlite"
    assert store.location == str(store.path) and store.owner == LOCAL_OWNER


def test_delete_forgets_the_run_and_its_model(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    keep = store.record(model, evaluation, dataset)
    gone = store.record(model, evaluation, dataset)
    store.delete(gone)
    assert [run.id for run in store.runs()] == [keep]
    assert store.load_model(keep) is not None
    with pytest.raises(StoreError, match=f"no run {gone}"):
        store.delete(gone)
    with pytest.raises(StoreError, match=f"no run {gone}"):
        store.model_archive(gone)
    assert store.record(model, evaluation, dataset, keep_model=False) > gone  # ids are never reused


def test_a_tampered_model_is_refused_on_load_and_export(store: RunStore, fitted, dataset: Dataset) -> None:
    model, evaluation = fitted
    run_id = store.record(model, evaluation, dataset)
    archive = store.model_archive(run_id)
    sql(store, "UPDATE runs SET model = :model WHERE id = :id", model=archive[: len(archive) // 2], id=run_id)
    for read in (store.load_model, store.model_archive):
        with pytest.raises(ModelFileError, match="damaged|not a valid archive"):
            read(run_id)


def test_a_damaged_store_file_gets_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="damaged or is not a run store.*move it aside"):
        RunStore(path).runs()


def test_a_store_from_a_newer_version_is_refused(store: RunStore, fitted, dataset: Dataset) -> None:
    store.record(*fitted, dataset, keep_model=False)
    if store.is_sqlite:
        sql(store, "PRAGMA user_version = 99")
    else:
        sql(store, "UPDATE store_meta SET value = '99' WHERE key = 'schema_version'")
    for action in (store.runs, lambda: store.get(1), lambda: store.record(*fitted, dataset, keep_model=False)):
        with pytest.raises(StoreError, match=r"newer version of the studio \(schema 99\); update the studio"):
            action()


def test_the_store_file_is_in_wal_mode(tmp_path: Path, fitted, dataset: Dataset) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    store.record(*fitted, dataset, keep_model=False)
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


# ---------------------------------------------------------------- owners are kept apart

def test_every_store_method_refuses_another_owner_s_run_like_an_unknown_one(store_url: str, fitted,
                                                                           dataset: Dataset) -> None:
    model, evaluation = fitted
    ann, bob = RunStore(store_url, owner=ANN), RunStore(store_url, owner=BOB)
    ann_run = ann.record(model, evaluation, dataset, label="ann's")
    bob_run = bob.record(model, evaluation, dataset, label="bob's")
    unknown = bob_run + 100
    for store, theirs in ((bob, ann_run), (ann, bob_run)):
        for action in (store.get, store.load_model, store.model_archive, store.delete):
            with pytest.raises(StoreError) as foreign:
                action(theirs)
            with pytest.raises(StoreError) as missing:
                action(unknown)
            # The same sentence, the id aside: nothing tells that the run exists in another workspace.
            assert str(foreign.value).replace(f"run {theirs} ", "run N ") == \
                str(missing.value).replace(f"run {unknown} ", "run N ")
    assert [run.label for run in ann.runs()] == ["ann's"] and list(ann.table()["Label"]) == ["ann's"]
    assert [run.label for run in bob.runs("synthetic")] == ["bob's"]
    assert RunStore(store_url).runs() == []  # the local user's workspace is another one again
    # Both runs survived the other's attempts to delete them; compare helpers only see what get() gave.
    assert ann.get(ann_run).label == "ann's" and bob.get(bob_run).label == "bob's"
    assert list(compare_metrics([ann.get(ann_run)]).columns)[0].startswith(f"Run {ann_run}")
    assert overlay_frame([bob.get(bob_run)])[0].shape[0] > 0


def test_uploads_are_kept_replaced_listed_and_deleted_per_owner(store_url: str) -> None:
    ann, bob = RunStore(store_url, owner=ANN), RunStore(store_url, owner=BOB)
    ann.save_upload("sales.csv", b"date,y\n2020-01-01,1\n")
    ann.save_upload("sales.csv", b"date,y\n2020-01-01,2\n2020-01-02,3\n")  # the same name replaces
    ann.save_upload("b.csv", b"x")
    bob.save_upload("sales.csv", b"bob's own")
    assert [u.name for u in ann.uploads()] == ["b.csv", "sales.csv"]
    upload = ann.uploads()[1]
    assert isinstance(upload, Upload) and upload.size == len(ann.upload("sales.csv")) == 33
    assert upload.created[:2] == "20"
    assert ann.upload("sales.csv") == b"date,y\n2020-01-01,2\n2020-01-02,3\n"
    assert bob.upload("sales.csv") == b"bob's own" and [u.name for u in bob.uploads()] == ["sales.csv"]
    for action in (bob.upload, bob.delete_upload):
        with pytest.raises(StoreError, match=r"^There is no upload 'b.csv' in your workspace; upload the file"):
            action("b.csv")  # Ann's, and Bob has none of that name: the same as a name nobody used
    ann.delete_upload("sales.csv")
    assert [u.name for u in ann.uploads()] == ["b.csv"] and bob.upload("sales.csv") == b"bob's own"
    with pytest.raises(StoreError, match="no upload 'sales.csv'"):
        ann.upload("sales.csv")


# ---------------------------------------------------------------- errors a person can act on

def test_an_unreachable_server_or_wrong_password_is_one_sentence_without_the_password(postgres_url: str) -> None:
    wrong = sqlalchemy.engine.make_url(postgres_url).set(password="not-the-password")
    closed = wrong.set(port=1, password="hunter2")
    for url in (closed.render_as_string(hide_password=False), wrong.render_as_string(hide_password=False)):
        with pytest.raises(StoreError) as raised:
            RunStore(url).runs()
        message = str(raised.value)
        assert message.startswith("The run store postgresql+psycopg://forecaster:***@127.0.0.1:")
        assert "cannot be reached" in message and "FORECASTER_STORE" in message
        assert "hunter2" not in message and "not-the-password" not in message and "\n" not in message
        assert "password authentication failed" in message or "refused" in message.lower()


def test_a_missing_driver_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"driver for postgresql\+psycopg2://ann:\*\*\*@db/x is not installed.*pip"):
        RunStore("postgresql+psycopg2://ann:secret@db/x").runs()


# ---------------------------------------------------------------- schema 1 (one SQLite file, model folders)

_V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '', source TEXT NOT NULL, dataset TEXT NOT NULL, target TEXT NOT NULL,
    features TEXT NOT NULL, unit TEXT NOT NULL DEFAULT '', data_start TEXT, data_end TEXT, data_rows INTEGER,
    data_hash TEXT NOT NULL, config TEXT NOT NULL, history TEXT NOT NULL, timings TEXT NOT NULL,
    metrics TEXT NOT NULL, labels TEXT NOT NULL, mae REAL, naive_mae REAL, skill REAL,
    predictions TEXT NOT NULL, model_dir TEXT
);
CREATE INDEX IF NOT EXISTS runs_dataset ON runs (dataset);
"""


def _v1_store(path: Path, model, evaluation, dataset: Dataset) -> list[Path]:
    """A store as schema 1 wrote it: two runs with model folders beside the file, one without a model."""
    folders = [path.with_name("runs-models") / f"run-{i}" for i in range(2)]
    row = {"created": "2026-01-01T00:00:00+00:00", "label": "old", "origin": "cli", "source": dataset.source,
           "dataset": dataset.name, "target": "y", "features": '["x"]', "unit": "m", "data_start": None,
           "data_end": None, "data_rows": 600, "data_hash": data_fingerprint(dataset.frame, ["y", "x"]),
           "config": json.dumps(model.config.to_dict()), "history": json.dumps(model.history_.to_dict()),
           "timings": "{}", "metrics": json.dumps({k: {m: float(v) if v is not None else None for m, v in d.items()}
                                                  for k, d in evaluation.metrics.items()}),
           "labels": json.dumps(evaluation.labels), "mae": 1.0, "naive_mae": 2.0, "skill": 0.5,
           "predictions": json.dumps({"date": [], "actual": []})}
    with sqlite3.connect(path) as connection:
        connection.executescript(_V1_SCHEMA)
        connection.execute("PRAGMA user_version = 1")
        for folder in [*folders, None]:
            if folder is not None:
                model.save(folder, extra={"source": dataset.source, "unit": "m"})
            values = {**row, "model_dir": str(folder) if folder else None}
            connection.execute(f"INSERT INTO runs ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                               tuple(values.values()))
    return folders


def test_a_schema_1_store_is_upgraded_in_place_keeping_runs_and_models(tmp_path: Path, fitted,
                                                                       dataset: Dataset) -> None:
    model, evaluation = fitted
    path = tmp_path / "runs.sqlite"
    folders = _v1_store(path, model, evaluation, dataset)
    store = RunStore(path)
    runs = store.runs()
    assert [run.id for run in runs] == [3, 2, 1] and {run.owner for run in runs} == {LOCAL_OWNER}
    assert [run.has_model for run in runs] == [False, True, True]
    for run_id in (1, 2):
        again = store.load_model(run_id)
        pd.testing.assert_frame_equal(again.forecast(3), model.forecast(3))
        assert again.extra_ == {"source": dataset.source, "unit": "m"}
    assert not any(folder.exists() for folder in folders) and not path.with_name("runs-models").exists()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
    assert "model_dir" not in columns and {"owner", "model"} <= set(columns)
    assert RunStore(path, owner=ANN).runs() == []
    assert store.record(model, evaluation, dataset, keep_model=False) == 4  # and it goes on as a new store


# ---------------------------------------------------------------- several writers, and a writer killed

_WRITER = textwrap.dedent("""
    import sys, numpy as np, pandas as pd
    from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
    from forecaster.datasets import Dataset
    from forecaster.evaluation import evaluate
    from forecaster.estimator import LSTMForecaster
    from forecaster.runs import RunStore
    from forecaster.training import configure_threads
    configure_threads(1)
    url, owner, label, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    t = np.arange(300.0)
    frame = pd.DataFrame({"y": np.sin(t / 5) + t / 100}, index=pd.date_range("2020-01-01", periods=300, name="date"))
    data = Dataset(frame=frame, name="wave", source="upload:wave.csv", target="y", freq="D")
    config = ForecasterConfig(data=DataConfig(target="y", window=5), model=ModelConfig(units=4),
                              train=TrainConfig(epochs=1))
    model = LSTMForecaster(config).fit(data)
    evaluation = evaluate(model)
    store = RunStore(url, owner=owner)
    print("ready", flush=True)
    i = 0
    while count < 0 or i < count:
        store.record(model, evaluation, data, label=f"{label}-{i}")
        print(i, flush=True)
        i += 1
""")


def _writer(url: str, label: str, count: int, owner: str = LOCAL_OWNER) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _WRITER, url, owner, label, str(count)], cwd=REPO,
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_writing_at_once_lose_nothing(store: RunStore) -> None:
    count = 15
    writers = [_writer(store.url, name, count) for name in ("a", "b")]
    for writer in writers:
        out, err = writer.communicate(timeout=240)
        assert writer.returncode == 0, err
    runs = store.runs()
    assert sorted(run.label for run in runs) == sorted(f"{n}-{i}" for n in "ab" for i in range(count))
    assert len({run.id for run in runs}) == 2 * count
    assert all(run.has_model for run in runs)


@pytest.mark.slow
def test_eight_writers_of_two_owners_at_once_on_postgresql_lose_nothing_and_never_cross(postgres_db: str) -> None:
    count = 6
    owners = {ANN: "ann", BOB: "bob"}
    writers = [_writer(postgres_db, f"{name}{k}", count, owner) for owner, name in owners.items() for k in range(4)]
    try:
        outputs = [writer.communicate(timeout=400) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
    assert [w.returncode for w in writers] == [0] * 8, [err[-500:] for _, err in outputs]
    for owner, name in owners.items():
        runs = RunStore(postgres_db, owner=owner).runs()
        assert sorted(run.label for run in runs) == sorted(f"{name}{k}-{i}" for k in range(4) for i in range(count))
        assert {run.owner for run in runs} == {owner} and all(run.has_model for run in runs)
    ids = [run.id for owner in owners for run in RunStore(postgres_db, owner=owner).runs()]
    assert len(set(ids)) == 8 * count


def test_a_writer_killed_mid_write_loses_no_completed_run_and_the_store_takes_new_writes(
        store: RunStore, fitted, dataset: Dataset) -> None:
    writer = _writer(store.url, "k", -1)  # records until killed
    assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    completed = -1
    deadline = time.monotonic() + 120
    while completed < 8 and time.monotonic() < deadline:  # let several runs complete, then kill mid-stream
        completed = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    runs = RunStore(store.url).runs()
    labels = {run.label for run in runs}
    assert {f"k-{i}" for i in range(completed + 1)} <= labels  # everything it reported done is there
    assert len(runs) <= completed + 2  # and at most the one in flight besides
    for run in runs:  # every listed run is whole: its model loads
        assert store.load_model(run.id).config.model.units == 4
    # Writing goes on: the store is not left locked by the dead writer.
    new = store.record(*fitted, dataset, label="after the kill")
    assert store.get(new).label == "after the kill" and store.get(runs[0].id).predictions is not None


# ---------------------------------------------------------------- command line

def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_setup(tmp_path: Path, synthetic_series: pd.DataFrame, store_url: str) -> tuple[Path, str, list[str]]:
    """A CSV of the synthetic series, a store (SQLite file, then PostgreSQL), and a tiny run's train options."""
    csv = tmp_path / "series.csv"
    synthetic_series.to_csv(csv)
    return csv, store_url, ["--data", str(csv), "--target", "y", "--window", "7", "--units", "8", "--epochs", "1",
                            "--store", store_url]


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


def test_cli_acts_in_the_owner_s_workspace(capsys, cli_setup) -> None:
    csv, db, base = cli_setup
    assert run(["train", *base, "--owner", "ann", "--json"], capsys)[0] == 0
    code, out, _ = run(["runs", "list", "--store", db, "--owner", "ann", "--json"], capsys)
    assert [r["ID"] for r in json.loads(out)["runs"]] == [1]
    code, out, _ = run(["runs", "list", "--store", db, "--json"], capsys)  # the local user's: another workspace
    assert code == 0 and json.loads(out)["runs"] == []
    for argv in (["runs", "show", "1"], ["runs", "delete", "1"], ["runs", "export", "1", "--out", str(csv) + ".zip"],
                 ["forecast", "--run", "1", "--steps", "2"]):
        code, _, err = run([*argv, "--store", db, "--owner", "bob"], capsys)
        assert code == 2 and err.count("\n") == 1 and "There is no run 1 in the store" in err
    code, out, _ = run(["runs", "show", "1", "--store", db, "--owner", "ann", "--json"], capsys)
    assert json.loads(out)["owner"] == "ann" and json.loads(out)["has_model"] is True


def test_cli_refuses_a_damaged_store_in_one_line(tmp_path: Path, capsys) -> None:
    db = tmp_path / "bad.sqlite"
    db.write_bytes(b"garbage" * 1000)
    code, _, err = run(["runs", "list", "--store", str(db)], capsys)
    assert code == 2 and err.count("\n") == 1 and "damaged" in err


def test_runs_and_optuna_studies_share_one_database(store: RunStore, fitted, dataset: Dataset) -> None:
    from forecaster.tuning import SearchSpace, tune

    run_id = store.record(*fitted, dataset, keep_model=False)
    result = tune(dataset, fitted[0].config, SearchSpace(units=(4, 8)), trials=2, storage=store.url,
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
    code, out, err = run(["runs", "export", "1", "--store", db, "--out", str(tmp_path / "run1.zip")], capsys)
    assert code == 0, err
    assert "Wrote run 1's model" in out
    forecasts = []
    for source in (["--run", "1", "--store", db], ["--model", str(tmp_path / "run1.zip")],
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
    sql(store, "UPDATE runs SET metrics = :metrics, labels = :labels, mae = :mae, naive_mae = :naive, skill = :skill "
        "WHERE id = :id", metrics=json.dumps(metrics), labels=json.dumps(labels), mae=mae, naive=naive,
        skill=1 - mae / naive if naive else None, id=run_id)


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
