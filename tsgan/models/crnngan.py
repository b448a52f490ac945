"""C-RNN-GAN: Continuous recurrent neural networks with adversarial training.

Mogren, "C-RNN-GAN: Continuous recurrent neural networks with adversarial
training", NIPS Constructive Machine Learning workshop 2016, and its released code.

Generator: a stack of LSTM cells; the input at each step is uniform noise
concatenated with the generator's own previous output, through a ReLU input layer.
Discriminator: a bidirectional LSTM stack with one sigmoid output per step; the
decision is the average of those per-step probabilities (section 4). Optional
feature matching (section 3, after Salimans et al. 2016): the generator matches the
batch-mean of the discriminator's last LSTM layer on real data instead of fooling it.

Training (section 4 and the released code): plain SGD, learning rate 0.1 (the
discriminator's times 0.5 in the code), gradients clipped to global norm 5. The
generator is first pretrained by next-step squared error with the real previous
value fed back (teacher forcing, "6 epochs"); then D is frozen whenever its loss is
below 70 % of G's. The code's log message also names a pause for G whenever its loss
is below 70 % of D's; tried here, D then won outright and G got no gradient, so it is
not offered. As indented in the released ``run_epoch`` that pause sits outside its
condition and stops G whenever either loss is below 2, i.e. nearly always after
pretraining; that reads as a slip and is not reproduced. The code's generator drops
its LSTM outputs (keep 0.5) in training and, since it samples from the training
graph, in sampling too (``g_dropout``, off by default). Weights
start as in the code: LSTM weights U(-0.05, 0.05) with forget bias 1, fully
connected weights N(0, 1), biases 0; the generator's output layer is linear, as in
the code. The code's generator loss is the non-saturating one (the paper writes the
minimax form, under which G's loss is negative and the freezing rule never acts). L2 regularisation (``l2``) is off by default: the paper
gives no value, and the code's (0.1 * l2_loss, a weight decay of 0.1) decayed every
weight towards zero within a few thousand steps (constant samples, D at chance).
Two of the code's flags, off there and here: ``--adam`` trains G with Adam while D
stays on gradient descent (``optimizer=adam_g``; ``adam`` moves D to Adam too), and
``--minibatch_d`` adds minibatch discrimination before D's decision (``minibatch_d``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import param
from ..objectives import OBJECTIVES
from ..errors import TsganError
from ..torch_utils import mean_over_ranks
from ..training.schedule import Batch, Phase, Update
from .base import ObjectiveConfig, RecurrentGAN, rnn
from .layers import Dropout


@dataclass
class CRNNGANConfig(ObjectiveConfig):
    hidden: int = param(350, "LSTM units per layer in generator and discriminator (paper: 350)", within="[1, inf)")
    num_layers: int = param(2, "LSTM layers (paper: 2)", within="[1, inf)")
    batch_size: int = param(20, "windows per batch (paper: 20)", within="[1, inf)")
    lr: float = param(0.1, "learning rate (paper: 0.1, plain gradient descent)", within="(0, inf)")
    optimizer: str = param(
        "sgd", "sgd (paper: plain gradient descent for both), adam_g (the code's --adam: Adam for G, D stays on SGD) or adam (both); "
        "Adam wants a smaller lr, e.g. 0.001", choices=("sgd", "adam_g", "adam"),
    )
    d_lr_factor: float = param(0.5, "the discriminator's learning rate is lr times this (code: 0.5)", within="(0, inf)")
    l2: float = param(0.0, "L2 regularisation of all weights, as SGD weight decay (paper: L2, no value given; the code's 0.1 decays every weight towards zero)", within="[0, inf)")
    max_grad_norm: float = param(5.0, "clip each update's gradients to this global norm, 0 = off (code: 5)", within="[0, inf)")
    pretrain: float = param(0.06, "share of the steps that pretrain G by next-step squared error, 0 = off (paper: 6 epochs; 0.06 of 50,000 steps is 6 Sines epochs at batch 20)", within="[0, 1)")
    freeze_ratio: float = param(0.7, "skip D's update while its loss is below this times G's last loss, 0 = off (paper: 0.7)", within="[0, inf)")
    dropout: float = param(0.5, "dropout on the discriminator's inputs and between layers (paper: keep 0.5)", within="[0, 1)")
    g_dropout: float = param(0.0, "dropout on each generator LSTM layer's output, in training and when sampling, its masks drawn from the sampling seed (code: keep 0.5, as its sampling runs the training graph)", within="[0, 1)")
    feature_matching: bool = param(False, "train the generator by feature matching (paper: optional)")
    decision_init: str = param(
        "code", "the decision layer's weights: code (N(0, 1), as released; its per-step sigmoids saturate from the first step) or scaled (N(0, 1/fan_in))",
        choices=("code", "scaled"),
    )
    minibatch_d: bool = param(False, "minibatch discrimination before D's decision at every step (the code's --minibatch_d: 25 kernels of 10, after Salimans et al. 2016)")
    per_step_loss: bool = param(False, "score every step's logit in the loss (as RCGAN) instead of the mean of the per-step probabilities (paper), whose gradient vanishes once those saturate")
    objective: str = param("nonsaturating", "adversarial objective (code: nonsaturating; D's decision is the mean of per-step probabilities)", choices=tuple(OBJECTIVES))


class Generator(nn.Module):
    def __init__(self, c: CRNNGANConfig, n_features: int, extra: int = 0):
        super().__init__()
        self.input = nn.Linear(2 * n_features + extra, c.hidden)  # [noise_t (+ conditions/codes), x_{t-1}] -> hidden, ReLU
        self.cells = nn.ModuleList(nn.LSTMCell(c.hidden, c.hidden) for _ in range(c.num_layers))
        self.out = nn.Linear(c.hidden, n_features)
        self.n_features, self.p = n_features, c.g_dropout

    def forward(self, z: Tensor, teacher: Tensor | None = None, rng: torch.Generator | None = None) -> Tensor:
        """(B, T, F + extra) noise -> (B, T, F), scaled space. Each step reads its noise
        and the previous output; with ``teacher`` (B, T, F) the previous real value
        instead (pretraining, teacher forcing). With ``g_dropout`` each layer's output
        is dropped (kept with probability 1 - p, scaled by 1 / (1 - p)) in training and
        sampling alike, as in the code; the masks come from ``rng``."""
        b, t, f = z.shape[0], z.shape[1], self.n_features
        state = [(z.new_zeros(b, cell.hidden_size), z.new_zeros(b, cell.hidden_size)) for cell in self.cells]
        prev = z.new_zeros(b, f)
        outs = []
        for step in range(t):
            h = torch.relu(self.input(torch.cat([z[:, step], prev], dim=1)))
            if self.p:
                keep = torch.rand(len(self.cells), b, self.cells[0].hidden_size, generator=rng, device=getattr(rng, "device", None))
                keep = (keep >= self.p).to(z.device, z.dtype) / (1.0 - self.p)
            for k, cell in enumerate(self.cells):
                state[k] = cell(h, state[k])
                h = state[k][0] * keep[k] if self.p else state[k][0]  # the code drops outputs, not the carried state
            out = self.out(h)  # linear, as the code's output layer (a sigmoid would saturate under its N(0, 1) weights)
            outs.append(out)
            prev = out if teacher is None else teacher[:, step]  # fed back at the next step
        return torch.stack(outs, dim=1)


class MinibatchFeatures(nn.Module):
    """Minibatch discrimination at every step, as the released code's ``minibatch``
    (after Salimans et al. 2016): each step's features ``h`` map to ``kernels`` rows
    of ``kernel_dim`` values through a sigmoid, and each sample gets, per kernel, the
    sum over the batch of ``exp(-L1 distance)`` to the other samples' rows at the
    same step (itself included, as in the code). A generator that collapses onto a few
    outputs makes these sums large, which D can see. ``(B, T, D) -> (B, T, D + kernels)``."""

    def __init__(self, in_dim: int, kernels: int = 25, kernel_dim: int = 10):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.linear = nn.Linear(in_dim, kernels * kernel_dim)

    def forward(self, h: Tensor) -> Tensor:
        b, t, _ = h.shape
        a = torch.sigmoid(self.linear(h)).reshape(b, t * self.kernels, self.kernel_dim).transpose(0, 1)  # (T*K, B, kd)
        close = torch.exp(-torch.cdist(a, a, p=1.0)).sum(-1)  # (T*K, B): sum over the batch of exp(-||a_i - a_j||_1)
        return torch.cat([h, close.transpose(0, 1).reshape(b, t, self.kernels)], dim=-1)


class Discriminator(nn.Module):
    def __init__(self, c: CRNNGANConfig, n_inputs: int):
        super().__init__()
        self.drop = Dropout(c.dropout)
        self.rnn = rnn(
            "lstm", n_inputs, c.hidden, c.num_layers, bidirectional=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0, dp=c.dp_layers,
        )
        self.minibatch = MinibatchFeatures(2 * c.hidden) if c.minibatch_d else None
        self.out = nn.Linear(2 * c.hidden + (self.minibatch.kernels if self.minibatch is not None else 0), 1)
        self.per_step = c.per_step_loss

    def features(self, x: Tensor) -> Tensor:  # (B, T, F + C) -> (B, T, 2 * hidden)
        h, _ = self.rnn(self.drop(x))
        return h

    def forward(self, x: Tensor) -> Tensor:  # (B, T, F + C) -> (B,) the logit of the decision, or (B, T) per step
        """The decision is the mean over steps of the per-step probabilities
        sigmoid(l_t) (section 4), returned as its logit log p - log(1 - p) so that every
        objective reads it; computed in log space for stability. With ``per_step_loss``
        the per-step logits themselves, which the objectives average over steps."""
        h = self.features(x)
        logits = self.out(self.minibatch(h) if self.minibatch is not None else h).squeeze(-1).float()
        if self.per_step:
            return logits
        log_t = math.log(logits.shape[1])
        log_p = torch.logsumexp(F.logsigmoid(logits), dim=1) - log_t
        log_q = torch.logsumexp(F.logsigmoid(-logits), dim=1) - log_t
        return log_p - log_q


class CRNNGAN(RecurrentGAN):
    config_cls = CRNNGANConfig
    paper = "Mogren 2016, C-RNN-GAN: Continuous recurrent neural networks with adversarial training"
    # "tuned": the code's --adam (Adam for G, D on SGD) at RCGAN's sizes and game, with
    # weight averaging and checkpoint selection (docs/benchmarks.md); "paper": as published
    recipes = {
        "paper": {"steps": 50_000},
        "tuned": {
            "steps": 20_000, "optimizer": "adam_g", "lr": 0.001, "d_lr_factor": 100.0, "decision_init": "scaled",
            "per_step_loss": True, "hidden": 100, "num_layers": 1, "batch_size": 28, "freeze_ratio": 0.0,
            "ema": 0.999, "select_every": 500,
        },
    }

    def __init__(self, config: CRNNGANConfig, n_features: int, seq_len: int, cond_dim: int = 0):
        super().__init__(config, n_features, seq_len, cond_dim)
        extra = cond_dim + config.info_categories + config.info_continuous
        self.generator = Generator(config, n_features, extra)
        self.discriminator = Discriminator(config, n_features + cond_dim)
        self.init_adversary(2 * config.hidden)
        self.init_weights()
        self.last_g_loss: Tensor | None = None  # the players' latest losses, read by the freezing rules
        self.last_d_loss: Tensor | None = None

    def loop_state(self) -> dict:
        """The freezing rules' memory, for a resumed run (tsgan.train's ``resume``)."""
        return {"last_g_loss": self.last_g_loss, "last_d_loss": self.last_d_loss}

    def load_loop_state(self, state: dict) -> None:
        self.last_g_loss, self.last_d_loss = state["last_g_loss"], state["last_d_loss"]

    @torch.no_grad()
    def init_weights(self) -> None:
        """The released code's initialisation: LSTM weights and biases U(-0.05, 0.05)
        (its init_scale) with 1 added to the forget gate (BasicLSTMCell's forget_bias),
        fully connected weights N(0, 1) and biases 0 (its ``linear``); with
        ``decision_init="scaled"`` the decision layer's weights N(0, 1/fan_in)."""
        for module in (self.generator, self.discriminator):
            for m in module.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, 1.0)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, (nn.LSTM, nn.LSTMCell)) or type(m).__name__ == "DPLSTM":
                    for name, w in m.named_parameters():
                        nn.init.uniform_(w, -0.05, 0.05)
                        if name.startswith("bias_ih"):
                            w[w.shape[0] // 4 : w.shape[0] // 2] += 1.0  # gates i, f, g, o: the forget gate
        if self.config.decision_init == "scaled":  # D's read-outs (decision, minibatch kernels) at unit output scale
            d = self.discriminator
            for layer in [d.out] + ([d.minibatch.linear] if d.minibatch is not None else []):
                nn.init.normal_(layer.weight, 0.0, layer.weight.shape[1] ** -0.5)

    def noise(self, n: int, rng: torch.Generator) -> Tensor:
        # U(0, 1) noise with the data's dimension at every step (released code)
        return torch.rand(n, self.seq_len, self.n_features, generator=rng, device=rng.device).to(self.device)

    def decode(self, z: Tensor, rng: torch.Generator) -> Tensor:
        # the sampling generator draws the dropout masks (g_dropout). The output layer is
        # linear: samples (eval mode) are clamped to the data's scaled range [0, 1], i.e.
        # its observed range in original units; training sees them raw
        x = self.generator(z, rng=rng)
        return x if self.training else x.clamp(0.0, 1.0)

    def pretrain_loss(self, batch: Batch):
        """Next-step squared error with the real previous value fed back (section 4)."""
        b = batch.x.shape[0]
        codes = self.controls.draw_codes(b, batch.rng)
        z = self.controls.generator_input(self.noise(b, batch.rng), batch.cond, codes)
        return ((self.generator(z, teacher=batch.x, rng=batch.rng) - batch.x) ** 2).mean()

    def d_loss(self, batch: Batch):
        # freezing (section 4): no D update while its loss is below 70 % of G's; the
        # code pauses G the same way while G's loss is below 70 % of D's
        out = super().d_loss(batch)
        self.last_d_loss = out[0].detach()
        if self.frozen(self.last_d_loss, self.last_g_loss):
            return None
        return out

    def frozen(self, loss: Tensor, other: Tensor | None) -> bool:
        """The freezing rule: a player pauses while its loss is below ``freeze_ratio``
        times the other's latest. Defined for bounded (cross-entropy, hinge) losses
        against G's adversarial loss, so not with feature matching; not under DP-SGD
        either (D's loss reads real data)."""
        c = self.config
        comparable = self.adversary.objective.bounded and not c.feature_matching and not c.dp_layers
        if not (c.freeze_ratio and comparable and other is not None):
            return False
        return bool(mean_over_ranks(loss).item() < c.freeze_ratio * mean_over_ranks(other).item())  # every process alike

    def g_loss(self, batch: Batch):
        if not self.config.feature_matching:
            out = super().g_loss(batch)
        else:
            # || E f(x) - E f(G(z)) ||^2 over the discriminator's last layer, per step
            fake, codes = self.fake(batch)
            features = lambda v: self.discriminator.features(self.controls.critic_input(v, batch.cond))  # noqa: E731
            real_f = features(batch.x).mean(0).detach()
            loss = ((features(fake).mean(0) - real_f) ** 2).sum(-1).mean()
            out = self.with_info(loss, {}, fake, batch.cond, codes)
        self.last_g_loss = out[0].detach()
        return out

    def schedule(self) -> list[Phase]:
        adversarial = super().schedule()
        # under DP-SGD only D's updates are privatised, and pretraining reads real data in G's loss
        if not self.config.pretrain or self.config.dp_layers:
            return adversarial
        share = self.config.pretrain
        return [Phase("pretrain", [Update("p", "g", self.pretrain_loss)], weight=share)] + [
            Phase(p.name, p.updates, weight=p.weight * (1 - share)) for p in adversarial
        ]

    def dp_targets(self):
        if self.config.feature_matching:
            raise TsganError("feature matching reads real data in the generator's loss: pass --param feature_matching=false with DP")
        if self.config.minibatch_d:
            raise TsganError("minibatch discrimination mixes the samples of a batch, so DP-SGD cannot clip them one by one: pass --param minibatch_d=false with DP")
        return super().dp_targets()

    def model_optimizers(self, d_params, g_params):
        c = self.config
        d_cls = ClippedAdam if c.optimizer == "adam" else ClippedSGD
        g_cls = ClippedSGD if c.optimizer == "sgd" else ClippedAdam
        return {
            "d": d_cls(d_params, c.max_grad_norm, lr=c.lr * c.d_lr_factor, weight_decay=c.l2),
            "g": g_cls(g_params, c.max_grad_norm, lr=c.lr, weight_decay=c.l2),
        }


class _Clipped:
    """An optimizer whose step first clips the gradients to a global norm (the code's
    clip_by_global_norm, which it applies before either of its optimizers)."""

    def __init__(self, params, max_norm: float, **kw):
        super().__init__(params, **kw)
        self.max_norm = max_norm

    @torch.no_grad()
    def step(self, closure=None):
        if self.max_norm:
            grads = [p for group in self.param_groups for p in group["params"] if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(grads, self.max_norm, foreach=True)
        return super().step(closure)


class ClippedSGD(_Clipped, torch.optim.SGD):
    """Plain gradient descent on clipped gradients (the paper's optimizer)."""


class ClippedAdam(_Clipped, torch.optim.Adam):
    """Adam on clipped gradients (the released code's ``--adam``); L2 as Adam's weight decay."""
