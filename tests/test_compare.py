"""Comparing recorded runs and reopening one: the settings table, and a run's model with its own data again."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecaster.compare import SETTING_ROWS, Reopened, compare_settings, data_for_run, kept_upload, reopen_run
from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig, option_names
from forecaster.csv_reader import read_csv
from forecaster.datasets import Dataset
from forecaster.errors import StoreError
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.runs import Run, RunStore
from forecaster.training import configure_threads

configure_threads(1)


def tiny() -> ForecasterConfig:
    return ForecasterConfig(data=DataConfig(target="y", features=("x",), window=10),
                            model=ModelConfig(units=8), train=TrainConfig(epochs=2, batch_size=32, seed=0))


def a_run(run_id: int, config: dict, **changes) -> Run:
    """A run as the store reads it back, without a database."""
    values = dict(id=run_id, owner="ann", created="2026-01-01T00:00:00+00:00", label="", origin="test",
                  source="sample:x", dataset="x", target="y", features=("x",), unit="", data_start=None,
                  data_end=None, data_rows=None, data_hash="h", config=config, history={"train_loss": [1.0, 0.5]},
                  timings={}, metrics={}, labels={}, mae=None, naive_mae=None, skill=None, has_model=False)
    return Run(**{**values, **changes})


def test_the_settings_table_shows_every_option_but_the_columns_derived_from_the_config() -> None:
    options = {(section, name) for section in ("data", "model", "train") for name in option_names(section)}
    assert {(section, name) for section, name, _ in SETTING_ROWS} == options - {("data", "target"),
                                                                                 ("data", "features")}
    config = tiny().to_dict()
    old = tiny().replace(model={"units": 16}).to_dict()
    del old["model"]["skip"]  # recorded before the linear skip existed
    table = compare_settings([a_run(1, config), a_run(2, old)])
    assert list(table.columns) == ["Run 1 · LSTM 1×8", "Run 2 · LSTM 1×16"]
    assert list(table.loc["Units"]) == ["8", "16"] and list(table.loc["Linear skip"]) == ["True", "—"]
    assert list(table.loc["Learning rate"]) == ["0.001", "0.001"] and table.loc["Epochs run"].tolist() == ["2", "2"]
    assert table.loc["Dataset"].tolist() == ["x (y)", "x (y)"]


@pytest.fixture
def csv_upload(synthetic_series: pd.DataFrame) -> tuple[bytes, Dataset]:
    payload = synthetic_series.to_csv().encode()
    return payload, read_csv(payload, name="synthetic.csv", target="y", features=["x"])


def test_a_reopened_run_has_its_model_its_data_and_the_same_test_metrics(tmp_path: Path, csv_upload) -> None:
    _, dataset = csv_upload
    model = LSTMForecaster(tiny()).fit(dataset)
    store = RunStore(tmp_path / "runs.sqlite", owner="ann")
    run = store.get(store.record(model, evaluate(model, unit=dataset.unit), dataset))
    elsewhere = Dataset(frame=dataset.frame * 2, name="other", source="sample:other", target="y", features=("x",))
    reopened = reopen_run(store, run, candidates=(elsewhere, dataset))
    assert isinstance(reopened, Reopened) and reopened.reason == "" and reopened.dataset is dataset
    assert reopened.evaluation.metrics["lstm"]["mae"] == pytest.approx(run.mae)
    assert reopened.model.forecast(3).equals(model.forecast(3))


def test_a_run_on_an_upload_reopens_from_the_workspace_or_says_to_upload_it_again(tmp_path: Path, csv_upload) -> None:
    payload, dataset = csv_upload
    assert dataset.source.startswith("upload:")
    model = LSTMForecaster(tiny()).fit(dataset)
    store = RunStore(tmp_path / "runs.sqlite", owner="ann")
    run = store.get(store.record(model, evaluate(model, unit=dataset.unit), dataset))
    assert kept_upload(store, run) == ()
    missing = reopen_run(store, run)  # the model still forecasts; the data is what is missing
    assert missing.dataset is None and missing.evaluation is None and missing.model is not None
    assert "upload the same file on the Data page" in missing.reason
    with pytest.raises(StoreError, match="upload the same file"):
        data_for_run(run)
    store.save_upload(dataset.source.removeprefix("upload:"), payload)
    found = reopen_run(store, run)
    assert found.reason == "" and found.dataset.frame.equals(dataset.frame)
    assert found.evaluation.metrics["lstm"]["mae"] == pytest.approx(run.mae)
    other = RunStore(store.url, owner="bob")  # another owner's workspace does not hold ann's file
    assert kept_upload(other, run) == ()


def test_a_run_without_its_model_cannot_be_reopened(tmp_path: Path, csv_upload) -> None:
    _, dataset = csv_upload
    model = LSTMForecaster(tiny()).fit(dataset)
    store = RunStore(tmp_path / "runs.sqlite")
    run = store.get(store.record(model, evaluate(model, unit=dataset.unit), dataset, keep_model=False))
    with pytest.raises(StoreError, match="recorded without its model"):
        reopen_run(store, run, candidates=(dataset,))
