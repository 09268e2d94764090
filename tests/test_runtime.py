"""Tests for forecaster.runtime: torch's threads from the idle cores, the device, TF32 off on CUDA."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from forecaster import runtime
from forecaster.errors import ConfigError
from forecaster.runtime import configure_threads, resolve_device

_original_cpu_ticks = runtime._cpu_ticks


def test_configure_threads_sets_torch_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    assert configure_threads(2) == 2 and torch.get_num_threads() == 2
    monkeypatch.setenv("FORECASTER_THREADS", "1")
    assert configure_threads() == 1 and torch.get_num_threads() == 1
    monkeypatch.setenv("FORECASTER_THREADS", "lots")
    assert 1 <= configure_threads() <= 4  # an unreadable value falls back to the default
    configure_threads(1)


def test_configure_threads_splits_the_cores_among_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORECASTER_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    busy = {"cores": 0.1}
    monkeypatch.setattr(runtime, "busy_cores_elsewhere", lambda cores: busy["cores"])
    assert configure_threads() == 4  # one run on an idle machine: the cores, at most 4
    assert configure_threads(sharing=4) == 2
    assert configure_threads(sharing=16) == 1  # never below one thread
    busy["cores"] = 5.2
    assert configure_threads() == 3  # five cores are busy elsewhere
    busy["cores"] = 40.0
    assert configure_threads() == 1
    configure_threads(1)


def _fake_proc_stat(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lines: list[str]) -> None:
    """Serve the given first lines of /proc/stat one per read, as the kernel would over time."""
    stat = tmp_path / "stat"
    reads = iter(lines)

    def next_read() -> tuple[int, int]:
        stat.write_text(next(reads) + "\n")
        return _original_cpu_ticks()

    monkeypatch.setattr(runtime, "PROC_STAT", str(stat))
    monkeypatch.setattr(runtime, "_cpu_ticks", next_read)


def _fake_clock(monkeypatch: pytest.MonkeyPatch, own_cores: float) -> None:
    """A sleep during which this process keeps `own_cores` busy, on clocks that only it moves."""
    clock = {"cpu": 0.0, "wall": 0.0}
    monkeypatch.setattr(runtime.time, "process_time", lambda: clock["cpu"])
    monkeypatch.setattr(runtime.time, "perf_counter", lambda: clock["wall"])

    def sleep(seconds: float) -> None:
        clock["wall"] += seconds
        clock["cpu"] += own_cores * seconds

    monkeypatch.setattr(runtime.time, "sleep", sleep)


def test_busy_cores_elsewhere_reads_the_present_load_not_the_lagging_average(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("os.getloadavg", lambda: (2.0, 2.0, 2.0))  # a heavy job that has just ended
    _fake_clock(monkeypatch, own_cores=0.0)
    # 100 ticks pass on 2 cores; 50 of them busy, i.e. one core: user + nice + system + irq + softirq.
    _fake_proc_stat(monkeypatch, tmp_path, ["cpu  100 0 100 400 0 0 0 0 0 0", "cpu  130 0 120 450 0 0 0 0 0 0"])
    assert runtime.busy_cores_elsewhere(2, seconds=0.5) == pytest.approx(1.0, abs=0.05)
    # Idle, waiting on disk and stolen ticks are not busy.
    _fake_proc_stat(monkeypatch, tmp_path, ["cpu  100 0 100 400 0 0 0 0 0 0", "cpu  100 0 100 460 20 0 0 20 0 0"])
    assert runtime.busy_cores_elsewhere(2, seconds=0.5) == pytest.approx(0.0, abs=0.05)


def test_busy_cores_elsewhere_leaves_out_this_process_and_falls_back_to_the_load_average(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_clock(monkeypatch, own_cores=1.0)  # the one busy core below is this process's own
    _fake_proc_stat(monkeypatch, tmp_path, ["cpu  100 0 100 400 0 0 0 0 0 0", "cpu  150 0 100 450 0 0 0 0 0 0"])
    assert runtime.busy_cores_elsewhere(2, seconds=0.5) == pytest.approx(0.0, abs=0.05)
    monkeypatch.setattr(runtime, "PROC_STAT", str(tmp_path / "missing"))
    monkeypatch.setattr(runtime, "_cpu_ticks", _original_cpu_ticks)
    monkeypatch.setattr("os.getloadavg", lambda: (1.5, 1.0, 1.0))
    assert runtime.busy_cores_elsewhere(2, seconds=0.5) == 1.5


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_a_cuda_device_turns_tf32_off_in_cudnn_and_the_cpu_leaves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)  # torch's default; restored afterwards
    assert resolve_device("cpu").type == "cpu" and torch.backends.cudnn.allow_tf32
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"
    assert not torch.backends.cudnn.allow_tf32
    with torch.backends.cudnn.flags(enabled=False):  # still usable, as inspect's attribution needs it
        pass


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_resolve_device_cuda_without_gpu_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("cuda")
