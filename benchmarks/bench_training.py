"""Seconds per epoch of the library's fit against a minimal raw PyTorch loop, same data and settings.

Run: python benchmarks/bench_training.py [--quick] [--json] [--reps N] [--epochs N]
The last line is `fit/raw epoch-time ratio: R`, the worse of the daily and hourly cases.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig  # noqa: E402
from forecaster.datasets import load_sample  # noqa: E402
from forecaster.estimator import LSTMForecaster  # noqa: E402
from forecaster.prepare import prepare  # noqa: E402
from forecaster.training import configure_threads, flush_denormals, make_loss, resolve_device  # noqa: E402
from forecaster.windows import input_windows  # noqa: E402

CASES = {"daily": ("seattle-weather", "temp_max", 30), "hourly": ("seattle-temps", "temp", 168)}
UNITS, LAYERS, BATCH, LR = 64, 2, 32, 1e-3


class RawNet(nn.Module):
    """The reference: nn.LSTM and a linear head on the last step, with the same two extras the default model has
    (the window read relative to its last value, and a fixed linear skip from the window), written plainly."""

    def __init__(self, n_inputs: int, window: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_inputs, UNITS, LAYERS, batch_first=True)
        self.head = nn.Linear(UNITS, 1)
        self.skip = nn.Linear(window * n_inputs, 1).requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        relative = x - x[:, -1:]  # (batch, window, 1): the target is the only column here
        return self.head(self.lstm(relative)[0][:, -1]) + self.skip(x.flatten(1))


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so an epoch's wall time includes it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class RawLoop:
    """The reference loop: prebuilt tensors on x's device, shuffled index batches, no DataLoader."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, seed: int) -> None:
        torch.manual_seed(seed)
        self.x, self.y = x, y
        self.net = RawNet(x.shape[2], x.shape[1]).to(x.device)
        self.optimizer = torch.optim.Adam([p for p in self.net.parameters() if p.requires_grad], lr=LR)
        # The loss the library's fit uses by default (MAE, the judged error): like is compared with like.
        self.criterion = make_loss(TrainConfig().loss)

    def epoch(self) -> float:
        """Train one epoch; its seconds."""
        x, y, net, optimizer, criterion = self.x, self.y, self.net, self.optimizer, self.criterion
        synchronize(x.device)
        start = time.perf_counter()
        order = torch.randperm(len(x), device=x.device)
        for first in range(0, len(x), BATCH):
            index = order[first:first + BATCH]
            optimizer.zero_grad()
            loss = criterion(net(x[index]), y[index])
            loss.backward()
            optimizer.step()
        synchronize(x.device)
        return time.perf_counter() - start


def alternated_epochs(x: torch.Tensor, y: torch.Tensor, dataset, config: ForecasterConfig, seed: int,
                      raw_first: bool) -> tuple[list[float], list[float]]:
    """Seconds per epoch of the raw loop and of LSTMForecaster.fit, one epoch of each in turn.

    A raw epoch runs inside fit's progress callback, between two fit epochs, and its time is taken
    out of the next fit epoch's. Alternating epoch by epoch, rather than run by run, keeps a shared
    machine's slow drift (seen here: +10% within a minute) from landing on one side only.
    """
    raw_loop = RawLoop(x, y, seed)
    raw, fit = ([raw_loop.epoch()] if raw_first else []), []
    resumed = [0.0]  # fit's clock when it went back to training after the last callback

    def progress(report) -> None:
        entered = time.perf_counter()
        fit.append(report.elapsed - resumed[0])
        if not raw_first or report.epoch < report.max_epochs:  # as many raw epochs as fit epochs
            raw.append(raw_loop.epoch())
        resumed[0] = report.elapsed + (time.perf_counter() - entered)

    LSTMForecaster(config.replace(train={"seed": seed})).fit(dataset, progress=progress)
    return raw, fit


def run_case(name: str, reps: int, epochs: int) -> dict:
    sample, target, window = CASES[name]
    dataset = load_sample(sample)
    config = ForecasterConfig(
        data=DataConfig(target=target, window=window),
        model=ModelConfig(layers=LAYERS, units=UNITS, dropout=0.0),
        train=TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR, patience=0, clip_norm=0.0))
    prepared = prepare(dataset.frame, config.data, target)
    origins = prepared.train_origins
    device = resolve_device(config.train.device)  # the same device fit picks: CUDA when torch sees it
    x = torch.as_tensor(input_windows(prepared.inputs, origins, window), device=device)  # (n, window, 1)
    y = torch.as_tensor(prepared.target[origins + 1][:, None], device=device)  # (n, 1)
    raw, fit = [], []
    for rep in range(reps):  # raw first on even repetitions, fit first on odd ones
        raw_times, fit_times = alternated_epochs(x, y, dataset, config, seed=rep, raw_first=rep % 2 == 0)
        raw.extend(raw_times[1:])  # the first epoch of each side warms caches up
        fit.extend(fit_times[1:])
    raw_median, fit_median = statistics.median(raw), statistics.median(fit)
    return {"case": name, "sample": sample, "window": window, "train_windows": int(len(x)),
            "raw_seconds_per_epoch": round(raw_median, 4), "fit_seconds_per_epoch": round(fit_median, 4),
            "ratio": round(fit_median / raw_median, 3), "epochs_per_side": len(fit), "device": str(device)}


def device_name() -> str:
    """The device both sides train on, in words."""
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name()}, cuDNN {torch.backends.cudnn.version()})"
    return "cpu"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and epochs (CI)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--reps", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--threads", type=int, help="torch threads (default: the library's policy)")
    parser.add_argument("--case", choices=tuple(CASES), action="append",
                        help="run only this case (repeatable; default: all)")
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    # Before any torch work, so the CPU worker threads both sides share inherit it as fit's own threads do.
    flush_denormals()
    reps = args.reps or (2 if args.quick else 4)
    epochs = args.epochs or (4 if args.quick else 6)
    results = [run_case(name, reps, epochs) for name in (args.case or CASES)]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worst = max(r["ratio"] for r in results)
    if args.json:
        print(json.dumps({"device": device_name(), "torch": torch.__version__, "threads": threads, "reps": reps, "epochs": epochs, "cases": results,
                          "peak_rss_mb": round(peak_mb, 1), "ratio": worst}, indent=2))
    else:
        print(f"torch {torch.__version__}, {threads} thread(s), {reps} reps x {epochs} epochs per side, "
              f"device {device_name()}")
        for r in results:
            print(f"{r['case']:>6}: {r['train_windows']} windows of {r['window']}: raw {r['raw_seconds_per_epoch']:.4f} s/epoch, "
                  f"fit {r['fit_seconds_per_epoch']:.4f} s/epoch, ratio {r['ratio']:.3f}")
        print(f"peak RSS (both cases, whole process): {peak_mb:.0f} MB")
    print(f"fit/raw epoch-time ratio: {worst:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
