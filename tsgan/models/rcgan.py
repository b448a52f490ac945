"""RCGAN: Recurrent (Conditional) GAN.

Esteban, Hyland & Rätsch, "Real-valued (Medical) Time Series Generation with
Recurrent Conditional GANs", 2017 (arXiv:1706.02633), and its released code.

Generator: an RNN fed fresh noise at every step, a linear read-out per step.
Discriminator: an RNN that scores every step; the loss averages the per-step
cross-entropy over steps and batch (the paper's eq. for D and G).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..config import param
from ..errors import TsganError
from ..objectives import OBJECTIVES
from ..torch_utils import adam
from ..training.schedule import Batch
from .base import ObjectiveConfig, RecurrentGAN, rnn
from .layers import run_rnn


def batch_correlation(x: Tensor, eps: float = 1e-8) -> Tensor:
    """Pearson correlation between features across the batch, at every step:
    ``(B, T, F) -> (T, F, F)``. A feature constant over the batch correlates 0."""
    xc = x - x.mean(0, keepdim=True)
    cov = torch.einsum("btf,btg->tfg", xc, xc) / max(x.shape[0] - 1, 1)
    std = cov.diagonal(dim1=-2, dim2=-1).clamp_min(0).add(eps).sqrt()
    return cov / (std.unsqueeze(-1) * std.unsqueeze(-2))


def correlation_gap(fake: Tensor, real: Tensor) -> Tensor:
    """Mean squared gap between the off-diagonal per-step correlations of two batches
    (0 with a single feature)."""
    f = fake.shape[-1]
    if f < 2:
        return fake.sum() * 0.0
    i, j = torch.triu_indices(f, f, offset=1, device=fake.device)
    gap = batch_correlation(fake)[:, i, j] - batch_correlation(real.to(fake.dtype)).detach()[:, i, j]
    return (gap**2).mean()


@dataclass
class RCGANConfig(ObjectiveConfig):
    hidden_g: int = param(100, "generator RNN hidden units (paper: 100)", within="[1, inf)")
    hidden_d: int = param(100, "discriminator RNN hidden units (paper: 100)", within="[1, inf)")
    latent_dim: int = param(5, "noise dimensions fed to the generator at every step (paper: 5)", within="[1, inf)")
    num_layers: int = param(1, "stacked RNN layers in generator and discriminator (paper: 1)", within="[1, inf)")
    cell: str = param("lstm", "recurrent cell (paper: lstm)", choices=("lstm", "gru"))
    batch_size: int = param(28, "windows per batch (paper: 28)", within="[1, inf)")
    lr_g: float = param(1e-3, "generator learning rate, Adam (paper code: Adam default)", within="(0, inf)")
    lr_d: float = param(0.1, "discriminator learning rate, plain gradient descent (paper code: 0.1)", within="(0, inf)")
    d_rounds: int = param(5, "discriminator updates per step (paper: 5)", within="[1, inf)")
    g_rounds: int = param(1, "generator updates per step (paper: 1)", within="[1, inf)")
    objective: str = param("nonsaturating", "adversarial objective (paper: nonsaturating)", choices=tuple(OBJECTIVES))
    init: str = param(
        "torch",
        "weight initialisation: torch (PyTorch's defaults) or code (the released code's: Glorot LSTM kernels, "
        "G's LSTM biases 1, forget gates +1, read-out layers truncated N(0, 1))",
        choices=("torch", "code"),
    )
    corr_weight: float = param(
        0.0,
        "weight of a cross-feature correlation term in G's loss: the mean squared gap between the fake and the real "
        "batch's per-step correlation matrices (not in the paper; 0 = off)",
        within="[0, inf)",
    )


class Generator(nn.Module):
    def __init__(self, c: RCGANConfig, n_features: int, extra: int = 0):
        super().__init__()
        self.rnn = rnn(c.cell, c.latent_dim + extra, c.hidden_g, c.num_layers)  # noise + conditions/codes per step
        self.out = nn.Linear(c.hidden_g, n_features)

    def forward(self, z: Tensor) -> Tensor:  # (B, T, Z + extra) -> (B, T, F) in [0, 1]
        h = run_rnn(self.rnn, z)
        return torch.sigmoid(self.out(h))


class Discriminator(nn.Module):
    def __init__(self, c: RCGANConfig, n_inputs: int):
        super().__init__()
        self.rnn = rnn(c.cell, n_inputs, c.hidden_d, c.num_layers, dp=c.dp_layers)  # data + per-step conditions
        self.out = nn.Linear(c.hidden_d, 1)

    def features(self, x: Tensor) -> Tensor:  # (B, T, F + C) -> (B, T, hidden_d)
        return run_rnn(self.rnn, x)

    def forward(self, x: Tensor) -> Tensor:  # (B, T, F + C) -> (B, T) one logit per step
        return self.out(self.features(x)).squeeze(-1)


class RCGAN(RecurrentGAN):
    config_cls = RCGANConfig
    paper = "Esteban, Hyland & Rätsch 2017, Recurrent Conditional GANs"
    # "tuned": weight averaging, checkpoint selection, LR decay and the cross-feature
    # correlation term (docs/benchmarks.md); "paper": as published
    recipes = {
        "paper": {"steps": 50_000},
        "tuned": {"steps": 20_000, "ema": 0.999, "select_every": 500, "lr_decay": 0.5, "corr_weight": 10.0},
    }

    def __init__(self, config: RCGANConfig, n_features: int, seq_len: int, cond_dim: int = 0):
        super().__init__(config, n_features, seq_len, cond_dim)
        extra = cond_dim + config.info_categories + config.info_continuous
        self.generator = Generator(config, n_features, extra)
        self.discriminator = Discriminator(config, n_features + cond_dim)
        self.init_adversary(config.hidden_d)
        if config.init == "code":
            self.init_as_code()

    @torch.no_grad()
    def init_as_code(self) -> None:
        """The released code's initialisation (model.py, TF1). Each LSTM's kernel over
        [input, hidden] is Glorot-uniform as one matrix (TF's default initializer), its
        forget gate gets TF's ``forget_bias`` 1 on top of its bias, and the generator's
        cell starts every bias at 1 (the code's modified cell, ``bias_start=1.0``; the
        discriminator's at 0). The read-out layers are truncated N(0, 1), doubled in G:
        the code's tanh read-out on [-1, 1] data is this sigmoid on [0, 1] data with
        twice the logits."""
        for net, bias_start, scale in ((self.generator, 1.0, 2.0), (self.discriminator, 0.0, 1.0)):
            lstm, out = net.rnn, net.out
            if not isinstance(lstm, nn.LSTM):  # a GRU (--param cell=gru) or opacus' layers: the code has none
                raise TsganError("init=code is the released code's LSTM initialisation: drop --param cell=gru or --dp-epsilon")
            h = lstm.hidden_size
            for layer in range(lstm.num_layers):
                w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
                limit = (6.0 / (w_ih.shape[1] + h + 4 * h)) ** 0.5
                nn.init.uniform_(w_ih, -limit, limit)
                nn.init.uniform_(w_hh, -limit, limit)
                b_ih, b_hh = getattr(lstm, f"bias_ih_l{layer}"), getattr(lstm, f"bias_hh_l{layer}")
                b_ih.fill_(bias_start)
                b_ih[h : 2 * h] += 1.0  # gates i, f, g, o: TF's forget_bias
                b_hh.zero_()
            nn.init.trunc_normal_(out.weight, 0.0, 1.0, -2.0, 2.0)
            nn.init.trunc_normal_(out.bias, 0.0, 1.0, -2.0, 2.0)
            out.weight.mul_(scale)
            out.bias.mul_(scale)

    def g_loss(self, batch: Batch):
        if not self.config.corr_weight:
            return super().g_loss(batch)
        fake, codes = self.fake(batch)
        gap = correlation_gap(fake, batch.x)
        loss = self.adversary.g_loss(fake, batch.cond) + self.config.corr_weight * gap
        return self.with_info(loss, {"corr": gap.detach()}, fake, batch.cond, codes)

    def dp_targets(self):
        if self.config.corr_weight:
            raise TsganError("the correlation term reads real data in the generator's loss: pass --param corr_weight=0 with DP")
        return super().dp_targets()

    def noise(self, n: int, rng: torch.Generator) -> Tensor:
        # fresh N(0, 1) noise at every step (B, T, Z)
        return torch.randn(n, self.seq_len, self.config.latent_dim, generator=rng, device=rng.device).to(self.device)

    # ------------------------------------------------------------------ schedule
    def model_optimizers(self, d_params, g_params):
        c = self.config
        return {"d": torch.optim.SGD(d_params, lr=c.lr_d), "g": adam(g_params, lr=c.lr_g)}
