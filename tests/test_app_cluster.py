"""AppTest of the pages with FORECASTER_CLUSTER set: work goes to a real local Dask cluster, the pages say so."""

from __future__ import annotations

import pandas as pd
import pytest
from app_helpers import open_page, start_backtest
from test_app_train import button, set_tiny

from forecaster.datasets import Dataset
from forecaster.ui.state import Selection

WAIT = 90


@pytest.fixture
def on_cluster(dask_cluster, monkeypatch) -> str:
    monkeypatch.setenv("FORECASTER_CLUSTER", dask_cluster.address)
    return dask_cluster.address


@pytest.fixture
def selection(synthetic_series: pd.DataFrame) -> Selection:
    return Selection(dataset=Dataset(frame=synthetic_series, name="syn", source="test", target="y", freq="D"),
                     target="y")


def number(at, label: str):
    return next(w for w in at.number_input if w.label == label)


def home():
    from app_helpers import APP
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def test_the_sidebar_says_where_work_runs(on_cluster):
    at = home()
    assert any(on_cluster in c.value and "Dask cluster" in c.value for c in at.sidebar.caption)


def test_no_cluster_note_without_the_setting(monkeypatch):
    monkeypatch.delenv("FORECASTER_CLUSTER", raising=False)
    at = home()
    assert len(at.sidebar.caption) and not any("Dask cluster" in c.value for c in at.sidebar.caption)


def test_train_on_the_cluster_keeps_the_run_and_shows_the_worker(on_cluster, selection):
    at = open_page("pages/train.py", selection=selection)
    set_tiny(at)
    button(at, "Train").click().run()
    job = at.session_state["job"]
    assert job.cluster == on_cluster
    assert job.wait(WAIT) and job.status == "done", job.error
    assert job.worker.startswith("tcp://127.0.0.1:") and job.run_id is not None
    at.run()
    assert not at.exception and not at.error
    assert any(s.value.startswith("Trained 2 epochs") for s in at.success)
    model, evaluation, _ = at.session_state["result"]
    assert model is job.model and evaluation.metrics["lstm"]["mae"] > 0


def test_compare_cells_runs_one_task_per_cell_side_by_side(on_cluster, selection):
    at = open_page("pages/train.py", selection=selection)
    set_tiny(at)
    assert any("side by side on the cluster" in m.value for m in at.markdown)
    button(at, "Train LSTM, GRU and peephole").click().run()
    compare = at.session_state["compare_job"]
    assert compare.wait(WAIT) and compare.status == "done", compare.error
    assert {run.cluster for run in compare.runs.values()} == {on_cluster}
    assert all(run.worker for run in compare.runs.values())
    assert len(compare.table()) == 3


def test_tune_asks_how_many_workers_on_the_cluster(on_cluster, selection):
    at = open_page("pages/tune.py", selection=selection)
    assert number(at, "Workers on the cluster").value == 2


def test_a_backtest_from_the_results_page_runs_its_folds_on_the_cluster(on_cluster, synthetic_series):
    from test_app_results import trained

    result = trained(synthetic_series)
    at = open_page("pages/results.py", result=result, selection=result[2])
    job = start_backtest(at, folds=2, epochs=1)
    assert job.cluster == on_cluster
    assert any("the cluster" in (p.proto.text or "") for p in at.get("progress"))
    assert job.wait(WAIT) and job.status == "done", job.error
    at.run()
    assert not at.exception and not at.error
    assert any("beat the naive forecast" in i.value for i in at.info)
    assert len(job.result.folds) == 2 and len(job.finished_folds) == 2
