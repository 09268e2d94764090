"""forecaster.cluster and forecaster.remote against a real Dask scheduler and workers on loopback."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

import numpy as np
import pytest

from forecaster.cluster import ClusterError, RemoteJob, check, cluster_address, describe, resources_for
from forecaster.config import default_config
from forecaster.datasets import load_sample
from forecaster.remote import dataset_info, train_task
from forecaster.ui.jobs import TrainingJob


@pytest.fixture(scope="module")
def weather():
    return load_sample("seattle-weather")


def small_config(dataset, epochs: int = 3, **train):
    config = default_config(dataset.freq, len(dataset.frame), dataset.target, dataset.features)
    return config.replace(train={"epochs": epochs, "seed": 3, **train})


def test_unset_means_local_threads_and_no_dask_import():
    code = ("import sys, os; os.environ.pop('FORECASTER_CLUSTER', None); import forecaster.cluster as c; "
            "import forecaster.ui.jobs, forecaster.backtest, forecaster.cli.commands; "
            "assert c.cluster_address() is None and c.check() is None; "
            "print(any(m == 'distributed' or m.startswith('distributed.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_address_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FORECASTER_CLUSTER", " tcp://10.0.0.5:8786 ")
    assert cluster_address() == "tcp://10.0.0.5:8786"
    assert cluster_address("tcp://other:1") == "tcp://other:1"


def test_an_unreachable_scheduler_is_one_sentence():
    with pytest.raises(ClusterError, match=r"cannot be reached .*dask scheduler.*unset FORECASTER_CLUSTER"):
        check("tcp://127.0.0.1:9")


def test_a_job_on_the_cluster_matches_the_same_seed_trained_here(dask_cluster, weather, monkeypatch):
    monkeypatch.setenv("FORECASTER_THREADS", "1")  # as the workers: the same arithmetic, the same weights
    config = small_config(weather)
    # One after the other: torch's random generator is global to a process, so a fit running beside another
    # in the same process (this one's model loading) would start from other weights.
    here = TrainingJob(config=config, dataset=weather, record=False).start()
    assert here.wait(120)
    there = TrainingJob(config=config, dataset=weather, record=False, cluster=dask_cluster.address).start()
    assert there.wait(120)
    assert here.status == there.status == "done", (here.error, there.error)
    assert there.worker and there.worker.startswith("tcp://127.0.0.1:")
    assert here.evaluation.to_dict()["metrics"] == there.evaluation.to_dict()["metrics"]  # NaN as None
    assert [r.val_loss for r in here.reports] == [r.val_loss for r in there.reports]
    assert there.model.history_.train_loss == here.model.history_.train_loss
    np.testing.assert_array_equal(here.model.forecast(5).to_numpy(), there.model.forecast(5).to_numpy())


def test_progress_arrives_in_order_and_stop_keeps_the_best_weights(dask_cluster, weather):
    config = small_config(weather, epochs=200, patience=0)
    job = TrainingJob(config=config, dataset=weather, record=False, cluster=dask_cluster.address).start()
    deadline = time.monotonic() + 90
    while len(job.reports) < 3 and job.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(job.reports) >= 3, job.error
    job.stop()
    assert job.wait(60)
    assert job.status == "stopped", job.error
    epochs = [r.epoch for r in job.reports]
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) < 200
    history = job.model.history_
    assert history.stopped_by_user and history.epochs_run == len(epochs)
    assert history.best_val_loss == min(r.val_loss for r in job.reports[:history.best_epoch])
    assert job.evaluation is not None


def test_a_users_bad_settings_fail_with_their_own_sentence(dask_cluster, weather):
    short = dataclasses.replace(weather, frame=weather.frame.iloc[:300])
    config = small_config(weather).replace(data={"window": 500})
    job = TrainingJob(config=config, dataset=short, record=False, cluster=dask_cluster.address).start()
    assert job.wait(60)
    assert job.status == "failed" and "window" in job.error and "Traceback" not in job.error


def test_a_gpu_job_needs_a_gpu_worker(dask_cluster):
    assert resources_for("auto", dask_cluster.address) is None
    with pytest.raises(ClusterError, match="no worker .* declares one.*--resources GPU=1"):
        resources_for("cuda", dask_cluster.address)


def test_a_killed_worker_fails_its_job_clearly_and_the_next_job_runs(dask_cluster, weather):
    victim = dask_cluster.add_worker(resources="VICTIM=1")
    config = small_config(weather, epochs=500, patience=0)
    frame, info = dataset_info(weather)
    remote = RemoteJob(dask_cluster.address, train_task, config.to_dict(), frame, info, resources={"VICTIM": 1},
                       label="victim")
    seen = []
    with pytest.raises(ClusterError, match="went away mid-run.*start the job again"):
        for message in remote.follow():
            seen.append(message["kind"])
            if seen.count("epoch") == 2:
                dask_cluster.kill(victim)
    assert seen.count("epoch") >= 2
    job = TrainingJob(config=small_config(weather, epochs=2), dataset=weather, record=False,
                      cluster=dask_cluster.address).start()
    assert job.wait(90) and job.status == "done", job.error


def test_describe_names_workers_and_threads(dask_cluster):
    line = describe(dask_cluster.address)
    assert dask_cluster.address in line and "workers" in line and "threads" in line


def test_a_backtest_on_the_cluster_runs_one_task_per_fold_and_matches_one_here(dask_cluster, weather, monkeypatch):
    from forecaster.backtest import backtest

    monkeypatch.setenv("FORECASTER_THREADS", "1")
    config = small_config(weather, epochs=2)
    here = backtest(weather, config, folds=3)
    reports = []
    there = backtest(weather, config, folds=3, cluster=dask_cluster.address, progress=reports.append)
    assert len(there.folds) == 3 and not there.stopped
    for a, b in zip(here.folds, there.folds):
        plain_a, plain_b = a.to_dict() | {"seconds": 0}, b.to_dict() | {"seconds": 0}
        metrics_a, metrics_b = plain_a.pop("metrics"), plain_b.pop("metrics")
        assert plain_a == plain_b
        for name in metrics_a:  # another process's float rounding: equal to 1e-8, not to the last bit
            for metric, value in metrics_a[name].items():
                assert (metrics_b[name][metric] is None) if value is None else (
                    metrics_b[name][metric] == pytest.approx(value, rel=1e-8))
        assert b.scaler.to_dict() == a.scaler.to_dict()
    assert there.best_baselines == here.best_baselines
    finished = [r.result.fold.number for r in reports if r.result is not None]
    assert sorted(finished) == [1, 2, 3]
    shares = [r.fraction for r in reports]
    assert shares == sorted(shares) or max(shares) <= 1.0
    assert {r.fold for r in reports if r.epoch is not None} == {1, 2, 3}


def test_stopping_a_cluster_backtest_keeps_the_finished_folds(dask_cluster, weather):
    import threading

    from forecaster.backtest import backtest

    stop = threading.Event()
    config = small_config(weather, epochs=300, patience=0)

    def progress(report):
        if report.epoch is not None and report.epoch.epoch >= 2:
            stop.set()

    result = backtest(weather, config, folds=4, cluster=dask_cluster.address, progress=progress, stop_event=stop)
    assert result.stopped and len(result.folds) < 4
    assert "stopped early" in result.verdict() or not result.folds


def test_a_search_on_the_cluster_shares_one_study_and_counts_trials_exactly(dask_cluster, weather, tmp_path):
    from forecaster.remote_tune import tune_on_cluster
    from forecaster.tuning import SearchSpace

    store = f"sqlite:///{tmp_path / 'studies.sqlite'}"  # the workers share this machine's disk
    seen = []
    result = tune_on_cluster(dask_cluster.address, weather, small_config(weather, epochs=2),
                             SearchSpace(units=(8, 32)), trials=5, workers=2, storage=store, study_name="shared",
                             owner="ann#1", on_trial=seen.append)
    assert result.n_complete + result.n_pruned == 5 and result.owner == "ann#1"
    assert sorted(s.number for s in seen) == sorted(result.trials["number"].tolist())
    assert len(set(result.trials["worker"])) == 2  # both workers took trials
    assert result.best_config is not None and 8 <= result.best_config.model.units <= 32


def test_the_cli_backtests_and_tunes_on_the_cluster(dask_cluster, tmp_path, monkeypatch, capsys):
    import json

    from forecaster import cli

    monkeypatch.setenv("FORECASTER_THREADS", "1")
    data = ["--data", "sample:seattle-weather", "--epochs", "1"]
    assert cli.main(["backtest", *data, "--folds", "2", "--json", "--cluster", dask_cluster.address]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["folds_done"] == 2 and not result["stopped"]
    store = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    monkeypatch.setenv("FORECASTER_CLUSTER", dask_cluster.address)  # the setting alone sends work there
    assert cli.main(["tune", *data, "--trials", "3", "--workers", "2", "--search", "units", "--storage", store,
                     "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["n_complete"] + found["n_pruned"] == 3
    # Every trial ran in a worker process of the cluster, none here. (Whether the second worker finds a trial
    # left depends on how fast the first runs one-epoch trials: the library test above checks that both join.)
    cluster_pids = {str(worker.pid) for worker in dask_cluster.workers}
    assert {t["worker"].rsplit(":", 1)[1] for t in found["trials"]} <= cluster_pids
    assert cli.main(["train", *data, "--store", store, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == 1


def test_the_cli_says_what_a_cluster_option_needs(monkeypatch, capsys):
    from forecaster import cli

    monkeypatch.delenv("FORECASTER_CLUSTER", raising=False)
    data = ["--data", "sample:seattle-weather", "--epochs", "1"]
    assert cli.main(["backtest", *data, "--cluster"]) == 2
    assert "--cluster needs a scheduler address" in capsys.readouterr().err
    assert cli.main(["tune", *data, "--workers", "2"]) == 2
    assert "--workers runs Optuna workers on a cluster" in capsys.readouterr().err
    assert cli.main(["train", *data, "--cluster", "tcp://127.0.0.1:9", "--no-record"]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "Traceback" not in err


def test_a_closed_tab_stops_its_remote_training(dask_cluster, weather):
    config = small_config(weather, epochs=500, patience=0)
    job = TrainingJob(config=config, dataset=weather, record=False, cluster=dask_cluster.address)
    job.alive = lambda: len(job.reports) < 2  # the browser session goes away after the second epoch
    job.start()
    assert job.wait(90), "the remote run went on after its session had gone"
    assert job.orphaned and job.status == "stopped" and job.model is None
    assert len(job.reports) == 0  # released with the rest of the session's memory


def test_two_sessions_train_side_by_side_on_different_workers(dask_cluster, weather):
    config = small_config(weather, epochs=3)
    jobs = [TrainingJob(config=config, dataset=weather, record=False, cluster=dask_cluster.address).start()
            for _ in range(2)]
    assert all(job.wait(120) for job in jobs)
    assert [job.status for job in jobs] == ["done", "done"], [job.error for job in jobs]
    assert jobs[0].worker != jobs[1].worker  # one-thread workers: the second job did not queue behind the first


def test_a_gpu_job_goes_to_the_worker_that_declares_a_gpu(dask_cluster, weather):
    from forecaster.cluster import workers

    dask_cluster.add_worker(resources="GPU=1")  # this machine has no GPU: the job reaches it and says so
    declared = [address for address, w in workers(dask_cluster.address).items() if w["resources"].get("GPU")]
    job = TrainingJob(config=small_config(weather, device="cuda"), dataset=weather, record=False,
                      cluster=dask_cluster.address).start()
    assert job.wait(60) and job.status == "failed"
    assert job.worker in declared
    assert "no CUDA GPU is available" in job.error


def test_workers_raise_glibcs_mmap_threshold_once():
    from forecaster.remote import tune_malloc

    assert tune_malloc() is True and tune_malloc() is True  # Linux with glibc, here and in CI


def test_a_scheduler_that_stops_mid_run_fails_the_job_in_one_sentence(weather):
    import dask_server

    from forecaster import cluster as cluster_module

    own = dask_server.DaskCluster(workers=1)
    try:
        job = TrainingJob(config=small_config(weather, epochs=500, patience=0), dataset=weather, record=False,
                          cluster=own.address).start()
        deadline = time.monotonic() + 90
        while len(job.reports) < 2 and job.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(job.reports) >= 2, job.error
        own.kill(own.scheduler)
        assert job.wait(90), "the job hung after its scheduler stopped"
        assert job.status == "failed" and "cannot be reached" in job.error and "unset FORECASTER_CLUSTER" in job.error
        assert len(job.reports) >= 2  # what it reported is still there
    finally:
        own.stop()
        cluster_module._clients.pop(own.address, None)


def test_a_search_refuses_a_sqlite_store_that_workers_elsewhere_cannot_reach():
    from forecaster.errors import ConfigError
    from forecaster.remote_tune import check_store_reachable

    check_store_reachable("sqlite:////tmp/runs.sqlite", ["127.0.0.1", "localhost"])  # this machine: fine
    check_store_reachable("postgresql+psycopg://u@db/x", ["10.1.2.3"])  # every worker can reach a server
    with pytest.raises(ConfigError, match=r"workers on 10\.1\.2\.3 cannot reach.*PostgreSQL URL"):
        check_store_reachable("sqlite:////tmp/runs.sqlite", ["127.0.0.1", "10.1.2.3"])
