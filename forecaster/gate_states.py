"""Gate and state traces recomputed from a network's own weights, and integrated gradients of its forecast.

nn.LSTM and nn.GRU do not expose their gates, so `trace_states` replays the cell equations
step by step with the module's own weights (in float64) and proves the replay right by
comparing the hidden states it gets with the ones the module itself returns.
`integrated_gradients` says how much each input step and feature moved the forecast away
from the forecast for a flat window at the training mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from forecaster.errors import DataError
from forecaster.prepare import Prepared

# Quantities per cell kind, each an array (layers, time, units).
LSTM_QUANTITIES = ("input", "forget", "output", "candidate", "cell", "hidden")
GRU_QUANTITIES = ("reset", "update", "candidate", "hidden")
SIGMOID_GATES = ("input", "forget", "output", "reset", "update")
DEFAULT_IG_STEPS = 64

# What each picture means, in a sentence a person can read (used by the page and the summary).
EXPLANATIONS = {
    "input": "Input gate (0–1): how much of the new candidate is written into memory at this step.",
    "forget": "Forget gate (0–1): near 1 the unit keeps its memory, near 0 it wipes it.",
    "output": "Output gate (0–1): how much of the memory the unit shows to the next layer and the forecast.",
    "candidate": "Candidate (−1 to 1): the new value the unit proposes to write at this step.",
    "cell": "Cell state: the unit's long-term memory; slow colour changes mean it carries information far.",
    "hidden": "Hidden state (−1 to 1): what the unit outputs at each step; the last column feeds the forecast.",
    "reset": "Reset gate (0–1): near 0 the unit ignores its past when proposing a new value.",
    "update": "Update gate (0–1): near 1 the unit keeps its old state, near 0 it takes the new candidate.",
}


@dataclass
class StateTrace:
    """Every gate and state of every layer at every step of one window."""

    cell: str  # lstm, gru or peephole
    quantities: dict[str, np.ndarray]  # name -> (layers, time, units)
    state_match_max_abs_error: float  # recomputed vs the module's own hidden (and cell) states

    def __getitem__(self, name: str) -> np.ndarray:
        return self.quantities[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.quantities)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.quantities["hidden"].shape  # (layers, time, units)

    @property
    def memory(self) -> str:
        """The quantity that carries memory: the cell state for LSTMs, the hidden state for a GRU."""
        return "cell" if "cell" in self.quantities else "hidden"


def _as_window(window: Any) -> torch.Tensor:
    values = torch.as_tensor(np.asarray(window, dtype=np.float64), dtype=torch.float64)
    if values.ndim != 2:
        raise DataError(f"A window must be shaped (time, features); got {tuple(values.shape)}.")
    return values


def _lstm_layer(x: torch.Tensor, w_ih, w_hh, b_ih, b_hh, peephole=None) -> dict[str, torch.Tensor]:
    """Replay one LSTM layer (gate order i, f, g, o) on x (time, inputs); each result (time, units)."""
    units = w_hh.shape[1]
    h = x.new_zeros(units)
    c = x.new_zeros(units)
    out = {name: [] for name in LSTM_QUANTITIES}
    projected = x @ w_ih.T + b_ih + b_hh  # (time, 4 * units)
    for step in range(x.shape[0]):
        gates = projected[step] + w_hh @ h
        i, f, g, o = gates.split(units)
        if peephole is not None:  # input and forget gates see c(t-1), the output gate sees c(t)
            i = torch.sigmoid(i + peephole[0] * c)
            f = torch.sigmoid(f + peephole[1] * c)
        else:
            i, f = torch.sigmoid(i), torch.sigmoid(f)
        g = torch.tanh(g)
        c = f * c + i * g
        o = torch.sigmoid(o + peephole[2] * c) if peephole is not None else torch.sigmoid(o)
        h = o * torch.tanh(c)
        for name, value in zip(LSTM_QUANTITIES, (i, f, o, g, c, h)):
            out[name].append(value)
    return {name: torch.stack(values) for name, values in out.items()}


def _gru_layer(x: torch.Tensor, w_ih, w_hh, b_ih, b_hh) -> dict[str, torch.Tensor]:
    """Replay one GRU layer (gate order r, z, n, as in torch) on x (time, inputs)."""
    units = w_hh.shape[1]
    h = x.new_zeros(units)
    out = {name: [] for name in GRU_QUANTITIES}
    projected = x @ w_ih.T + b_ih  # (time, 3 * units)
    for step in range(x.shape[0]):
        xr, xz, xn = projected[step].split(units)
        hr, hz, hn = (w_hh @ h + b_hh).split(units)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        for name, value in zip(GRU_QUANTITIES, (r, z, n, h)):
            out[name].append(value)
    return {name: torch.stack(values) for name, values in out.items()}


def _double(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().to("cpu", torch.float64)


def _recompute(rnn: nn.Module, x: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """Per layer, every quantity (time, units); layer k+1 reads layer k's hidden sequence (no dropout)."""
    layers = []
    if isinstance(rnn, (nn.LSTM, nn.GRU)):
        replay = _lstm_layer if isinstance(rnn, nn.LSTM) else _gru_layer
        for k in range(rnn.num_layers):
            params = [_double(getattr(rnn, f"{name}_l{k}")) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            layers.append(replay(x, *params))
            x = layers[-1]["hidden"]
    else:  # forecaster.model.PeepholeLSTM
        for layer in rnn.layers:
            params = [_double(p) for p in (layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh, layer.peephole)]
            layers.append(_lstm_layer(x, *params))
            x = layers[-1]["hidden"]
    return layers


@torch.no_grad()
def _module_states(rnn: nn.Module, window: torch.Tensor) -> list[torch.Tensor]:
    """What the module itself returns, in eval mode: tensors to compare with the replay, on the CPU in float64.

    nn.LSTM / nn.GRU give the top layer's hidden sequence plus every layer's last hidden
    (and for the LSTM last cell) state; the peephole stack is run layer by layer, so every
    layer's hidden sequence and last cell state are compared.
    """
    parameter = next(rnn.parameters())
    x = window.to(parameter.device, parameter.dtype)[None]  # (1, time, features)
    was_training = rnn.training
    rnn.eval()
    try:
        if isinstance(rnn, nn.LSTM):
            output, (h_n, c_n) = rnn(x)
            found = [output[0], h_n[:, 0], c_n[:, 0]]  # (time, units), (layers, units), (layers, units)
        elif isinstance(rnn, nn.GRU):
            output, h_n = rnn(x)
            found = [output[0], h_n[:, 0]]
        else:
            sequences, cells = [], []
            for layer in rnn.layers:
                x, c = layer(x)
                sequences.append(x[0])
                cells.append(c[0])
            found = [torch.stack(sequences), torch.stack(cells)]  # (layers, time, units), (layers, units)
    finally:
        rnn.train(was_training)
    return [_double(t) for t in found]


def trace_states(net: nn.Module, window: Any) -> StateTrace:
    """Gates and states of every layer for one scaled input window (time, features).

    `net` is a RecurrentNet (or its `.rnn`). Returns arrays (layers, time, units):
    input, forget, output, candidate, cell, hidden for lstm and peephole cells; reset,
    update, candidate, hidden for a GRU. `state_match_max_abs_error` is the largest
    absolute difference between the replayed states and the module's own.
    """
    rnn = getattr(net, "rnn", net)
    x = _as_window(window)
    if hasattr(net, "recurrent_inputs"):  # relative inputs: the layers read the window as the network feeds it
        x = net.recurrent_inputs(x[None])[0]
    layers = _recompute(rnn, x)
    names = tuple(layers[0])
    quantities = {name: torch.stack([layer[name] for layer in layers]).numpy() for name in names}
    hidden = torch.as_tensor(quantities["hidden"])  # (layers, time, units)
    found = _module_states(rnn, x)
    if isinstance(rnn, nn.LSTM):
        cell = torch.as_tensor(quantities["cell"])
        replay = [hidden[-1], hidden[:, -1], cell[:, -1]]
        kind = "lstm"
    elif isinstance(rnn, nn.GRU):
        replay = [hidden[-1], hidden[:, -1]]
        kind = "gru"
    else:
        replay = [hidden, torch.as_tensor(quantities["cell"])[:, -1]]
        kind = "peephole"
    error = max(float((a - b).abs().max()) for a, b in zip(replay, found))
    return StateTrace(cell=kind, quantities=quantities, state_match_max_abs_error=error)


def unit_order(trace: StateTrace, layer: int, quantity: str | None = None) -> np.ndarray:
    """Units of a layer, those whose memory changes most over the window first (total variation)."""
    values = trace[quantity or trace.memory][layer]  # (time, units)
    change = np.abs(np.diff(values, axis=0)).sum(axis=0) if len(values) > 1 else np.abs(values).sum(axis=0)
    return np.argsort(-change, kind="stable")


# ---------------------------------------------------------------- attribution

@dataclass
class Attribution:
    """Integrated gradients of one forecast step with respect to every input step and feature."""

    values: np.ndarray  # (time, features), in scaled network-output units
    output: float  # network output for the window (scaled)
    baseline_output: float  # network output for the baseline window (scaled)
    baseline: np.ndarray  # (time, features) the baseline window, scaled
    step: int  # which forecast step (0 = the first)
    completeness_error: float  # |sum(values) - (output - baseline_output)|


def training_mean(prepared: Prepared, transform: str = "none") -> np.ndarray:
    """Mean scaled input per column over the training rows (a transform loses row 0, which is skipped)."""
    first_row = 0 if transform == "none" else 1
    return prepared.inputs[first_row:prepared.train_end].astype(np.float64).mean(axis=0)


def integrated_gradients(net: nn.Module, window: Any, baseline: Any, steps: int = DEFAULT_IG_STEPS,
                         step: int = 0) -> Attribution:
    """Integrated gradients (midpoint rule, `steps` points) of forecast step `step` in scaled output space.

    The target is the network's own output (scaled, transformed units), so the attributions
    sum to output(window) − output(baseline) up to the integration error reported as
    `completeness_error`. `baseline` is a (features,) vector held flat over time, or a full window.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1; got {steps}.")
    parameter = next(net.parameters())
    device, dtype = parameter.device, parameter.dtype
    x = torch.as_tensor(np.asarray(window, dtype=np.float64), dtype=dtype, device=device)  # (time, features)
    base = np.asarray(baseline, dtype=np.float64)
    base = np.broadcast_to(base, x.shape) if base.ndim == 1 else base
    b = torch.as_tensor(np.ascontiguousarray(base), dtype=dtype, device=device)
    alphas = (torch.arange(steps, dtype=dtype, device=device) + 0.5) / steps  # midpoints of [0, 1]
    path = (b + alphas[:, None, None] * (x - b)).requires_grad_(True)  # (steps, time, features)
    was_training = net.training
    net.eval()
    try:
        # cuDNN's RNN backward refuses eval mode; the plain kernels have no such rule.
        with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
            outputs = net(path)[:, step]  # (steps,)
            (gradients,) = torch.autograd.grad(outputs.sum(), path)
        with torch.no_grad():
            ends = net(torch.stack([x, b]))[:, step]
    finally:
        net.train(was_training)
    values = (gradients.mean(dim=0) * (x - b)).detach().double().cpu().numpy()  # (time, features)
    output, baseline_output = (float(v) for v in ends.double().cpu())
    error = abs(float(values.sum()) - (output - baseline_output))
    return Attribution(values=values, output=output, baseline_output=baseline_output,
                       baseline=np.asarray(b.double().cpu()), step=step, completeness_error=error)
