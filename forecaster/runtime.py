"""Where and how training runs: torch's CPU threads (the idle cores now), the device, and float modes."""

from __future__ import annotations

import os
import time

import torch

from forecaster.errors import ConfigError


def flush_denormals() -> None:
    """Treat denormal floats as zero in this thread and in the CPU worker threads it creates from now on.

    Gradients that vanish through a long window (and, with the recurrent head started at zero, from the
    start) pass through denormal sizes, where CPU arithmetic is ~100x slower: an hourly epoch took 39 s
    instead of 7 s. Worker threads inherit the setting when they are created. `train_network` sets it while
    it trains and turns it off again for the calling thread, whose Python floats it would otherwise change.
    """
    torch.set_flush_denormal(True)


PROC_STAT = "/proc/stat"
LOAD_SAMPLE_SECONDS = 0.2


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from the first line of /proc/stat (Linux)."""
    with open(PROC_STAT, encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    idle = fields[3] + fields[4] + fields[7]  # idle, waiting on disk, or lent to other machines: not busy here
    return sum(fields) - idle, sum(fields)


def busy_cores_elsewhere(cores: int, seconds: float = LOAD_SAMPLE_SECONDS) -> float:
    """Cores that other processes keep busy now: CPU use sampled over `seconds`, less this process's own.

    Falls back to the 1-minute load average where /proc/stat is missing. The average lags by
    about a minute, so right after a heavy job (an install, a previous run) it still reports
    cores busy that are idle now, and training would start on fewer threads than it could use.
    """
    try:
        busy_before, total_before = _cpu_ticks()
        own_before, wall_before = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        busy_after, total_after = _cpu_ticks()
        own = (time.process_time() - own_before) / max(1e-9, time.perf_counter() - wall_before)
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if total_after <= total_before:
        return 0.0
    busy = cores * (busy_after - busy_before) / (total_after - total_before)
    return max(0.0, busy - own)


def configure_threads(threads: int | None = None, sharing: int = 1) -> int:
    """Set torch's CPU thread count and return it: $FORECASTER_THREADS, else the idle cores split `sharing` ways.

    Small recurrent nets gain little beyond a few threads (at most 4 are used). Threads that
    compete with other busy processes make training many times slower (measured here: 2
    threads on 2 busy cores ran an epoch 10x slower than 1 thread), so only cores that other
    processes leave idle now are taken, and runs side by side in this process share them.
    """
    if threads is None:
        env = os.environ.get("FORECASTER_THREADS", "").strip()
        if env.isdigit() and int(env) > 0:
            threads = int(env)
        else:
            cores = os.cpu_count() or 1
            busy = min(cores - 1, int(round(busy_cores_elsewhere(cores))))
            threads = max(1, min(4, (cores - max(0, busy)) // max(1, sharing)))
    torch.set_num_threads(threads)
    return threads


def resolve_device(name: str = "auto") -> torch.device:
    """CUDA when asked for or available under 'auto', else CPU; on CUDA, cuDNN's RNNs compute in full float32."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'.")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        full_float32_rnns()
    return device


def full_float32_rnns() -> None:
    """Turn off TF32 in cuDNN, which torch allows by default, so recurrent kernels compute in float32.

    TF32 keeps 10 mantissa bits: measured on an H100, hidden states then differ from the
    CPU's float32 by about 1e-4, and a model would forecast differently on the GPU than on
    the CPU. The legacy switch is used on purpose: setting only `cudnn.rnn.fp32_precision`
    makes every later read of `cudnn.allow_tf32` (and `cudnn.flags(...)`) raise in torch 2.13.
    """
    torch.backends.cudnn.allow_tf32 = False
