"""Tests for forecaster.model: output shapes, peephole LSTM equivalence, residual head, dropout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from forecaster.config import ModelConfig
from forecaster.model import PeepholeLSTM, PeepholeLSTMLayer, RecurrentNet
from forecaster.training import configure_threads

configure_threads(1)


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
@pytest.mark.parametrize("layers", [1, 3])
def test_output_shape(cell: str, layers: int) -> None:
    torch.manual_seed(0)
    net = RecurrentNet(n_inputs=3, horizon=4, config=ModelConfig(cell=cell, layers=layers, units=8))
    x = torch.randn(5, 12, 3)  # (batch, window, n_inputs)
    out = net(x)
    assert out.shape == (5, 4)
    assert torch.isfinite(out).all()
    out.sum().backward()  # gradients reach every parameter
    assert all(p.grad is not None for p in net.parameters())


def test_peephole_layer_returns_sequence_and_cell_state() -> None:
    layer = PeepholeLSTMLayer(input_size=2, hidden_size=6)
    outputs, cell = layer(torch.randn(3, 7, 2))
    assert outputs.shape == (3, 7, 6) and cell.shape == (3, 6)
    assert torch.all(layer.peephole == 0)  # starts as a plain LSTM


def _copy_lstm_weights(reference: nn.LSTM, peephole: PeepholeLSTM) -> None:
    with torch.no_grad():
        for k, layer in enumerate(peephole.layers):
            layer.weight_ih.copy_(getattr(reference, f"weight_ih_l{k}"))
            layer.weight_hh.copy_(getattr(reference, f"weight_hh_l{k}"))
            layer.bias_ih.copy_(getattr(reference, f"bias_ih_l{k}"))
            layer.bias_hh.copy_(getattr(reference, f"bias_hh_l{k}"))


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_peephole_with_zero_peepholes_equals_torch_lstm(layers: int) -> None:
    torch.manual_seed(1)
    reference = nn.LSTM(3, 8, layers, batch_first=True).eval()
    peephole = PeepholeLSTM(3, 8, layers, dropout=0.0).eval()
    _copy_lstm_weights(reference, peephole)
    x = torch.randn(4, 15, 3)
    with torch.no_grad():
        expected, _ = reference(x)
        got = peephole(x)
    assert got.shape == expected.shape == (4, 15, 8)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_peephole_with_nonzero_peepholes_differs_from_torch_lstm() -> None:
    torch.manual_seed(2)
    reference = nn.LSTM(3, 8, 2, batch_first=True).eval()
    peephole = PeepholeLSTM(3, 8, 2, dropout=0.0).eval()
    _copy_lstm_weights(reference, peephole)
    x = torch.randn(4, 15, 3)
    for row in range(3):  # each gate's peephole on its own must change the result
        with torch.no_grad():
            for layer in peephole.layers:
                layer.peephole.zero_()
                layer.peephole[row].fill_(0.5)
            expected, _ = reference(x)
            got = peephole(x)
        assert (got - expected).abs().max() > 1e-3, f"peephole row {row} has no effect"


def test_peephole_weights_are_learned() -> None:
    torch.manual_seed(3)
    layer = PeepholeLSTMLayer(2, 4)
    outputs, _ = layer(torch.randn(3, 5, 2))
    outputs.sum().backward()
    assert layer.peephole.grad is not None and layer.peephole.grad.abs().sum() > 0


def _zero_head(net: RecurrentNet) -> None:
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.zero_()


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
def test_residual_adds_the_last_observed_target(cell: str) -> None:
    torch.manual_seed(4)
    net = RecurrentNet(2, 3, ModelConfig(cell=cell, layers=1, units=8, dropout=0.0, residual=True)).eval()
    _zero_head(net)
    x = torch.randn(6, 10, 2)
    with torch.no_grad():
        out = net(x)
    torch.testing.assert_close(out, x[:, -1, 0:1].expand(6, 3))

    plain = RecurrentNet(2, 3, ModelConfig(cell=cell, layers=1, units=8, dropout=0.0, residual=False,
                                                  relative=False)).eval()
    _zero_head(plain)
    with torch.no_grad():
        assert torch.equal(plain(x), torch.zeros(6, 3))


def test_residual_is_the_head_output_plus_last_value() -> None:
    torch.manual_seed(5)
    config = ModelConfig(layers=1, units=8, dropout=0.0, relative=False)
    with_residual = RecurrentNet(2, 2, config).eval()
    without = RecurrentNet(2, 2, ModelConfig(layers=1, units=8, dropout=0.0, residual=False,
                                                    relative=False)).eval()
    without.load_state_dict(with_residual.state_dict())
    x = torch.randn(3, 6, 2)
    with torch.no_grad():
        torch.testing.assert_close(with_residual(x), without(x) + x[:, -1, :1])


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
def test_dropout_acts_with_one_layer_in_train_mode_only(cell: str) -> None:
    torch.manual_seed(6)
    net = RecurrentNet(2, 3, ModelConfig(cell=cell, layers=1, units=8, dropout=0.5))
    x = torch.randn(8, 10, 2)
    net.train()
    with torch.no_grad():
        assert not torch.equal(net(x), net(x))
    net.eval()
    with torch.no_grad():
        assert torch.equal(net(x), net(x))


def test_no_dropout_means_deterministic_train_mode() -> None:
    torch.manual_seed(7)
    net = RecurrentNet(2, 3, ModelConfig(layers=2, units=8, dropout=0.0)).train()
    x = torch.randn(4, 5, 2)
    with torch.no_grad():
        assert torch.equal(net(x), net(x))


def test_dropout_between_layers_is_passed_to_the_rnn() -> None:
    stacked = RecurrentNet(1, 1, ModelConfig(cell="lstm", layers=2, units=8, dropout=0.3))
    assert stacked.rnn.dropout == pytest.approx(0.3)
    single = RecurrentNet(1, 1, ModelConfig(cell="lstm", layers=1, units=8, dropout=0.3))
    assert single.rnn.dropout == 0.0  # torch warns about dropout on a single layer otherwise
    peephole = RecurrentNet(1, 1, ModelConfig(cell="peephole", layers=2, units=8, dropout=0.3))
    assert peephole.rnn.dropout.p == pytest.approx(0.3)
    assert len(peephole.rnn.layers) == 2


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
def test_relative_inputs_make_a_level_shift_shift_the_forecast_exactly(cell: str) -> None:
    """The recurrent part reads each window relative to its last target value: a shifted window is the same window."""
    torch.manual_seed(6)
    net = RecurrentNet(2, 3, ModelConfig(cell=cell, layers=1, units=8, dropout=0.0, residual=False,
                                                relative=True)).eval()
    x = torch.randn(4, 9, 2, dtype=torch.float64)
    net = net.double()
    shifted = x.clone()
    shifted[..., 0] += 5.0  # the target column only: features keep their levels
    with torch.no_grad():
        torch.testing.assert_close(net(shifted), net(x) + 5.0)
        seen = net.recurrent_inputs(x)
    assert torch.all(seen[:, -1, 0] == 0)  # the last value is the reference point
    torch.testing.assert_close(seen[..., 1:], x[..., 1:])


def test_the_linear_skip_is_added_to_the_head_and_held_fixed() -> None:
    torch.manual_seed(7)
    net = RecurrentNet(2, 3, ModelConfig(layers=1, units=8, dropout=0.0), window=5, skip=True).eval()
    assert net.skip.weight.shape == (3, 10) and not net.skip.weight.requires_grad
    x = torch.randn(4, 5, 2)
    with torch.no_grad():
        base, recurrent = net.parts(x)
        torch.testing.assert_close(base, net.skip(x.flatten(1)))
        torch.testing.assert_close(net(x), base + recurrent)
    with pytest.raises(ValueError, match="window"):
        RecurrentNet(2, 3, ModelConfig(), skip=True)
