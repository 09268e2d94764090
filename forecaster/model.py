"""The recurrent networks: stacked LSTM, GRU or peephole LSTM with a linear head over all horizon steps."""

from __future__ import annotations

import torch
from torch import nn

from forecaster.config import ForecasterConfig, ModelConfig


class PeepholeLSTMLayer(nn.Module):
    """One LSTM layer whose gates also read the cell state (Gers & Schmidhuber).

    Input and forget gates see c(t-1), the output gate sees c(t). Weights use nn.LSTM's
    names, shapes and gate order (i, f, g, o), so with the peephole vectors at zero this
    layer computes exactly what nn.LSTM computes given the same weights.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        self.peephole = nn.Parameter(torch.zeros(3, hidden_size))  # rows: input, forget, output gate
        bound = hidden_size ** -0.5  # nn.LSTM's default initialisation
        for weight in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            nn.init.uniform_(weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, steps, _ = x.shape  # (batch, window, input_size)
        units = self.hidden_size
        # The input projection for every step at once; per step only one matmul on h remains.
        projected = torch.addmm(self.bias_ih + self.bias_hh, x.reshape(batch * steps, -1), self.weight_ih.t())
        projected = projected.view(batch, steps, 4 * units)  # (batch, window, 4 * units)
        h = x.new_zeros(batch, units)
        c = x.new_zeros(batch, units)
        w_hh_t = self.weight_hh.t()
        p_input, p_forget, p_output = self.peephole
        outputs = []
        for step in range(steps):
            gates = torch.addmm(projected[:, step], h, w_hh_t)  # (batch, 4 * units), stacked i, f, g, o
            i, f, g, o = gates.chunk(4, dim=1)
            i = torch.sigmoid(i + p_input * c)
            f = torch.sigmoid(f + p_forget * c)
            c = f * c + i * torch.tanh(g)
            o = torch.sigmoid(o + p_output * c)
            h = o * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), c  # (batch, window, units), (batch, units)


class PeepholeLSTM(nn.Module):
    """Stacked peephole layers with dropout between them, mirroring nn.LSTM(batch_first=True)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.layers = nn.ModuleList(PeepholeLSTMLayer(size, hidden_size) for size in sizes)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for index, layer in enumerate(self.layers):
            if index > 0:
                x = self.dropout(x)
            x, _ = layer(x)
        return x  # (batch, window, units)


class RecurrentNet(nn.Module):
    """Recurrent layers, dropout, and a linear head giving every horizon step at once.

    Three ways to start from a simple forecast (column 0 of the input is the scaled target):
    - `relative`: the recurrent layers read the target relative to the window's last value, and the
      head's output is a change from that value (as with `residual`);
    - `residual`: the head predicts the change from the last observed value, so an untrained network
      starts from the naive forecast;
    - a linear skip (`window` given and `skip=True`): a fixed linear map from the whole window to every
      step, added to the head's output in place of the last value; the estimator sets it to a baseline that
      is a linear map of the window (ridge, drift, moving average, seasonal naive, exponential smoothing distilled
      into one, or naive) and the head to
      zero, so the untrained network forecasts exactly as that baseline.
    """

    def __init__(self, n_inputs: int, horizon: int, config: ModelConfig, window: int | None = None,
                 skip: bool = False) -> None:
        super().__init__()
        self.config = config
        between = config.dropout if config.layers > 1 else 0.0
        if config.cell == "lstm":
            self.rnn = nn.LSTM(n_inputs, config.units, config.layers, batch_first=True, dropout=between)
        elif config.cell == "gru":
            self.rnn = nn.GRU(n_inputs, config.units, config.layers, batch_first=True, dropout=between)
        else:
            self.rnn = PeepholeLSTM(n_inputs, config.units, config.layers, between)
        # Before the head, so dropout acts with one layer too; none at all when off (it still costs a mask).
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self.head = nn.Linear(config.units, horizon)
        if skip and window is None:
            raise ValueError("a linear skip needs the window length")
        self.skip = nn.Linear(window * n_inputs, horizon) if skip else None
        if self.skip is not None:
            # Held at its closed-form start: Adam's steps (about lr each, whatever the gradient) blurred the
            # precise ridge coefficients and lost to ridge; fixed, the network learns only what ridge misses.
            self.skip.requires_grad_(False)

    def recurrent_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What the recurrent layers read: the window, with the target relative to its last value if `relative`."""
        if not self.config.relative:
            return x
        return torch.cat([x[..., :1] - x[..., -1:, :1], x[..., 1:]], dim=-1)  # (batch, window, n_inputs)

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(base, recurrent): the simple forecast the network starts from, and what the recurrent part adds.

        base is the linear skip's output, the last value (residual or relative), or zero.
        """
        # x: (batch, window, n_inputs)
        hidden = self.rnn(self.recurrent_inputs(x))
        if isinstance(hidden, tuple):
            hidden = hidden[0]
        recurrent = self.head(self.dropout(hidden[:, -1]))  # (batch, horizon)
        if self.skip is not None:
            base = self.skip(x.flatten(1))  # (batch, horizon)
        elif self.config.residual or self.config.relative:
            base = x[:, -1, :1].expand_as(recurrent)
        else:
            base = torch.zeros_like(recurrent)
        return base, recurrent

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base, recurrent = self.parts(x)
        return base + recurrent  # (batch, horizon)


def uses_skip(config: ForecasterConfig) -> bool:
    """The linear skip is on and can be started at ridge: the network must learn levels (no diff/logret)."""
    return config.model.skip and config.data.transform == "none"


def network_for(config: ForecasterConfig, n_inputs: int) -> RecurrentNet:
    """The untrained network a config asks for, with `n_inputs` columns per time step."""
    return RecurrentNet(n_inputs, config.data.horizon, config.model, window=config.data.window,
                        skip=uses_skip(config))
