"""Any sequence model on entity tables: static attributes first, then the steps.

An entity (a hospital stay, a machine, an account) is a static vector ``s`` (its start
time, its length and its static attributes, encoded by
:class:`tsgan.data.entities.EntityEncoder`) and temporal features ``x (T_max, F)``
padded after its last step. Generation has two stages, as in DoppelGANger (Lin et al.
2020):

1. a **static generator** (an MLP trained with WGAN-GP, Gulrajani et al. 2017) draws
   ``s``, the length included: the generator decides how long an entity is together
   with its attributes, so lengths follow them (e.g. emergency stays being shorter);
2. the chosen **sequence model** (TimeGAN, RCGAN or C-RNN-GAN, unchanged) generates
   the steps conditioned on ``[s, m_t]`` at every step, where ``m_t`` is the step mask
   (1 while the entity goes on, 0 after its end): the mask is the generation flag,
   given to the sequence model rather than emitted by it.

Both stages train in one loop on real entities: the static stage on real ``s``, the
sequence stage on real ``x`` under the real ``[s, m]`` (teacher forcing of the
attributes). The sequence model's one-hot groups are Gumbel-softmax draws, its padded
steps are zero, and its critics score existing steps only (``SequenceModel.finish``,
``keep_steps``). At sampling, the stages run one after the other; given static values
(``condition``) are met by drawing static vectors until enough carry them, so the
other attributes and the length keep their learned relation to them.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn

from ..objectives import gradient_penalty_mlp
from ..torch_utils import adam
from ..training.schedule import Batch, Phase, Update
from .base import SequenceModel, categorical_groups, harden

STATIC_SHARE = 0.5  # the static stage's share of the step budget (its steps cost a few per cent of a sequence step)
MAX_ROUNDS = 200  # draws of n static vectors while looking for requested values


class StaticGAN(nn.Module):
    """WGAN-GP over static vectors ``(B, S)`` in [0, 1]: numbers and missing indicators
    through a sigmoid, one-hot groups as Gumbel-softmax draws."""

    def __init__(self, width: int, groups: list[tuple[int, int]], binaries: list[int] = (), hidden: int = 128, latent: int = 32):
        super().__init__()
        self.width, self.groups, self.binaries, self.latent = width, [tuple(g) for g in groups], list(binaries), latent
        self.generator = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                       nn.Linear(hidden, width))
        # sampling uses an exponential moving average of the generator (decay 0.999 with a
        # warm-up, as TF's ExponentialMovingAverage with num_updates): WGAN-GP at this
        # learning rate oscillates (length KS .06 -> .23 between two checks of one run)
        self.average = copy.deepcopy(self.generator).requires_grad_(False)
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        self.critic = nn.Sequential(nn.Linear(width, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                    nn.Linear(hidden, 1))

    def generate(self, n: int, rng: torch.Generator, averaged: bool = False) -> Tensor:
        z = torch.randn(n, self.latent, generator=rng, device=rng.device).to(self.critic[0].weight.device)
        net = self.average if averaged else self.generator
        return categorical_groups(torch.sigmoid(net(z)), self.groups, rng, binaries=self.binaries)

    @torch.no_grad()
    def update_average(self) -> None:
        """After each generator step: ``average <- d * average + (1 - d) * generator``,
        ``d = min(0.999, (1 + t) / (10 + t))``."""
        self.updates += 1
        t = float(self.updates)
        d = min(0.999, (1 + t) / (10 + t))
        for avg, p in zip(self.average.parameters(), self.generator.parameters()):
            avg.lerp_(p, 1 - d)

    def d_loss(self, real: Tensor, rng: torch.Generator):
        fake = self.generate(len(real), rng).detach()
        d_real, d_fake, gp = gradient_penalty_mlp(self.critic[0], self.critic[1:], real, fake, 10.0, rng)
        gap = d_real.mean() - d_fake.mean()
        return -gap + gp, {"gap": gap.detach(), "gp": gp.detach()}

    def g_loss(self, n: int, rng: torch.Generator) -> Tensor:
        return -self.critic(self.generate(n, rng)).mean()


class EntityGAN(nn.Module):
    """A static generator and a sequence model over entities (see the module docstring).

    ``sequence`` is built with ``cond_dim = S + 1`` (the static vector and the step
    mask); ``static_blocks`` is the encoder's layout of ``s`` (``{"name", "kind",
    "start", "width"}``, the length at index 1); ``temporal_groups`` the one-hot groups
    of ``x`` and ``temporal_binaries`` its missing indicators; ``lengths`` the smallest and largest length (scaled ``s[1]`` maps to them).
    ``generate`` returns ``(n, T, F + S + 1)``: the steps, the static vector at every
    step and the mask."""

    @classmethod
    def build(cls, model_cls: type, config: Any, n_features: int, seq_len: int, static_blocks: list[dict[str, Any]],
              temporal_groups: list[tuple[int, int]], lengths: tuple[float, float], temporal_binaries: list[int] = ()) -> "EntityGAN":
        width = sum(b["width"] for b in static_blocks)
        return cls(model_cls(config, n_features, seq_len, cond_dim=width + 1), static_blocks, temporal_groups, lengths,
                   temporal_binaries)

    def __init__(self, sequence: SequenceModel, static_blocks: list[dict[str, Any]], temporal_groups: list[tuple[int, int]],
                 lengths: tuple[float, float], temporal_binaries: list[int] = ()):
        super().__init__()
        self.sequence, self.blocks, self.lengths = sequence, static_blocks, (float(lengths[0]), float(lengths[1]))
        self.static_width = sequence.cond_dim - 1
        self.config, self.seq_len, self.n_features = sequence.config, sequence.seq_len, sequence.n_features
        sequence.groups, sequence.binaries, sequence.masked = [tuple(g) for g in temporal_groups], list(temporal_binaries), True
        groups = [(b["start"], b["width"]) for b in static_blocks if b["kind"] == "one_hot"]
        self.static = StaticGAN(self.static_width, groups, [b["start"] for b in static_blocks if b["kind"] == "indicator"])

    @property
    def controls(self):
        return self.sequence.controls

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # ------------------------------------------------------------------ training
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"static_d": adam(self.static.critic.parameters(), lr=5e-4, betas=(0.5, 0.9)),
                "static_g": adam(self.static.generator.parameters(), lr=5e-4, betas=(0.5, 0.9)),
                **self.sequence.optimizers()}

    def schedule(self) -> list[Phase]:
        inner = self.sequence.schedule()
        weight = STATIC_SHARE / (1 - STATIC_SHARE) * sum(p.weight for p in inner)
        static = Phase("static", [Update("static_d", "static_d", self.static_d_loss, repeat=5),
                                  Update("static_g", "static_g", self.static_g_loss, after_step=self.static.update_average)],
                       weight=weight)
        return [static, *inner]

    def static_d_loss(self, batch: Batch):
        return self.static.d_loss(batch.cond[:, 0, :-1], batch.rng)

    def static_g_loss(self, batch: Batch):
        return self.static.g_loss(len(batch.x), batch.rng)

    def loop_state(self) -> dict | None:
        return self.sequence.loop_state() if hasattr(self.sequence, "loop_state") else None

    def load_loop_state(self, state: dict) -> None:
        if state is not None and hasattr(self.sequence, "load_loop_state"):
            self.sequence.load_loop_state(state)

    # ------------------------------------------------------------------ sampling
    def harden(self, s: Tensor) -> Tensor:
        """Static vectors as real ones are encoded (one-hot groups at their argmax,
        indicators 0 or 1, a number 0 where its indicator says missing)."""
        return harden(s, [(b["kind"], b["start"], b["width"]) for b in self.blocks])

    def mask_of(self, s: Tensor) -> Tensor:
        """The step mask ``(n, T)`` of the lengths the static vectors carry."""
        lo, hi = self.lengths
        length = (s[:, 1].double() * (hi - lo) + lo).round().clamp(min(2.0, hi), self.seq_len)
        return (torch.arange(self.seq_len, device=s.device)[None, :] < length[:, None]).to(s.dtype)

    def static_draw(self, n: int, rng: torch.Generator, want: Tensor | None = None) -> Tensor:
        """``n`` hardened static vectors; with ``want (n, S)`` (NaN: free) those whose
        requested one-hot groups match, and requested numbers set. Rows never matched in
        ``MAX_ROUNDS`` draws get the requested groups set."""
        s = self.harden(self.static.generate(n, rng, averaged=True))
        if want is None:
            return s
        want = want.to(s.device, s.dtype)
        given = ~torch.isnan(want)
        checks = [(b["start"], b["width"]) for b in self.blocks if b["kind"] == "one_hot" and bool(given[:, b["start"]].any())]
        out = torch.where(given, want, s)
        if checks:
            need = torch.ones(n, dtype=torch.bool, device=s.device)
            for _ in range(MAX_ROUNDS):
                ok = torch.ones(n, dtype=torch.bool, device=s.device)
                for a, w in checks:
                    ok &= (s[:, a : a + w] == torch.nan_to_num(want[:, a : a + w], nan=-1.0)).all(1)
                take = need & ok
                out[take] = torch.where(given[take], want[take], s[take])
                need &= ~take
                if not need.any():
                    break
                s = self.harden(self.static.generate(n, rng, averaged=True))
        return out

    @torch.no_grad()
    def generate(self, n: int, rng: torch.Generator, cond: Tensor | None = None, codes: Tensor | None = None) -> Tensor:
        """``(n, T, F + S + 1)``: steps, static vector and mask; ``cond (n, S)``: requested
        static values (NaN where free), or None."""
        s = self.static_draw(n, rng, cond)
        m = self.mask_of(s)
        step_cond = torch.cat([s[:, None, :].expand(-1, self.seq_len, -1), m[:, :, None]], dim=-1)
        x = self.sequence.generate(n, rng, step_cond, codes)
        return torch.cat([x.to(step_cond.dtype), step_cond], dim=-1)
