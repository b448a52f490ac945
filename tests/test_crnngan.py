"""C-RNN-GAN's training details from the paper and its released code, each with a known answer."""

import math

import pytest
import torch

from tsgan.models.crnngan import CRNNGAN, ClippedAdam, ClippedSGD, CRNNGANConfig, MinibatchFeatures
from tsgan.training import Batch


def model(**kw) -> CRNNGAN:
    return CRNNGAN(CRNNGANConfig(hidden=8, **kw), n_features=2, seq_len=6)


def batch(m: CRNNGAN, n: int = 4) -> Batch:
    return Batch(torch.rand(n, m.seq_len, m.n_features, generator=torch.Generator().manual_seed(1)), torch.Generator().manual_seed(0))


def test_decision_is_the_logit_of_the_mean_per_step_probability():
    torch.manual_seed(0)
    m = model()
    m.eval()
    x = torch.rand(3, 6, 2)
    per_step = m.discriminator.out(m.discriminator.features(x)).squeeze(-1)
    p = torch.sigmoid(per_step).mean(1)
    torch.testing.assert_close(m.discriminator(x), torch.log(p) - torch.log1p(-p), rtol=1e-5, atol=1e-5)


def test_pretraining_feeds_the_real_previous_value_and_scores_next_step_squared_error():
    torch.manual_seed(0)
    m = model()
    z = torch.rand(2, 6, 2)
    x = torch.rand(2, 6, 2)
    seen = []
    hook = m.generator.input.register_forward_hook(lambda mod, args, out: seen.append(args[0][:, 2:].clone()))
    m.generator(z, teacher=x)
    hook.remove()
    # step 0 reads zeros, step t >= 1 the real value at t - 1
    torch.testing.assert_close(torch.stack(seen, 1), torch.cat([torch.zeros(2, 1, 2), x[:, :-1]], 1))
    b = batch(m)
    loss = m.pretrain_loss(b)
    rng = torch.Generator().manual_seed(0)
    want = ((m.generator(m.noise(4, rng), teacher=b.x) - b.x) ** 2).mean()
    assert loss.item() == pytest.approx(want.item(), rel=1e-6)


def test_schedule_pretrains_a_share_of_the_steps_first_and_not_under_dp():
    phases = model().schedule()
    assert [p.name for p in phases] == ["pretrain", "adversarial"]
    assert phases[0].weight == pytest.approx(0.06) and phases[1].weight == pytest.approx(0.94)
    assert [p.name for p in model(pretrain=0).schedule()] == ["adversarial"]
    assert [p.name for p in model(dp_layers=True).schedule()] == ["adversarial"]  # G's loss would read real data


def test_d_is_frozen_while_its_loss_is_below_70_percent_of_g_loss():
    torch.manual_seed(0)
    m = model()
    b = batch(m)
    d_loss = m.d_loss(b)[0].item()
    m.last_g_loss = torch.tensor(d_loss / 0.7 + 0.01)  # D's loss below 0.7 x G's: frozen
    assert m.d_loss(batch(m)) is None
    m.last_g_loss = torch.tensor(d_loss / 0.7 - 0.01)
    assert m.d_loss(batch(m)) is not None
    for other in (model(objective="wgan"), model(feature_matching=True)):  # G's loss not comparable: no freezing
        other.last_g_loss = torch.tensor(1e9)
        assert other.d_loss(batch(other)) is not None
    m.g_loss(batch(m))
    assert m.last_g_loss is not None and m.last_g_loss.requires_grad is False


def test_g_is_never_frozen_by_the_codes_log_message_rule():
    """The released code's log names a pause for G too; it is not offered (D then won outright)."""
    torch.manual_seed(0)
    m = model()
    g_loss = m.g_loss(batch(m))[0].item()
    m.last_d_loss = torch.tensor(g_loss / 0.7 + 0.01)  # G's loss far below D's: G still trains
    assert m.g_loss(batch(m)) is not None and m.last_g_loss is not None  # recorded for D's rule


def test_per_step_loss_scores_each_step_and_keeps_g_gradient_when_the_sigmoids_saturate():
    def g_grad(per_step: bool) -> float:
        torch.manual_seed(0)
        m = model(per_step_loss=per_step, dropout=0.0)
        b = batch(m)
        fake = m.generate(4, torch.Generator().manual_seed(0))
        logit = lambda: m.discriminator.out(m.discriminator.features(fake)).squeeze(-1)  # noqa: E731
        with torch.no_grad():  # a decision layer that saturates every step, some steps either way
            m.discriminator.out.weight.mul_(1e5)
            middle = logit().sort(dim=1).values[:, 2:4].mean()
            m.discriminator.out.bias.sub_(middle)
        logits = logit()
        # every window has steps saturated either way: its mean probability is not small
        assert (logits.abs() > 20).all() and ((logits > 0).any(1) & (logits < 0).any(1)).all()
        if per_step:
            torch.testing.assert_close(m.discriminator(fake), logits.float())
        m.zero_grad()
        m.g_loss(b)[0].backward()
        return sum(p.grad.norm() ** 2 for p in m.generator.parameters() if p.grad is not None).sqrt().item()

    # the paper's loss, -log of the mean probability, passes back almost nothing when
    # each window mixes steps saturated either way (as the probe found, 92-96 % of
    # steps); the per-step cross-entropy (softplus of each logit) still does
    assert g_grad(False) < 1e-6
    assert g_grad(True) > 1e-2


def test_clipped_sgd_clips_the_global_norm_then_decays():
    p = torch.nn.Parameter(torch.tensor([1.0, 1.0]))
    opt = ClippedSGD([p], max_norm=1.0, lr=0.1, weight_decay=0.1)
    p.grad = torch.tensor([3.0, 4.0])  # norm 5 -> clipped to [0.6, 0.8]
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([1.0 - 0.1 * (0.6 + 0.1), 1.0 - 0.1 * (0.8 + 0.1)]))
    opts = model().optimizers()
    assert opts["d"].defaults["lr"] == pytest.approx(0.05) and opts["g"].defaults["lr"] == pytest.approx(0.1)
    assert opts["d"].defaults["weight_decay"] == 0.0 and model(l2=0.1).optimizers()["g"].defaults["weight_decay"] == pytest.approx(0.1)


def test_clipped_adam_clips_the_global_norm_before_adams_step():
    p = torch.nn.Parameter(torch.tensor([1.0, 1.0]))
    opt = ClippedAdam([p], max_norm=1.0, lr=0.1)
    p.grad = torch.tensor([3.0, 0.0])  # clipped to [1, 0]: Adam's first step moves each nonzero coordinate by lr
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([0.9, 1.0]))
    assert opt.state[p]["exp_avg"][0].item() == pytest.approx(0.1)  # (1 - beta1) x the clipped gradient, not x 3


@pytest.mark.parametrize("choice, d_kind, g_kind", [("sgd", ClippedSGD, ClippedSGD), ("adam_g", ClippedSGD, ClippedAdam), ("adam", ClippedAdam, ClippedAdam)])
def test_optimizer_choice_sets_each_players_optimizer(choice, d_kind, g_kind):
    # adam_g is the released code's --adam: only G's optimizer becomes Adam, D stays on gradient descent
    opts = model(optimizer=choice, lr=0.001).optimizers()
    assert type(opts["d"]) is d_kind and type(opts["g"]) is g_kind
    assert opts["d"].defaults["lr"] == pytest.approx(0.0005) and opts["g"].defaults["lr"] == pytest.approx(0.001)


def test_weights_start_as_the_released_code_does():
    m = model()
    cell = m.generator.cells[0]
    forget = cell.bias_ih[8:16]
    assert ((forget > 0.95 - 1e-6) & (forget < 1.05 + 1e-6)).all()
    assert cell.weight_hh.abs().max() <= 0.05
    assert m.discriminator.out.weight.std().item() == pytest.approx(1.0, abs=0.35)  # N(0, 1): 16 weights
    assert math.isclose(m.discriminator.out.bias.abs().sum().item(), 0.0)


def test_scaled_decision_init_draws_the_decision_layer_at_unit_output_scale():
    torch.manual_seed(0)
    m = CRNNGAN(CRNNGANConfig(hidden=200, decision_init="scaled"), n_features=2, seq_len=6)
    w = m.discriminator.out.weight  # 400 inputs: std 1/20
    assert w.std().item() == pytest.approx(400**-0.5, rel=0.15)
    assert m.generator.out.weight.std().item() == pytest.approx(1.0, rel=0.15)  # the rest keep the code's N(0, 1)


def test_generator_dropout_drops_each_layer_output_with_masks_from_the_sampling_seed():
    torch.manual_seed(0)
    m = model(g_dropout=0.5)
    m.eval()  # the code samples with its training graph: the masks stay on
    z = torch.rand(3, 6, 2)
    out = m.generator(z, rng=torch.Generator().manual_seed(7))
    # by hand: per step, one (layers, B, hidden) draw; keep >= p, scaled by 1 / (1 - p);
    # the next layer and the output layer read the dropped output, the carried state is not dropped
    g, rng = m.generator, torch.Generator().manual_seed(7)
    state = [(torch.zeros(3, 8), torch.zeros(3, 8)) for _ in g.cells]
    prev, want = torch.zeros(3, 2), []
    for t in range(6):
        keep = (torch.rand(2, 3, 8, generator=rng) >= 0.5).float() * 2.0
        h = torch.relu(g.input(torch.cat([z[:, t], prev], 1)))
        for k, cell in enumerate(g.cells):
            state[k] = cell(h, state[k])
            h = state[k][0] * keep[k]
        prev = g.out(h)
        want.append(prev)
    torch.testing.assert_close(out, torch.stack(want, 1))
    # a seed gives the same samples; another seed other masks; without dropout no dependence on the masks' seed
    s1 = m.generate(5, torch.Generator().manual_seed(1))
    assert torch.equal(s1, m.generate(5, torch.Generator().manual_seed(1)))
    assert not torch.equal(m.generator(z, rng=torch.Generator().manual_seed(1)), m.generator(z, rng=torch.Generator().manual_seed(2)))
    plain = model()
    plain.eval()
    torch.testing.assert_close(plain.generator(z, rng=torch.Generator().manual_seed(1)), plain.generator(z, rng=torch.Generator().manual_seed(2)))


@pytest.mark.parametrize("key, value", [("g_dropout", "1.0"), ("dropout", "1.5"), ("g_dropout", "-0.1")])
def test_dropout_outside_zero_to_one_is_a_clear_error(key, value):
    from tsgan.config import build_config
    from tsgan.errors import TsganError

    with pytest.raises(TsganError, match=rf"parameter '{key}' must be in \[0, 1\) \(got {float(value):g}\): e.g. its default, --param {key}="):
        build_config(CRNNGANConfig, {key: value}, "crnngan")
    assert getattr(build_config(CRNNGANConfig, {key: "0.5"}, "crnngan"), key) == 0.5


def test_minibatch_features_sum_exp_minus_l1_distance_over_the_batch_at_each_step():
    mb = MinibatchFeatures(2, kernels=1, kernel_dim=2)
    with torch.no_grad():
        mb.linear.weight.copy_(torch.eye(2))
        mb.linear.bias.zero_()
    # three samples, two steps; at step 0 samples 0 and 1 coincide, at step 1 all differ
    h = torch.tensor([[[0.0, 0.0], [1.0, -1.0]], [[0.0, 0.0], [0.0, 2.0]], [[3.0, 3.0], [0.0, 0.0]]])
    out = mb(h)
    assert out.shape == (3, 2, 3) and torch.equal(out[..., :2], h)  # the features pass through, one column per kernel added
    a = torch.sigmoid(h)
    for i in range(3):
        for t in range(2):
            want = sum(math.exp(-(a[i, t] - a[j, t]).abs().sum().item()) for j in range(3))  # itself included, as the code
            assert out[i, t, 2].item() == pytest.approx(want, rel=1e-5)
    assert out[0, 0, 2].item() == pytest.approx(2 + math.exp(-2 * (torch.sigmoid(torch.tensor(3.0)).item() - 0.5)))
    # a collapsed batch (all samples equal) scores the batch size: D can tell it from a varied one
    assert torch.allclose(mb(h[:1].expand(3, -1, -1))[..., 2], torch.full((3, 2), 3.0))


def test_minibatch_discrimination_feeds_the_decision_and_refuses_dp():
    from tsgan.errors import TsganError

    m = model(minibatch_d=True)
    assert m.discriminator.out.in_features == 2 * 8 + 25
    x = torch.rand(4, 6, 2, generator=torch.Generator().manual_seed(3))
    m.eval()
    alone = m.critic(x[:1])
    assert not torch.allclose(alone, m.critic(x)[:1])  # a window's decision depends on the rest of its batch
    with pytest.raises(TsganError, match="minibatch_d=false"):
        model(minibatch_d=True, dp_layers=True).dp_targets()
