"""Tests for forecaster.training: learning, early stopping, progress, stopping, divergence, threads, device."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch
from torch import nn

from forecaster import training
from forecaster.config import START_PATIENCE_FACTOR, ModelConfig, TrainConfig
from forecaster.errors import ConfigError, TrainingError
from forecaster.model import RecurrentNet
from forecaster.training import (
    EpochReport,
    History,
    configure_threads,
    make_loss,
    predict_batched,
    train_network,
)

configure_threads(1)

WINDOW = 10


@pytest.fixture(autouse=True)
def _one_thread():
    yield
    configure_threads(1)  # whatever a test did, the next one runs on one thread


def _sine_windows(n: int, seed: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a sine with random phase; the target is the next value(s)."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    steps = np.arange(WINDOW + horizon)[None, :]
    series = np.sin(phase + 0.4 * steps)  # (n, window + horizon)
    return series[:, :WINDOW, None].astype(np.float32), series[:, WINDOW:].astype(np.float32)


def _net(seed: int = 0, **changes) -> RecurrentNet:
    torch.manual_seed(seed)
    return RecurrentNet(1, 1, ModelConfig(**{"layers": 1, "units": 8, "dropout": 0.0, **changes}))


class _Linear(nn.Module):
    """A tiny linear model on the flattened window, starting at zero: its training path is smooth."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(WINDOW, 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x[..., 0])  # (batch, 1)


def test_loss_decreases_on_an_easy_problem() -> None:
    train, val = _sine_windows(256, seed=1), _sine_windows(64, seed=2)
    config = TrainConfig(epochs=4, batch_size=16, lr=1e-2, patience=0)
    net = _net(residual=False)
    history = train_network(net, train, val, config)
    assert history.epochs_run == 4
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.val_loss[-1] < history.val_loss[0]
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    assert not net.training  # handed back in eval mode


def test_same_seed_gives_the_same_history() -> None:
    train, val = _sine_windows(64, seed=1), _sine_windows(16, seed=2)
    config = TrainConfig(epochs=2, batch_size=8, patience=0, seed=5)
    first = train_network(_net(), train, val, config)
    second = train_network(_net(), train, val, config)
    assert first.train_loss == second.train_loss and first.val_loss == second.val_loss


def _shrunk_val(train: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    # Validation targets are half the training ones: moving from zero towards the training
    # solution first helps and then hurts validation, so the best epoch lies in the middle.
    x, y = _sine_windows(64, seed=3)
    return x, y * 0.5


def test_early_stopping_stops_and_restores_the_best_weights() -> None:
    train = _sine_windows(128, seed=1)
    val = _shrunk_val(train)
    net = _Linear()
    snapshots: dict[int, dict[str, torch.Tensor]] = {0: {k: v.clone() for k, v in net.state_dict().items()}}

    def remember(report: EpochReport) -> None:
        snapshots[report.epoch] = {k: v.detach().clone() for k, v in net.state_dict().items()}

    config = TrainConfig(epochs=200, batch_size=16, lr=0.05, patience=3, clip_norm=0.0, loss="mse")
    history = train_network(net, train, val, config, progress=remember)

    assert history.stopped_early and not history.stopped_by_user
    assert history.epochs_run < config.epochs
    assert 0 < history.best_epoch < history.epochs_run
    assert history.epochs_run == history.best_epoch + config.patience
    assert history.best_val_loss == min(history.val_loss)
    best = snapshots[history.best_epoch]
    assert all(torch.equal(net.state_dict()[k], best[k]) for k in best)
    assert not all(torch.equal(net.state_dict()[k], snapshots[history.epochs_run][k]) for k in best)
    # The restored network really has the best validation loss.
    restored = float(nn.MSELoss()(predict_batched(net, torch.as_tensor(val[0])), torch.as_tensor(val[1])))
    assert restored == pytest.approx(history.best_val_loss, rel=1e-6)


def test_untrained_network_is_kept_when_training_never_helps() -> None:
    train = _sine_windows(64, seed=1)
    x_val, y_val = _sine_windows(32, seed=3)
    val = (x_val, np.zeros_like(y_val))  # the zero-initialised model is already perfect here
    net = _Linear()
    history = train_network(net, train, val, TrainConfig(epochs=20, batch_size=16, lr=0.05, patience=2))
    assert history.best_epoch == 0 and math.isnan(history.best_val_loss)
    # Until an epoch beats the start, early stopping waits START_PATIENCE_FACTOR times the patience.
    assert history.epochs_run == 2 * START_PATIENCE_FACTOR and history.stopped_early
    assert torch.all(net.linear.weight == 0) and torch.all(net.linear.bias == 0)


def test_progress_called_once_per_epoch() -> None:
    train, val = _sine_windows(64, seed=1), _sine_windows(16, seed=2)
    reports: list[EpochReport] = []
    config = TrainConfig(epochs=4, batch_size=16, patience=0)
    history = train_network(_net(), train, val, config, progress=reports.append)
    assert [r.epoch for r in reports] == [1, 2, 3, 4]
    assert all(r.max_epochs == 4 for r in reports)
    assert [r.train_loss for r in reports] == history.train_loss
    assert [r.val_loss for r in reports] == history.val_loss
    elapsed = [r.elapsed for r in reports]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0
    for report in reports:
        assert math.isfinite(report.seconds_left) and report.seconds_left >= 0
        # The estimate is the mean epoch time so far times the epochs still to run.
        assert report.seconds_left == pytest.approx(report.elapsed / report.epoch * (4 - report.epoch))
        assert report.best_val_loss <= report.val_loss
    assert reports[-1].seconds_left == 0


def test_stop_event_set_in_progress_ends_after_that_epoch() -> None:
    train, val = _sine_windows(64, seed=1), _sine_windows(16, seed=2)
    stop = threading.Event()

    def progress(report: EpochReport) -> None:
        if report.epoch == 2:
            stop.set()

    history = train_network(_net(), train, val, TrainConfig(epochs=10, batch_size=16, patience=0), progress, stop)
    assert history.stopped_by_user and not history.stopped_early
    assert history.epochs_run == 2


def test_stop_event_set_before_training_runs_no_epoch() -> None:
    train, val = _sine_windows(32, seed=1), _sine_windows(8, seed=2)
    stop = threading.Event()
    stop.set()
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    history = train_network(net, train, val, TrainConfig(epochs=5, patience=0), stop_event=stop)
    assert history.stopped_by_user and history.epochs_run == 0
    assert all(torch.equal(net.state_dict()[k], before[k]) for k in before)


@pytest.mark.timeout(60)
def test_stop_event_from_another_thread_stops_training() -> None:
    train, val = _sine_windows(64, seed=1), _sine_windows(16, seed=2)
    stop, started = threading.Event(), threading.Event()
    result: dict[str, History] = {}

    def run() -> None:
        config = TrainConfig(epochs=1000, batch_size=8, patience=0)
        result["history"] = train_network(_net(), train, val, config, progress=lambda r: started.set(),
                                          stop_event=stop)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    assert started.wait(30), "training never reported an epoch"
    stop.set()
    worker.join(30)
    assert not worker.is_alive(), "training did not return after the stop event was set"
    history = result["history"]
    assert history.stopped_by_user
    assert 1 <= history.epochs_run < 1000


def test_infinite_targets_raise_training_error_suggesting_lower_lr() -> None:
    x, y = _sine_windows(32, seed=1)
    y = y.copy()
    y[3] = np.inf
    with pytest.raises(TrainingError) as caught:
        train_network(_net(), (x, y), _sine_windows(8, seed=2), TrainConfig(epochs=3, lr=0.01, patience=0))
    message = str(caught.value)
    assert "lower the learning rate" in message and "0.001" in message and "epoch 1" in message


def test_huge_learning_rate_on_huge_inputs_raises_training_error() -> None:
    x, y = _sine_windows(64, seed=1)
    big = (x * 1e30, y * 1e30)
    config = TrainConfig(epochs=3, lr=1.0, clip_norm=0.0, patience=0, loss="mse")  # squares overflow float32
    with pytest.raises(TrainingError, match="lower the learning rate"):
        train_network(_net(residual=False), big, (x * 1e30, y * 1e30), config)


def test_history_round_trip() -> None:
    history = History(train_loss=[3.0, 2.0], val_loss=[2.5, 2.6], best_epoch=1, seconds=1.5, stopped_early=True)
    again = History.from_dict(history.to_dict())
    assert again == history and again.epochs_run == 2 and again.best_val_loss == 2.5


@pytest.mark.parametrize("name, kind", [("mse", nn.MSELoss), ("mae", nn.L1Loss), ("huber", nn.HuberLoss)])
def test_make_loss(name, kind) -> None:
    assert isinstance(make_loss(name), kind)


def test_make_loss_refuses_unknown() -> None:
    with pytest.raises(ConfigError, match="'hinge'"):
        make_loss("hinge")


def test_predict_batched_restores_train_mode() -> None:
    net = _net(dropout=0.5).train()
    x = torch.randn(5000, WINDOW, 1)  # more than one evaluation batch
    out = predict_batched(net, x)
    assert out.shape == (5000, 1) and net.training
    assert torch.equal(out, predict_batched(net, x))  # eval mode inside: no dropout


def test_warm_up_pays_the_first_optimizer_import_ahead_of_a_fit():
    """torch._dynamo is imported by the first optimizer; warming up does it before anyone waits for it."""
    import subprocess
    import sys

    from process_helpers import child_env

    code = ("import sys; from forecaster.training import warm_up; assert 'torch._dynamo' not in sys.modules; "
            "warm_up(); assert 'torch._dynamo' in sys.modules; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=child_env())
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_plateau_schedule_lowers_the_learning_rate_when_validation_stalls(monkeypatch):
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    noise = np.random.default_rng(1).normal(size=(64, 1)).astype(np.float32)  # nothing to learn: it stalls
    optimizers = []
    real = training.make_optimizer
    monkeypatch.setattr(training, "make_optimizer", lambda net, config: optimizers.append(real(net, config)) or
                        optimizers[-1])
    config = TrainConfig(epochs=12, patience=0, lr=0.05, lr_schedule="plateau")
    training.train_network(net, (x, noise), (x[:16], noise[:16]), config)
    assert optimizers[0].param_groups[0]["lr"] < 0.05
    with pytest.raises(ConfigError, match="lr_schedule"):
        TrainConfig(lr_schedule="cosine")


def test_a_trained_epoch_replaces_the_start_only_when_clearly_better():
    """Paired per-window gain above one standard error: chance wins on a short validation part keep the start."""
    rng = np.random.default_rng(0)
    start = torch.as_tensor(rng.uniform(1.0, 2.0, 19), dtype=torch.float64)
    noisy = start - torch.as_tensor(rng.normal(0.01, 0.5, 19), dtype=torch.float64)  # lower on average, by chance
    assert float(noisy.mean()) < float(start.mean())
    assert not training._clearly_better(start, noisy)
    assert training._clearly_better(start, start - 0.2 + torch.as_tensor(rng.normal(0, 0.05, 19)))


def test_denormal_floats_are_flushed_for_training():
    """With the head started at zero, gradients pass through denormal sizes: unflushed, an hourly epoch was 5x slower."""
    seen = []
    net = nn.Linear(2, 1)
    x = np.ones((8, 2), dtype=np.float32)

    def progress(report):  # inside training: denormal float32 arithmetic gives zero
        seen.append(float(torch.tensor([1e-39], dtype=torch.float32) * 1.0))

    training.train_network(net, (x, x[:, :1]), (x, x[:, :1]), TrainConfig(epochs=1, patience=0), progress)
    assert seen == [0.0]
    assert float(torch.tensor([1e-39], dtype=torch.float32) * 1.0) > 0  # and the caller's thread is as it was


def test_a_stop_inside_an_epoch_records_no_part_epoch_and_keeps_the_best_whole_one() -> None:
    train, val = _sine_windows(64, seed=1), _sine_windows(16, seed=2)

    class StopInThirdEpoch(threading.Event):
        """Set after two whole epochs and two batches of the third (64 windows in batches of 16)."""

        def __init__(self) -> None:
            super().__init__()
            self.asked = 0

        def is_set(self) -> bool:
            self.asked += 1  # once per batch, once after each epoch
            return self.asked > 2 * 5 + 2

    reports: list[EpochReport] = []
    net = _net()
    history = train_network(net, train, val, TrainConfig(epochs=10, batch_size=16, patience=0, loss="mse"), reports.append,
                            StopInThirdEpoch())
    assert history.stopped_by_user and history.epochs_run == 2 == len(reports)
    assert len(history.train_loss) == len(history.val_loss) == 2
    x_val = torch.as_tensor(val[0], dtype=torch.float32)
    with torch.no_grad():
        kept = float(torch.nn.functional.mse_loss(net(x_val), torch.as_tensor(val[1], dtype=torch.float32)))
    if history.best_epoch:  # the weights of the best whole epoch, not those of the part-epoch
        assert kept == pytest.approx(history.val_loss[history.best_epoch - 1], rel=1e-5)
