"""Every loss term, once, as pure functions on tensors.

Discriminator/critic outputs are raw scores (logits for the probabilistic GANs); any
shape works, terms average over all elements, so a recurrent discriminator that
scores every step (RCGAN) and one that scores a whole sequence share these terms.

Known answers (pinned in tests/test_objectives.py):

* the minimax value ``E log D(x) + E log(1 - D(G(z)))`` is ``-log 4`` at ``D = 1/2``
  (Goodfellow et al. 2014, Theorem 1);
* for a linear critic ``D(x) = <w, x>`` the gradient penalty is ``lambda (|w| - 1)^2``
  and the R1 penalty ``gamma / 2 |w|^2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

# --------------------------------------------------------------------------- GAN (2014)


def gan_value(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))] (Goodfellow et al. 2014, eq. 1)."""
    # log sigmoid(r) = -softplus(-r); log(1 - sigmoid(f)) = -softplus(f)
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def minimax_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The discriminator maximises V: minimise -V (binary cross-entropy)."""
    return -gan_value(real_logits, fake_logits)


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    """The generator minimises E[log(1 - D(G(z)))] (saturates when D wins)."""
    return -F.softplus(fake_logits).mean()


def nonsaturating_g_loss(fake_logits: Tensor) -> Tensor:
    """The generator minimises -E[log D(G(z))] (Goodfellow et al. 2014, section 3)."""
    return F.softplus(-fake_logits).mean()


# --------------------------------------------------------------------------- WGAN (2017)


def wgan_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """The critic maximises E[D(x)] - E[D(G(z))] (Arjovsky et al. 2017, eq. 3)."""
    return fake_scores.mean() - real_scores.mean()


def wgan_g_loss(fake_scores: Tensor) -> Tensor:
    """The generator minimises -E[D(G(z))]."""
    return -fake_scores.mean()


@torch.no_grad()
def clip_weights(parameters, clip: float) -> None:
    """WGAN's Lipschitz constraint: clamp every critic weight to [-clip, clip] (an after-step)."""
    for p in parameters:
        p.clamp_(-clip, clip)


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    weight: float = 10.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP penalty ``weight * E[(|grad D(x_hat)|_2 - 1)^2]`` (Gulrajani et al. 2017, eq. 3).

    ``alpha ~ U[0, 1]`` is drawn once per sample (not per element), ``x_hat`` lies on
    the line between a real and a fake sample, and the gradient norm is taken per
    sample over all non-batch dimensions. ``critic`` may return one score per sample
    or per step; scores are summed per sample, whose gradient is that sample's.
    """
    b = real.shape[0]
    alpha = torch.rand((b,) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype, generator=generator)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norm = grad.flatten(1).norm(2, dim=1)  # (B,)
    return weight * ((norm - 1) ** 2).mean()


def gradient_penalty_mlp(
    first: torch.nn.Linear,
    rest: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    weight: float = 10.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(D(real), D(fake), penalty)`` for a critic ``D(x) = rest(first(x))`` whose first
    layer is linear, over flat inputs ``(B, D)``: the same numbers as scoring both and
    calling :func:`gradient_penalty` (same ``alpha`` draw), with one product of the
    widest layer where that takes three.

    The interpolate's pre-activation is the same interpolation of the real and fake
    ones (``W(a x + (1 - a) y) + b = a (W x + b) + (1 - a) (W y + b)``) and its input
    gradient is the pre-activation's gradient times ``W``. The pre-activation enters
    the penalty only through the activations' on/off pattern (zero derivative for
    piecewise-linear ones such as ReLU), so it is taken as a constant there: no second
    backward pass through the widest product."""
    b = real.shape[0]
    alpha = torch.rand((b, 1), device=real.device, dtype=real.dtype, generator=generator)
    h = first(torch.cat([real.detach(), fake.detach()]))
    h_real, h_fake = h[:b], h[b:]
    h_hat = (alpha * h_real + (1 - alpha) * h_fake).detach().requires_grad_(True)
    scores = rest(h)  # the interpolates apart: their double backward spans their rows only
    (grad_h,) = torch.autograd.grad(rest(h_hat).sum(), h_hat, create_graph=True)
    norm = (grad_h @ first.weight).norm(2, dim=1)  # the gradient with respect to x_hat
    return scores[:b], scores[b:], weight * ((norm - 1) ** 2).mean()


def r1_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, weight: float) -> Tensor:
    """R1 regularisation ``weight / 2 * E_real[|grad D(x)|^2]`` (Mescheder, Geiger &
    Nowozin 2018, "Which training methods for GANs actually converge?", eq. 9).

    It penalises the critic's gradient on real data only, which makes the
    non-saturating game locally convergent where the unregularised one oscillates.
    As in :func:`gradient_penalty`, ``critic`` may score every step; scores are
    summed per sample and the squared norm is taken per sample over all non-batch
    dimensions.
    """
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return 0.5 * weight * grad.flatten(1).square().sum(1).mean()


# --------------------------------------------------------------------------- hinge


def hinge_d_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))] (Lim & Ye 2017; Miyato et al. 2018)."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_g_loss(fake_scores: Tensor) -> Tensor:
    return -fake_scores.mean()


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Objective:
    """A named adversarial objective: the loss pair plus the constraint it needs."""

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    d_fake: Callable[[Tensor], Tensor]  # the fake-sample half of d_loss (TimeGAN's extra E^ term)
    gradient_penalty: bool = False  # add gradient_penalty() to the critic loss
    clip_weights: bool = False  # clip critic weights after each critic step
    bounded: bool = True  # the critic loss is >= 0 (a cross-entropy or hinge), so thresholds on it make sense
    optimizer: Optional[dict] = None  # the objective's paper optimizer for both players, e.g. {"name": "rmsprop", "lr": 5e-5}
    n_critic: Optional[int] = None  # critic updates per generator update in the objective's paper


def minimax_d_fake(fake_logits: Tensor) -> Tensor:
    """-E[log(1 - D(G(z)))]: the fake half of minimax_d_loss."""
    return F.softplus(fake_logits).mean()


def wgan_critic_fake(fake_scores: Tensor) -> Tensor:
    """E[D(G(z))]: the fake half of wgan_critic_loss."""
    return fake_scores.mean()


def hinge_d_fake(fake_scores: Tensor) -> Tensor:
    """E[max(0, 1 + D(G(z)))]: the fake half of hinge_d_loss."""
    return F.relu(1 + fake_scores).mean()


OBJECTIVES: dict[str, Objective] = {
    "minimax": Objective("minimax", minimax_d_loss, minimax_g_loss, minimax_d_fake),
    "nonsaturating": Objective("nonsaturating", minimax_d_loss, nonsaturating_g_loss, minimax_d_fake),
    # Arjovsky et al. 2017, Algorithm 1: RMSProp lr 5e-5, clip 0.01, n_critic 5
    "wgan": Objective(
        "wgan", wgan_critic_loss, wgan_g_loss, wgan_critic_fake, clip_weights=True, bounded=False,
        optimizer={"name": "rmsprop", "lr": 5e-5}, n_critic=5,
    ),
    # Gulrajani et al. 2017, Algorithm 1: Adam lr 1e-4, betas (0, 0.9), lambda 10, n_critic 5
    "wgan-gp": Objective(
        "wgan-gp", wgan_critic_loss, wgan_g_loss, wgan_critic_fake, gradient_penalty=True, bounded=False,
        optimizer={"name": "adam", "lr": 1e-4, "betas": (0.0, 0.9)}, n_critic=5,
    ),
    "hinge": Objective("hinge", hinge_d_loss, hinge_g_loss, hinge_d_fake),
}


# --------------------------------------------------------------------------- auxiliary terms


def sqrt_mse(a: Tensor, b: Tensor) -> Tensor:
    """sqrt(MSE(a, b)), the reconstruction/supervised form used by TimeGAN's code."""
    return torch.sqrt(F.mse_loss(a, b))


def sqrt_mse_per_window(a: Tensor, b: Tensor) -> Tensor:
    """The mean over windows of each window's sqrt(MSE): ``sqrt_mse`` made a sum of
    per-window terms, as DP-SGD's per-sample clipping needs (a square root of the batch
    mean couples every window's gradient to the others')."""
    return torch.sqrt((a - b).square().flatten(1).mean(1)).mean()


def moment_loss(real: Tensor, fake: Tensor) -> Tensor:
    """TimeGAN's moment matching: |std_fake - std_real| + |mean_fake - mean_real|, each
    averaged over (time, feature) after taking moments over the batch."""
    r_mean, f_mean = real.mean(0), fake.mean(0)
    # population variance in two passes, reusing the means: torch.var over the batch
    # axis takes a slow strided path on a CPU (86 vs 14 us at TimeGAN's batch)
    r_var, f_var = ((real - r_mean) ** 2).mean(0), ((fake - f_mean) ** 2).mean(0)
    v1 = (torch.sqrt(f_var + 1e-6) - torch.sqrt(r_var + 1e-6)).abs().mean()
    v2 = (f_mean - r_mean).abs().mean()
    return v1 + v2


# --------------------------------------------------------------------------- InfoGAN (2016)


def info_loss(
    cat_logits: Tensor | None,
    cat_codes: Tensor | None,
    cont_pred: Tensor | None,
    cont_codes: Tensor | None,
    weight: float = 1.0,
) -> Tensor:
    """``-lambda L_I``: InfoGAN's variational bound on the mutual information
    ``I(c; G(z, c))`` (Chen et al. 2016, eq. 5), up to the constant ``H(c)``.

    Q(c | x) is a categorical for the discrete code (cross-entropy against the code
    index ``cat_codes``) and a factored Gaussian with unit variance for the
    continuous codes (negative log-likelihood ``0.5 |c - mu|^2`` per code, constant
    dropped). Both the generator and Q minimise it.
    """
    terms = []
    if cat_logits is not None:
        terms.append(F.cross_entropy(cat_logits, cat_codes))
    if cont_pred is not None:
        terms.append(0.5 * ((cont_pred - cont_codes) ** 2).sum(1).mean())
    if not terms:
        raise ValueError("info_loss needs a categorical or a continuous code")
    return weight * sum(terms)
