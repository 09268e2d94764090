"""AppTest of the Experiments page: the runs table, comparing runs, loading a run's model, deleting, damage."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from app_helpers import open_page
from streamlit.testing.v1 import AppTest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.errors import StoreError
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.runs import RunStore
from forecaster.training import configure_threads
from forecaster.ui.jobs import TrainingJob
from forecaster.ui.state import Selection

configure_threads(1)
PAGE = "pages/experiments.py"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FORECASTER_HOME", str(tmp_path))  # a store of this test's own
    return tmp_path


def dataset(frame: pd.DataFrame, name: str = "syn") -> Dataset:
    return Dataset(frame=frame, name=name, source=f"upload:{name}.csv", target="y", features=("x",), freq="D",
                   unit="m")


def record(data: Dataset, units: int, label: str = "") -> int:
    config = ForecasterConfig(data=DataConfig(target="y", features=("x",), window=10), model=ModelConfig(units=units),
                              train=TrainConfig(epochs=2, seed=0))
    model = LSTMForecaster(config).fit(data)
    return RunStore().record(model, evaluate(model, unit=data.unit), data, label=label, origin="test")


def tick(at: AppTest, *rows: int) -> AppTest:
    generation = at.session_state["_runs_table_gen"] if "_runs_table_gen" in at.session_state else 0
    at.session_state[f"runs_table_{generation}"] = {"selection": {"rows": list(rows), "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    return at


def test_no_runs_yet_points_to_train(home: Path) -> None:
    at = open_page(PAGE)
    assert "No runs yet" in at.info[0].value
    assert not RunStore().path.exists()  # looking does not create a store


def test_the_table_lists_every_run_oldest_first(home: Path, synthetic_series: pd.DataFrame) -> None:
    data = dataset(synthetic_series)
    first, second = record(data, 8, "small"), record(data, 12, "larger")
    at = open_page(PAGE)
    table = at.dataframe[0].value
    assert list(table["ID"]) == [first, second] and list(table["Label"]) == ["small", "larger"]
    assert {"MAE", "Naive MAE", "Skill vs naive", "Window", "Units"} <= set(table.columns)
    assert "Tick one run" in at.info[0].value
    csv = next(b for b in at.get("download_button") if "CSV" in b.proto.label)
    assert csv.proto.label == "Export table as CSV"


def test_two_ticked_runs_are_compared_side_by_side(home: Path, synthetic_series: pd.DataFrame) -> None:
    data = dataset(synthetic_series)
    first, second = record(data, 8), record(data, 12)
    at = tick(open_page(PAGE), 0, 1)
    assert [s.value for s in at.subheader][:1] == ["Side by side"]
    assert len(at.get("plotly_chart")) == 2  # forecasts overlaid, and the loss curves
    metrics = at.dataframe[1].value
    run = RunStore().get(first)
    best = run.best_baseline
    baselines = (["Naive (best baseline)"] if best == "naive" else
                 ["Naive", f"Best baseline: {run.labels[best]}"])  # the best baseline of the runs' data, named
    assert list(metrics.columns) == [f"Run {first} · LSTM 1×8", f"Run {second} · LSTM 1×12", *baselines]
    assert "MAE" in metrics.index and "Skill vs naive" in metrics.index and "Skill vs best" in metrics.index
    skill = metrics.loc["Skill vs best", f"Run {first} · LSTM 1×8"]
    assert skill == f"{run.skill_vs_best:+.1%}" and metrics.loc["Skill vs best", baselines[-1]] == "—"
    settings = at.dataframe[2].value
    assert list(settings.loc["Units"]) == ["8", "12"]


def test_runs_on_other_data_are_kept_off_the_shared_chart(home: Path, synthetic_series: pd.DataFrame) -> None:
    first = record(dataset(synthetic_series, "syn"), 8)
    other = synthetic_series.copy()
    other["y"] = other["y"] * 2
    second = record(dataset(other, "double"), 8)
    at = tick(open_page(PAGE), 0, 1)
    assert any(f"Run {second}" in c.value and "other data" in c.value for c in at.caption)
    assert "Naive (run 1's data)" in at.dataframe[1].value.columns and first == 1


def test_loading_a_run_whose_data_is_in_the_session_evaluates_it(home: Path, synthetic_series: pd.DataFrame) -> None:
    data = dataset(synthetic_series)
    run_id = record(data, 8)
    at = open_page(PAGE, selection=Selection(dataset=data, target="y", features=("x",)))
    tick(at, 0)
    next(b for b in at.button if b.label == f"Load run {run_id}'s model").click().run()
    assert not at.exception and "Loaded run 1's model and its data (syn)" in at.success[0].value
    model, evaluation, trained_on = at.session_state["result"]
    assert evaluation is not None and trained_on.dataset is data
    assert evaluation.metrics["lstm"]["mae"] == pytest.approx(RunStore().get(run_id).mae)
    at.switch_page("pages/forecast.py").run()
    assert not at.exception and len(at.get("plotly_chart")) >= 1


def test_loading_a_run_whose_upload_is_gone_still_loads_the_model(home: Path, synthetic_series: pd.DataFrame) -> None:
    run_id = record(dataset(synthetic_series), 8)
    at = tick(open_page(PAGE), 0)  # the session holds the default sample, not this upload
    next(b for b in at.button if b.label == f"Load run {run_id}'s model").click().run()
    assert not at.exception
    assert "upload the same file on the Data page" in at.warning[0].value
    model, evaluation, _ = at.session_state["result"]
    assert model is not None and evaluation is None


def test_deleting_ticked_runs_removes_them_and_their_models(home: Path, synthetic_series: pd.DataFrame) -> None:
    data = dataset(synthetic_series)
    keep, gone = record(data, 8), record(data, 12)
    assert RunStore().get(gone).has_model
    at = tick(open_page(PAGE), 1)
    at.button(key="confirm_delete").click().run()
    assert not at.exception
    assert [run.id for run in RunStore().runs()] == [keep]
    with pytest.raises(StoreError, match=f"no run {gone}"):
        RunStore().model_archive(gone)  # its model went with it
    assert list(at.dataframe[0].value["ID"]) == [keep]
    assert "Tick one run" in at.info[0].value  # the ticks were cleared, not moved onto another run


def test_filtering_by_dataset_clears_ticks_that_would_move(home: Path, synthetic_series: pd.DataFrame) -> None:
    record(dataset(synthetic_series, "a"), 8)
    record(dataset(synthetic_series, "b"), 8)
    at = tick(open_page(PAGE), 1)
    assert any("Load run 2" in b.label for b in at.button)
    at.multiselect(key="experiments_datasets").set_value(["a"]).run()
    assert list(at.dataframe[0].value["ID"]) == [1]
    assert not any(b.label.startswith("Load run") for b in at.button)


def test_a_damaged_store_gets_one_sentence(home: Path) -> None:
    (home / "runs.sqlite").write_bytes(b"not a database" * 500)
    at = open_page(PAGE)
    assert "damaged" in at.error[0].value and not at.exception


def test_a_finished_app_training_run_is_recorded(home: Path, synthetic_series: pd.DataFrame) -> None:
    data = dataset(synthetic_series)
    config = ForecasterConfig(data=DataConfig(target="y", window=10), model=ModelConfig(units=8),
                              train=TrainConfig(epochs=2))
    job = TrainingJob(config=config, dataset=data, label="from the app").start()
    assert job.wait(120) and job.status == "done"
    run = RunStore().get(job.run_id)
    assert run.label == "from the app" and run.origin == "app" and run.has_model


def test_a_store_that_cannot_be_written_costs_the_record_not_the_model(home: Path,
                                                                      synthetic_series: pd.DataFrame) -> None:
    (home / "runs.sqlite").mkdir()  # a folder where the store's database file should be
    config = ForecasterConfig(data=DataConfig(target="y", window=10), model=ModelConfig(units=8),
                              train=TrainConfig(epochs=1))
    job = TrainingJob(config=config, dataset=dataset(synthetic_series), label="x").start()
    assert job.wait(120) and job.status == "done" and job.model is not None
    assert job.run_id is None and "could not be kept" in job.record_error


def test_a_ticked_run_s_model_downloads_as_a_model_file(home: Path, synthetic_series: pd.DataFrame) -> None:
    run_id = record(dataset(synthetic_series), 8)
    at = tick(open_page(PAGE), 0)
    button = next(b for b in at.get("download_button") if "model" in b.proto.label)
    assert button.proto.label == f"Download run {run_id}'s model"
    payload = RunStore().model_archive(run_id)
    again = LSTMForecaster.from_bytes(payload)
    pd.testing.assert_frame_equal(again.forecast(3), RunStore().load_model(run_id).forecast(3))


def test_a_run_loaded_without_its_data_draws_bands_on_forecast(home: Path, synthetic_series: pd.DataFrame) -> None:
    """An app run's stored model lacked the validation residuals, so Forecast said it had none."""
    job = TrainingJob(config=ForecasterConfig(data=DataConfig(target="y", window=10), model=ModelConfig(units=8),
                                              train=TrainConfig(epochs=2, seed=0)),
                      dataset=dataset(synthetic_series), label="syn").start()
    assert job.wait(60) and job.status == "done", job.error
    at = tick(open_page(PAGE), 0)  # the upload is not in this session, so only the model loads
    next(b for b in at.button if b.label == f"Load run {job.run_id}'s model").click().run()
    model, evaluation, trained_on = at.session_state["result"]
    assert evaluation is None and trained_on is None
    at.switch_page("pages/forecast.py").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "carries no validation errors" not in captions
    table = at.dataframe[0].value
    assert {"lower_80", "upper_80", "lower_95", "upper_95"} <= set(table.columns)
    assert (table["upper_95"] > table["upper_80"]).all()


@pytest.mark.parametrize("address, shown", [("localhost", True), ("127.0.0.1", True), ("0.0.0.0", False),
                                            ("", False)])
def test_the_store_path_shows_only_on_a_server_for_this_machine(home: Path, synthetic_series: pd.DataFrame,
                                                                 address: str, shown: bool) -> None:
    from streamlit import config

    record(dataset(synthetic_series), 8)
    before = config.get_option("server.address")
    config.set_option("server.address", address or None)
    try:
        at = open_page(PAGE)
    finally:
        config.set_option("server.address", before)
    caption = next(c.value for c in at.caption if "runs shown" in c.value)
    assert (str(RunStore().path) in caption) is shown, caption


def test_the_table_has_each_run_s_best_baseline_and_skill_against_it(home: Path,
                                                                     synthetic_series: pd.DataFrame) -> None:
    data = dataset(synthetic_series)
    run_id = record(data, 8)
    at = open_page(PAGE)
    table = at.dataframe[0].value
    columns = list(table.columns)
    assert columns.index("Best baseline") == columns.index("Skill vs naive") + 1
    assert columns.index("Skill vs best") == columns.index("Best baseline") + 1
    run = RunStore().get(run_id)
    metrics = {name: m["mae"] for name, m in run.metrics.items() if name != "lstm"}
    best = min(metrics, key=metrics.get)
    [row] = table.to_dict("records")
    assert row["Best baseline"] == run.labels[best]
    assert row["Skill vs best"] == pytest.approx(1 - run.metrics["lstm"]["mae"] / metrics[best])
    assert row["Skill vs best"] <= row["Skill vs naive"] + 1e-12
    config = at.dataframe[0].proto.columns
    assert "every baseline" in config and "lowest test MAE" in config  # the headings' help says what they mean
