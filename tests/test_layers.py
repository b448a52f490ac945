import pytest
import torch
from torch import nn

from tsgan.models.layers import fused_kernel, plain_rnns, run_rnn

needs_kernel = pytest.mark.skipif(fused_kernel() is None, reason="the fused GRU could not be compiled here")


def _pair(layers, t, f=5, h=8, b=6, seed=0):
    torch.manual_seed(seed)
    gru = nn.GRU(f, h, num_layers=layers, batch_first=True)
    x = torch.randn(b, t, f, requires_grad=True)
    return gru, x


@needs_kernel
@pytest.mark.parametrize("layers,t,f,h", [(1, 1, 5, 8), (2, 7, 3, 8), (3, 24, 5, 24), (4, 2, 1, 3)])
def test_fused_gru_matches_nn_gru_outputs_and_every_gradient(layers, t, f, h):
    gru, x = _pair(layers, t, f, h)
    params = list(gru.parameters())
    y_ref = gru(x)[0]
    y = run_rnn(gru, x)
    assert y.grad_fn is not None and "Fused" in type(y.grad_fn).__name__
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
    g = torch.randn_like(y)
    ref = torch.autograd.grad(y_ref, [x, *params], g)
    got = torch.autograd.grad(y, [x, *params], g)
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@needs_kernel
def test_fused_gru_frozen_weights_and_no_grad():
    gru, x = _pair(3, 10)
    for p in gru.parameters():
        p.requires_grad_(False)
    y = run_rnn(gru, x)
    (gx,) = torch.autograd.grad(y.square().sum(), x)
    (gx_ref,) = torch.autograd.grad(gru(x)[0].square().sum(), x)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-4, atol=1e-5)
    assert all(p.grad is None for p in gru.parameters())
    with torch.no_grad():
        torch.testing.assert_close(run_rnn(gru, x), gru(x)[0], rtol=1e-5, atol=1e-5)


def test_plain_rnns_is_double_differentiable():
    # gradient penalties differentiate a gradient: inside plain_rnns the module itself runs
    gru, x = _pair(2, 6)
    with plain_rnns():
        y = run_rnn(gru, x)
        (gx,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    gx.square().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in gru.parameters())


def test_other_rnns_run_their_own_module():
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 6, batch_first=True)
    x = torch.randn(3, 5, 4)
    torch.testing.assert_close(run_rnn(lstm, x), lstm(x)[0])


def test_switched_off_kernel_falls_back_to_nn_gru(monkeypatch):
    monkeypatch.setenv("TSGAN_FUSED_RNN", "0")
    fused_kernel.cache_clear()
    try:
        assert fused_kernel() is None
        gru, x = _pair(2, 5)
        y = run_rnn(gru, x)
        assert "Fused" not in type(y.grad_fn).__name__
        torch.testing.assert_close(y, gru(x)[0])
    finally:
        monkeypatch.delenv("TSGAN_FUSED_RNN")
        fused_kernel.cache_clear()


def test_dropout_keeps_with_probability_1_minus_p_and_rescales():
    from tsgan.models.layers import Dropout

    torch.manual_seed(0)
    d = Dropout(0.3)
    x = torch.ones(200, 500, requires_grad=True)
    y = d(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.7) < 0.005
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.7))
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # gradient flows through kept units only, scaled
    assert torch.equal(d.eval()(x), x)
    assert torch.equal(Dropout(1.0)(x), torch.zeros_like(x))
    assert torch.equal(Dropout(0.0)(x), x)
