"""RCGAN's optional initialisation from the released code (``--param init=code``)."""

import pytest
import torch

import tsgan
from tsgan.data import sines
from tsgan.models.rcgan import RCGAN, RCGANConfig


def _gates(bias: torch.Tensor) -> list[float]:  # PyTorch's gate order: i, f, g, o
    return [round(float(v), 6) for v in bias.detach().view(4, -1).mean(1)]


def test_code_init_matches_the_released_code():
    torch.manual_seed(0)
    m = RCGAN(RCGANConfig(init="code", hidden_g=100, hidden_d=100), n_features=5, seq_len=24)
    g, d = m.generator, m.discriminator
    # G's cell starts every bias at 1 (bias_start) and TF adds forget_bias 1; D's biases start at 0
    assert _gates(g.rnn.bias_ih_l0) == [1.0, 2.0, 1.0, 1.0] and _gates(d.rnn.bias_ih_l0) == [0.0, 1.0, 0.0, 0.0]
    assert float(g.rnn.bias_hh_l0.detach().abs().max()) == 0.0 and float(d.rnn.bias_hh_l0.detach().abs().max()) == 0.0
    # one Glorot-uniform kernel over [input, hidden] -> 4 x hidden
    for lstm, n_in in ((g.rnn, 5), (d.rnn, 5)):
        limit = (6.0 / (n_in + 100 + 400)) ** 0.5
        for w in (lstm.weight_ih_l0, lstm.weight_hh_l0):
            assert float(w.detach().abs().max()) <= limit and float(w.detach().abs().max()) > 0.95 * limit
            assert float(w.detach().std()) == pytest.approx(limit / 3**0.5, rel=0.05)
    # read-outs truncated N(0, 1) at two standard deviations (std 0.880), doubled in G (sigmoid on [0, 1] = tanh on [-1, 1])
    assert float(d.out.weight.detach().abs().max()) <= 2.0 and float(g.out.weight.detach().abs().max()) <= 4.0
    both = torch.cat([d.out.weight.detach().flatten(), g.out.weight.detach().flatten() / 2])
    assert float(both.std()) == pytest.approx(0.880, abs=0.12)


def test_default_init_is_pytorchs_and_code_init_trains():
    torch.manual_seed(0)
    plain = RCGAN(RCGANConfig(), n_features=2, seq_len=8)
    assert _gates(plain.generator.rnn.bias_ih_l0) != [1.0, 2.0, 1.0, 1.0]
    frame = sines(n=30, seq_len=8, dim=2, seed=0)
    syn = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=5, holdout=0, init="code", hidden_g=16, hidden_d=16)
    syn.fit(frame, id_column="sequence_id", time_column="step")
    x = syn.sample(4, seed=0)
    assert x.shape == (4, 8, 2) and torch.isfinite(torch.as_tensor(x)).all()


def test_code_init_needs_lstms():
    with pytest.raises(tsgan.TsganError, match="drop --param cell=gru"):
        RCGAN(RCGANConfig(init="code", cell="gru"), n_features=2, seq_len=8)
