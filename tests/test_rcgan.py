"""RCGAN options beyond the paper: the released code's initialisation (``--param init=code``) and the
cross-feature correlation term in G's loss (``--param corr_weight``)."""

import pytest
import torch

import tsgan
from tsgan.data import sines
from tsgan.data.builtin import sines_array
from tsgan.models.rcgan import RCGAN, RCGANConfig, batch_correlation, correlation_gap
from tsgan.training import Batch


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
    x = syn.sample_array(4, seed=0)
    assert x.shape == (4, 8, 2) and torch.isfinite(torch.as_tensor(x)).all()


def test_code_init_needs_lstms():
    with pytest.raises(tsgan.TsganError, match="drop --param cell=gru"):
        RCGAN(RCGANConfig(init="code", cell="gru"), n_features=2, seq_len=8)


def test_batch_correlation_known_answers():
    a = torch.tensor([0.0, 1.0, 2.0, 3.0])
    # (B=4, T=1, F=4): a, 2a + 1 (r = 1), -a (r = -1), a constant feature (r = 0)
    x = torch.stack([a, 2 * a + 1, -a, torch.full_like(a, 0.5)], -1).unsqueeze(1)
    c = batch_correlation(x)[0]
    assert c.shape == (4, 4)
    assert c[0, 1] == pytest.approx(1.0, abs=1e-6) and c[0, 2] == pytest.approx(-1.0, abs=1e-6)
    assert float(c[0, 3]) == 0.0 and float(c[3, 3]) == 0.0
    # every step on its own: step 2 holds b = -a, so the pair flips sign there
    two = torch.stack([x[:, 0, :2], torch.stack([a, -a], -1)], 1)
    assert batch_correlation(two)[:, 0, 1].tolist() == pytest.approx([1.0, -1.0], abs=1e-6)


def test_correlation_gap_known_answer():
    a = torch.tensor([0.0, 1.0, 2.0, 3.0])
    b = torch.tensor([1.0, 0.0, 3.0, 2.0])  # corr(a, b) = 0.6
    fake = torch.stack([a, a, b], -1).unsqueeze(1)  # pairs (0,1), (0,2), (1,2): 1, .6, .6
    real = torch.stack([a, b, b], -1).unsqueeze(1)  # .6, .6, 1
    assert float(correlation_gap(fake, real)) == pytest.approx((0.4**2 + 0 + 0.4**2) / 3, abs=1e-6)
    assert float(correlation_gap(fake, fake)) == 0.0
    assert float(correlation_gap(fake[..., :1], real[..., :1])) == 0.0  # one feature: no pairs


def test_corr_weight_adds_the_weighted_gap_to_gs_loss():
    x = torch.tensor(sines_array(n=16, seq_len=6, dim=3, seed=0))
    torch.manual_seed(0)
    plain = RCGAN(RCGANConfig(hidden_g=8, hidden_d=8), n_features=3, seq_len=6)
    weighted = RCGAN(RCGANConfig(hidden_g=8, hidden_d=8, corr_weight=5.0), n_features=3, seq_len=6)
    weighted.load_state_dict(plain.state_dict())
    base, logs0 = plain.g_loss(Batch(x, torch.Generator().manual_seed(1)))
    loss, logs = weighted.g_loss(Batch(x, torch.Generator().manual_seed(1)))
    with torch.no_grad():
        gap = correlation_gap(weighted.generate(16, torch.Generator().manual_seed(1)), x)
    assert "corr" not in logs0 and float(logs["corr"]) == pytest.approx(float(gap), rel=1e-5)
    assert float(loss.detach()) == pytest.approx(float(base.detach()) + 5.0 * float(gap), rel=1e-5)
    loss.backward()
    assert weighted.generator.out.weight.grad.abs().sum() > 0


def test_corr_weight_refuses_dp():
    m = RCGAN(RCGANConfig(corr_weight=1.0), n_features=2, seq_len=4)
    with pytest.raises(tsgan.TsganError, match="corr_weight=0 with DP"):
        m.dp_targets()
