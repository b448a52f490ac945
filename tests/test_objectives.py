"""Known answers for every loss term in tsgan.objectives."""

import math

import pytest
import torch

from tsgan import objectives as O


def test_minimax_value_is_minus_log4_at_half():
    zeros = torch.zeros(7, 3)  # logits 0 <=> D = 1/2 everywhere
    assert O.gan_value(zeros, zeros).item() == pytest.approx(-math.log(4))
    assert O.minimax_d_loss(zeros, zeros).item() == pytest.approx(math.log(4))
    assert O.minimax_g_loss(zeros).item() == pytest.approx(math.log(0.5))
    assert O.nonsaturating_g_loss(zeros).item() == pytest.approx(math.log(2))


def test_minimax_terms_match_probabilities():
    r, f = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 3.0])
    dr, df = torch.sigmoid(r), torch.sigmoid(f)
    v = torch.log(dr).mean() + torch.log(1 - df).mean()
    assert O.gan_value(r, f).item() == pytest.approx(v.item(), rel=1e-6)
    assert O.minimax_g_loss(f).item() == pytest.approx(torch.log(1 - df).mean().item(), rel=1e-6)
    assert O.nonsaturating_g_loss(f).item() == pytest.approx(-torch.log(df).mean().item(), rel=1e-6)


def test_wgan_and_hinge_known_values():
    r, f = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0])
    assert O.wgan_critic_loss(r, f).item() == pytest.approx(-1.0 - 2.0)
    assert O.wgan_g_loss(f).item() == pytest.approx(1.0)
    # relu(1 - [1, 3]) = [0, 0]; relu(1 + [-2, 0]) = [0, 1]
    assert O.hinge_d_loss(r, f).item() == pytest.approx(0.5)
    assert O.hinge_g_loss(f).item() == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(16, 5), (8, 6, 3), (4, 2, 3, 3)])
def test_gradient_penalty_linear_critic_is_exact(shape):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(shape[1:], generator=g) * 0.7

    def critic(x):  # D(x) = <w, x>, one score per sample
        return (x * w).flatten(1).sum(1)

    real, fake = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    gp = O.gradient_penalty(critic, real, fake, weight=10.0, generator=g)
    assert gp.item() == pytest.approx(10.0 * (w.norm().item() - 1) ** 2, rel=1e-5)


def test_gradient_penalty_norm_is_per_sample_with_per_step_scores():
    # A per-step critic D(x)_t = <w_t, x_t>: the per-sample gradient is w, whatever alpha is.
    w = torch.tensor([[3.0, 0.0], [0.0, 4.0]])  # (T, F), |w| = 5
    critic = lambda x: (x * w).sum(-1)  # (B, T)
    real, fake = torch.randn(32, 2, 2), torch.randn(32, 2, 2)
    assert O.gradient_penalty(critic, real, fake, weight=1.0).item() == pytest.approx(16.0)


def test_gradient_penalty_alpha_is_per_sample_uniform():
    # Critic |x|^2 / 2 has gradient x_hat; for real = 1, fake = 0 the norm is alpha * |1|.
    real, fake = torch.ones(20000, 4), torch.zeros(20000, 4)
    seen = []

    def critic(x):
        seen.append(x.detach())
        return 0.5 * (x**2).sum(1)

    O.gradient_penalty(critic, real, fake, weight=1.0, generator=torch.Generator().manual_seed(0))
    x_hat = seen[0]
    assert torch.allclose(x_hat, x_hat[:, :1].expand_as(x_hat))  # one alpha per sample
    alpha = x_hat[:, 0]
    assert 0 <= alpha.min() and alpha.max() <= 1
    assert alpha.mean().item() == pytest.approx(0.5, abs=0.01)  # U[0, 1]: mean 1/2, var 1/12
    assert alpha.var().item() == pytest.approx(1 / 12, abs=0.005)


def test_gradient_penalty_backpropagates_to_critic():
    lin = torch.nn.Linear(3, 1)
    gp = O.gradient_penalty(lambda x: lin(x).squeeze(-1), torch.randn(8, 3), torch.randn(8, 3))
    gp.backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0


def test_gradient_penalty_mlp_is_the_penalty_with_a_linear_first_layer():
    # a linear first layer: (|W^T w| - 1)^2 for D(x) = <w, W x + b> (known answer), and
    # for a ReLU MLP the same scores, penalty and parameter gradients as scoring real and
    # fake and calling gradient_penalty with the same draw
    first, w = torch.nn.Linear(6, 4), torch.randn(4)
    real, fake = torch.randn(32, 6), torch.randn(32, 6)
    _, _, gp = O.gradient_penalty_mlp(first, lambda h: h @ w, real, fake, weight=10.0)
    assert gp.item() == pytest.approx(10.0 * ((first.weight.T @ w).norm().item() - 1) ** 2, rel=1e-5)

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    rest = lambda h: net[1:](h).squeeze(-1)
    critic = lambda x: net(x).squeeze(-1)
    real, fake = torch.randn(64, 12), torch.randn(64, 12)
    d_real, d_fake, gp = O.gradient_penalty_mlp(net[0], rest, real, fake, 10.0, torch.Generator().manual_seed(5))
    fast = torch.autograd.grad(d_fake.mean() - d_real.mean() + gp, list(net.parameters()))
    gp_ref = O.gradient_penalty(critic, real, fake, 10.0, torch.Generator().manual_seed(5))
    ref = torch.autograd.grad(critic(fake).mean() - critic(real).mean() + gp_ref, list(net.parameters()))
    assert torch.allclose(d_real, critic(real), atol=1e-6) and torch.allclose(d_fake, critic(fake), atol=1e-6)
    assert gp.item() == pytest.approx(gp_ref.item(), rel=1e-5) and gp.item() > 0
    for a, b in zip(fast, ref):
        assert torch.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("shape", [(16, 5), (8, 6, 3)])
def test_r1_penalty_linear_critic_is_exact(shape):
    # D(x) = <w, x>: grad D = w everywhere, so R1 = gamma / 2 |w|^2
    g = torch.Generator().manual_seed(1)
    w = torch.randn(shape[1:], generator=g)
    critic = lambda x: (x * w).flatten(1).sum(1)
    r1 = O.r1_penalty(critic, torch.randn(shape, generator=g), weight=3.0)
    assert r1.item() == pytest.approx(1.5 * w.square().sum().item(), rel=1e-5)


def test_r1_penalty_is_per_sample_on_real_data_and_trains_the_critic():
    # D(x) = |x|^2 / 2 has gradient x: R1 = gamma / 2 * mean over samples of |x_i|^2
    real = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    assert O.r1_penalty(lambda x: 0.5 * x.square().sum(1), real, weight=2.0).item() == pytest.approx((1 + 9) / 2)
    lin = torch.nn.Linear(3, 1)
    O.r1_penalty(lambda x: lin(x).squeeze(-1), torch.randn(8, 3), weight=1.0).backward()
    assert lin.weight.grad.abs().sum() > 0  # d/dw (|w|^2 / 2) = w


def test_clip_weights():
    p = torch.nn.Parameter(torch.tensor([-1.0, 0.005, 2.0]))
    O.clip_weights([p], 0.01)
    assert p.tolist() == pytest.approx([-0.01, 0.005, 0.01])


def test_moment_and_sqrt_mse():
    real = torch.tensor([[[0.0]], [[2.0]]])  # mean 1, std 1
    fake = torch.tensor([[[1.0]], [[5.0]]])  # mean 3, std 2
    assert O.moment_loss(real, fake).item() == pytest.approx(1.0 + 2.0, abs=1e-5)
    assert O.sqrt_mse(torch.zeros(4), torch.full((4,), 3.0)).item() == pytest.approx(3.0)


def test_objective_table_is_complete():
    assert set(O.OBJECTIVES) == {"minimax", "nonsaturating", "wgan", "wgan-gp", "hinge"}
    assert O.OBJECTIVES["wgan"].clip_weights and O.OBJECTIVES["wgan-gp"].gradient_penalty


@pytest.mark.parametrize("name", ["minimax", "nonsaturating", "wgan", "wgan-gp", "hinge"])
def test_d_fake_is_the_fake_half_of_d_loss(name):
    obj = O.OBJECTIVES[name]
    r, f = torch.randn(10), torch.randn(10)
    assert (obj.d_loss(r, f) - obj.d_loss(r, torch.full_like(f, -50.0 if "wgan" not in name else 0.0))).item() == pytest.approx(
        (obj.d_fake(f) - obj.d_fake(torch.full_like(f, -50.0 if "wgan" not in name else 0.0))).item(), abs=1e-5
    )
