"""TimeGAN: Time-series Generative Adversarial Networks.

Yoon, Jarrett & van der Schaar, NeurIPS 2019, and its released code
(losses and weights of the released code; docs/models.md).

Five networks, each a stack of RNNs with a per-step read-out:

* embedder  e: X (B, T, F)  -> H (B, T, hidden), sigmoid            (section 4.1)
* recovery  r: H            -> X~ (B, T, F), sigmoid
* generator g: Z (B, T, z)  -> E^ (B, T, hidden), sigmoid            (section 4.2)
* supervisor s: H           -> H one step ahead (num_layers - 1 RNN layers)
* discriminator d: H        -> one logit per step                    (section 4.3)

Training (section 4.4 and the code): (1) embedding: e, r on the reconstruction
loss; (2) supervised: s on the supervised loss over real embeddings; (3) joint:
per step, twice {g+s on the generator loss, then e+r on the embedder loss, both on
one real batch}, then d
on its loss, but only while that loss exceeds 0.15.

Sampling: Z -> g -> s -> r.

Conditional TimeGAN (tsgan's extension, Mirza & Osindero 2014): the conditions are
appended to the per-step input of all five networks.

Differentially private TimeGAN (``dp_layers``, set by ``--dp-epsilon``; tsgan's
variant): every update that reads real data runs DP-SGD (opacus' DPGRU/DPLSTM in the
embedder, recovery, supervisor and discriminator); see ``dp_targets``. Three changes
make the losses per-window sums, as per-sample clipping requires, and keep real data
out of the generator's update: (1) the reconstruction terms are the mean of per-window
sqrt(MSE) instead of sqrt of the batch MSE; (2) the generator's update drops the two
terms that read real data (eta sqrt(L_S) on real embeddings and the moment matching
against the real batch): the supervisor learns real dynamics in its own private
phase and is then frozen, the generator learns through the private discriminator
(post-processing); (3) the discriminator is updated every step (the 0.15 gate reads
real data).

Speed without changing the maths: networks whose gradients an update does not
need run under no_grad or with frozen parameters, and the discriminator scores
real, supervised-fake and unsupervised-fake embeddings in one batched pass (an RNN
treats each sequence independently, so concatenating along the batch is exact).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import param
from ..objectives import OBJECTIVES, moment_loss, sqrt_mse, sqrt_mse_per_window
from ..torch_utils import adam, mean_over_ranks
from ..training.schedule import Batch, Phase, Update
from .base import Adversary, Controls, ObjectiveConfig, SequenceModel, rnn
from .layers import run_rnn


@dataclass
class TimeGANConfig(ObjectiveConfig):
    hidden: int = param(24, "hidden units of every network, also the embedding size (paper: 24)", within="[1, inf)")
    num_layers: int = param(3, "RNN layers per network; the supervisor has one fewer (paper: 3)", within="[1, inf)")
    cell: str = param("gru", "recurrent cell (paper: gru)", choices=("gru", "lstm"))
    z_dim: int = param(0, "noise dimension per step; 0 = the data's feature count (paper)", within="[0, inf)")
    batch_size: int = param(128, "windows per batch (paper: 128)", within="[1, inf)")
    lr: float = param(1e-3, "Adam learning rate of all five networks (code: Adam default)", within="(0, inf)")
    gamma: float = param(1.0, "weight of the adversarial terms on unsupervised E^ (paper: 1)", within="[0, inf)")
    eta: float = param(100.0, "weight of sqrt(supervised loss) and moments in the generator loss (code: 100)", within="[0, inf)")
    d_threshold: float = param(0.15, "update the discriminator only while its loss exceeds this (code: 0.15)", within="[0, inf)")
    objective: str = param("nonsaturating", "adversarial objective (paper: nonsaturating)", choices=tuple(OBJECTIVES))


class Net(nn.Module):
    """An RNN stack with a per-step linear read-out and optional sigmoid."""

    def __init__(self, cell: str, d_in: int, hidden: int, layers: int, d_out: int, sigmoid: bool = True, dp: bool = False):
        super().__init__()
        self.rnn = rnn(cell, d_in, hidden, layers, dp=dp)
        self.out = nn.Linear(hidden, d_out)
        self.sigmoid = sigmoid

    def features(self, x: Tensor) -> Tensor:  # (B, T, d_in) -> (B, T, hidden)
        return run_rnn(self.rnn, x)

    def head(self, h: Tensor) -> Tensor:  # (B, T, hidden) -> (B, T, d_out)
        y = self.out(h)
        return torch.sigmoid(y) if self.sigmoid else y

    def forward(self, x: Tensor) -> Tensor:  # (B, T, d_in) -> (B, T, d_out)
        return self.head(self.features(x))


@contextmanager
def frozen(*modules: nn.Module):
    """Gradients flow through ``modules`` to their inputs but not into their weights."""
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


class TimeGAN(SequenceModel):
    config_cls = TimeGANConfig
    paper = "Yoon, Jarrett & van der Schaar 2019, Time-series Generative Adversarial Networks"
    # the paper's 50,000 iterations per phase; "tuned" adds weight averaging and
    # checkpoint selection over the joint phase (docs/benchmarks.md)
    recipes = {
        "paper": {"steps": 150_000},
        "tuned": {"steps": 150_000, "ema": 0.999, "select_every": 2500},
    }

    def __init__(self, config: TimeGANConfig, n_features: int, seq_len: int, cond_dim: int = 0):
        super().__init__(config, n_features, seq_len, cond_dim)
        c, f, h, L = config, n_features, config.hidden, config.num_layers
        self.z_dim = c.z_dim or f
        # conditions (conditional GAN) are per-step inputs of all five networks, so the
        # whole generation path G -> S -> R knows them (the supervisor's next-step
        # dynamics depend on the label); InfoGAN codes enter the generator; Q reads the
        # discriminator's features
        self.controls = Controls(c, cond_dim, h)
        self.private = dp = c.dp_layers  # the networks that read real data get per-sample gradients
        self.embedder = Net(c.cell, f + cond_dim, h, L, h, dp=dp)
        self.recovery = Net(c.cell, h + cond_dim, h, L, f, dp=dp)
        self.generator = Net(c.cell, self.z_dim + self.controls.extra_dim, h, L, h)
        self.supervisor = Net(c.cell, h + cond_dim, h, max(1, L - 1), h, dp=dp)
        self.discriminator = Net(c.cell, h + cond_dim, h, L, 1, sigmoid=False, dp=dp)
        self.adversary = Adversary(c, self.critic, self.discriminator.parameters())
        self.objective = self.adversary.objective

    def critic(self, h: Tensor, cond: Tensor | None = None) -> Tensor:
        return self.keep_steps(self.discriminator(self.controls.critic_input(h, cond)), cond)

    # the conditioned networks: each reads its input with the conditions appended per step
    def embed(self, x: Tensor, cond: Tensor | None) -> Tensor:
        return self.embedder(self.controls.critic_input(x, cond))

    def recover(self, h: Tensor, cond: Tensor | None) -> Tensor:
        return self.recovery(self.controls.critic_input(h, cond))

    def supervise(self, h: Tensor, cond: Tensor | None) -> Tensor:
        return self.supervisor(self.controls.critic_input(h, cond))

    def noise(self, n: int, rng: torch.Generator) -> Tensor:
        # Z ~ U(0, 1), (B, T, z) as in the released code
        return torch.rand(n, self.seq_len, self.z_dim, generator=rng, device=rng.device).to(self.device)

    def generator_input(self, n: int, rng: torch.Generator, cond: Tensor | None, codes: Tensor | None) -> Tensor:
        return self.controls.generator_input(self.noise(n, rng), cond, codes)

    def generate(self, n: int, rng: torch.Generator, cond: Tensor | None = None, codes: Tensor | None = None) -> Tensor:
        if codes is None:
            codes = self.controls.draw_codes(n, rng)
        x = self.recover(self.supervise(self.generator(self.generator_input(n, rng, cond, codes)), cond), cond)
        return self.finish(x, cond, rng)

    def info_term(self, features: Tensor, codes: Tensor | None) -> Tensor | None:
        """InfoGAN's ``lambda * -L_I`` from discriminator features of H^ (None without codes)."""
        return None if codes is None else self.controls.info_loss(features, codes)

    # ------------------------------------------------------------------ losses
    def reconstruction(self, x_tilde: Tensor, x: Tensor) -> Tensor:
        """10 sqrt(MSE(X, X~)) (eq. 5; per window under DP)."""
        return 10 * (sqrt_mse_per_window(x_tilde, x) if self.private else sqrt_mse(x_tilde, x))

    def supervised_mse(self, h: Tensor, cond: Tensor | None) -> Tensor:
        """MSE(H[:, 1:], S(H)[:, :-1]): the supervisor predicts the next embedding (eq. 7)."""
        return F.mse_loss(self.supervise(h, cond)[:, :-1], h[:, 1:])

    def embedding_loss(self, batch: Batch):
        """Phase 1: E_loss0 = 10 sqrt(MSE(X, X~)) (reconstruction, eq. 5)."""
        x, cond = batch.x, batch.cond
        return self.reconstruction(self.recover(self.embed(x, cond), cond), x)

    def supervised_loss(self, batch: Batch):
        """Phase 2: the supervised loss on real embeddings trains the supervisor."""
        with torch.no_grad():
            h = self.embed(batch.x, batch.cond)
        return self.supervised_mse(h, batch.cond)

    def adversarial_terms(self, h_hat: Tensor, e_hat: Tensor, cond: Tensor | None, codes: Tensor | None):
        """U + gamma U_e (+ InfoGAN's term): one frozen-discriminator pass over both fakes."""
        b = h_hat.shape[0]
        cond2 = None if cond is None else torch.cat([cond, cond])
        with frozen(self.discriminator, self.controls):
            feats = self.discriminator.features(self.controls.critic_input(torch.cat([h_hat, e_hat]), cond2))
            y_fake, y_fake_e = (self.keep_steps(y, cond) for y in self.discriminator.head(feats).split(b))
            info = self.info_term(feats[:b], codes)
        loss_u = self.objective.g_loss(y_fake)
        loss = loss_u + self.config.gamma * self.objective.g_loss(y_fake_e)
        logs = {"adv": loss_u.detach()}
        if info is not None:
            loss, logs["info"] = loss + info, info.detach()
        return loss, logs

    def generator_loss(self, batch: Batch):
        """Joint phase, g + s: U + gamma U_e + eta sqrt(L_S) + eta (V1 + V2)."""
        c, x, cond = self.config, batch.x, batch.cond
        b = x.shape[0]
        if self.private:
            return self.private_generator_loss(batch)
        with torch.no_grad():
            h = self.embed(x, cond)  # e is not updated here
        codes = self.controls.draw_codes(b, batch.rng)
        e_hat = self.generator(self.generator_input(b, batch.rng, cond, codes))
        cond2 = None if cond is None else torch.cat([cond, cond])
        s_real, h_hat = self.supervise(torch.cat([h, e_hat]), cond2).split(b)  # one pass for S(H), S(E^)
        loss_s = F.mse_loss(s_real[:, :-1], h[:, 1:])
        with frozen(self.recovery):
            x_hat = self.recover(h_hat, cond)
        loss_v = moment_loss(x, x_hat)
        loss, logs = self.adversarial_terms(h_hat, e_hat, cond, codes)
        loss = loss + c.eta * torch.sqrt(loss_s) + c.eta * loss_v
        return loss, {**logs, "sup": loss_s.detach(), "moments": loss_v.detach()}

    def private_generator_loss(self, batch: Batch):
        """Under DP: U + gamma U_e only, real data never read (see the module docstring)."""
        b, cond = batch.x.shape[0], batch.cond
        codes = self.controls.draw_codes(b, batch.rng)
        e_hat = self.generator(self.generator_input(b, batch.rng, cond, codes))
        with frozen(self.supervisor):
            h_hat = self.supervise(e_hat, cond)
        return self.adversarial_terms(h_hat, e_hat, cond, codes)

    def embedder_loss(self, batch: Batch):
        """Joint phase, e + r: 10 sqrt(MSE(X, X~)) + 0.1 L_S."""
        x, cond = batch.x, batch.cond
        h = self.embed(x, cond)
        x_tilde = self.recover(h, cond)
        with frozen(self.supervisor):
            loss_s = self.supervised_mse(h, cond)
        return self.reconstruction(x_tilde, x) + 0.1 * loss_s

    def discriminator_loss(self, batch: Batch):
        """Joint phase, d: real vs H^ vs gamma-weighted E^; skipped while d_loss <= threshold."""
        c, x, cond = self.config, batch.x, batch.cond
        b = x.shape[0]
        codes = self.controls.draw_codes(b, batch.rng)
        with torch.no_grad():
            h = self.embed(x, cond)
            e_hat = self.generator(self.generator_input(b, batch.rng, cond, codes))
            h_hat = self.supervise(e_hat, cond)
        cond3 = None if cond is None else torch.cat([cond, cond, cond])
        feats = self.discriminator.features(self.controls.critic_input(torch.cat([h, h_hat, e_hat]), cond3))
        y_real, y_fake, y_fake_e = (self.keep_steps(y, cond) for y in self.discriminator.head(feats).split(b))
        info = self.info_term(feats[b : 2 * b], codes)
        # real vs H^, plus the gamma-weighted fake term on E^ (released code)
        loss = self.objective.d_loss(y_real, y_fake) + c.gamma * self.objective.d_fake(y_fake_e)
        # the code's gate "train D only while its loss > 0.15" is defined for bounded (cross-entropy) losses;
        # while it holds D back, Q (sharing D's body) still learns the codes
        if self.objective.bounded and not self.private and mean_over_ranks(loss).item() <= c.d_threshold:  # every process alike
            return None if info is None else (info, {"info": info.detach()})
        loss, logs = self.adversary.add_penalty(loss, h, h_hat, batch.rng, cond)
        if info is not None:
            loss, logs["info"] = loss + info, info.detach()
        return loss, logs

    # ------------------------------------------------------------------ schedule
    def dp_targets(self) -> dict[str, list[nn.Module]]:
        """The updates that read real data, with the networks whose per-sample gradients
        DP-SGD clips: e + r (embedding phase and joint), s (supervised phase), d (+ Q)."""
        self.adversary.check_private()
        er = [self.embedder, self.recovery]
        return {
            "embedding": er, "supervised": [self.supervisor], "embedder": er,
            "discriminator": [self.discriminator, *([self.controls] if self.controls.q is not None else [])],
        }

    def optimizers(self):
        lr = self.config.lr
        er = [*self.embedder.parameters(), *self.recovery.parameters()]
        gs = [*self.generator.parameters(), *self.supervisor.parameters()]
        dq = [*self.discriminator.parameters(), *self.controls.parameters()]  # Q shares D's body
        return {
            "embedding": adam(er, lr=lr),
            # the supervised phase trains s alone (under DP every parameter of a private optimizer needs per-sample grads)
            "supervised": adam(self.supervisor.parameters(), lr=lr),
            "generator": self.adversary.optimizer(gs, lambda: adam(gs, lr=lr), self.config.objective_defaults),
            "embedder": adam(er, lr=lr),
            "discriminator": self.adversary.optimizer(
                dq, lambda: adam(dq, lr=lr), self.config.objective_defaults
            ),
        }

    def schedule(self):
        g = Update("g", "generator", self.generator_loss)
        e = Update("e", "embedder", self.embedder_loss, same_batch=True)  # the code feeds both the same X_mb
        return [
            Phase("embedding", [Update("e0", "embedding", self.embedding_loss)]),
            Phase("supervised", [Update("s", "supervised", self.supervised_loss)]),
            Phase(
                "joint",
                [
                    g, e, g, e,
                    Update(
                        "d", "discriminator", self.discriminator_loss,
                        repeat=self.adversary.critic_repeats(1, self.config.objective_defaults),
                        after_step=self.adversary.after_d_step,
                    ),
                ],
            ),
        ]
