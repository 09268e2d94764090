"""Monte Carlo dropout: forecasts sampled with the network's dropout left on, and their central bands."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from forecaster.errors import ConfigError
from forecaster.prepare import Prepared, inverse_transform_paths
from forecaster.training import EVAL_BATCH
from forecaster.windows import input_windows

DEFAULT_PASSES = 50  # forward passes; quantiles of 50 samples are stable enough for 80-95%


def dropout_rate(model: Any) -> float:
    """The dropout rate the model was trained with (0: no Monte Carlo dropout bands)."""
    return float(model.config.model.dropout)


def _dropout_modules(net: nn.Module) -> list[nn.Module]:
    """Modules whose train mode means only "drop units": Dropout layers and stacked RNNs with dropout."""
    return [m for m in net.modules()
            if isinstance(m, nn.Dropout) or (isinstance(m, nn.RNNBase) and m.dropout > 0)]


def mc_dropout_paths(model: Any, prepared: Prepared, origins: np.ndarray, passes: int = DEFAULT_PASSES,
                     seed: int = 0) -> np.ndarray | None:
    """(passes, n, horizon) sampled forecasts in original units with dropout active; None without dropout.

    Everything else stays in eval mode. The global torch random state is left as it was.
    """
    if dropout_rate(model) <= 0:
        return None
    if not isinstance(passes, (int, np.integer)) or passes < 2:
        raise ConfigError(f"Monte Carlo dropout needs at least 2 passes; got {passes!r}.")
    net = model.net_
    device = next(net.parameters()).device
    scaled = input_windows(prepared.inputs, origins, model.config.data.window)  # (n, window, features)
    inputs = torch.as_tensor(np.ascontiguousarray(scaled), dtype=torch.float32, device=device)
    last = prepared.y[origins]
    was_training = net.training
    net.eval()
    for module in _dropout_modules(net):
        module.train()
    samples = []
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), torch.inference_mode():
            torch.manual_seed(seed)
            for _ in range(passes):
                paths = torch.cat([net(inputs[s:s + EVAL_BATCH]) for s in range(0, len(inputs), EVAL_BATCH)])
                unscaled = model.scaler_.inverse(paths.double().cpu().numpy(), column=0)
                samples.append(inverse_transform_paths(unscaled, last, model.config.data.transform))
    finally:
        net.train(was_training)  # also puts the dropout modules back
    return np.stack(samples)  # (passes, n, horizon)


def mc_band(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central `level` interval of the sampled paths: the (1-level)/2 and (1+level)/2 quantiles."""
    return (np.quantile(samples, (1 - level) / 2, axis=0), np.quantile(samples, (1 + level) / 2, axis=0))
