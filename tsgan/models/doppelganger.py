"""DoppelGANger: attributes first, then features in batches of steps, judged whole.

Lin, Jain, Wang, Fanti & Sekar, "Using GANs for Sharing Networked Time Series Data:
Challenges, Initial Promise, and Open Questions", IMC 2020 (arXiv:1909.13403), and the
authors' released code (github.com/fjxmlzn/DoppelGANger, TensorFlow 1).

An entity is its attributes ``a`` (static: here the start time and the static columns)
and its features ``f_1..f_T`` with a generation flag that ends it. Generation:

1. **attribute generator** (MLP, 3 layers of 100, ReLU + batch norm; softmax outputs
   for labels, sigmoid for numbers) draws ``a`` from noise;
2. **min/max generator** (same shape, fed the noise and the hardened ``a`` with the
   gradient stopped): with ``self_norm`` ("auto-normalization", the paper's section
   4.2), each entity's numeric features are scaled to [0, 1] by its own minimum and
   maximum, and the generator draws them as extra attributes ``((max + min) / 2,
   (max - min) / 2)``, so entities of very different scales train as one shape;
3. **feature generator** (one LSTM of 100 units, fed the hardened attributes with the
   gradient stopped and 5 noise dimensions at every RNN step; random-normal initial
   state) emits ``sample_len`` steps per RNN step ("batch generation", section 4.1),
   each with a two-way softmax generation flag [goes on, ends]: the entity ends at the
   first step whose flag says so, and the RNN steps after that are zeroed.

Two critics, both MLPs of 5 layers of 200 (WGAN-GP, lambda 10): the **discriminator**
reads the whole entity (all steps flattened, flags included, with the attributes); the
**auxiliary discriminator** reads the attributes alone, weighted 1 in the generator's
loss. Adam 1e-3, beta1 0.5 for all, batch 100, one critic round per generator round.

Where tsgan follows the code rather than the paper: the noise dimensions (5 and 5), the
random initial LSTM state, the stop-gradient on attributes into the feature generator,
the layer sizes and learning rates above (the paper states none of them); the real
flags of the last RNN step (steps after the end within it read [0, 1]); critics fed
softmax outputs, not samples. tsgan's additions: missing values (a sigmoid flag per
numeric feature or attribute, the value zeroed where it says missing); the real data's
shortest length kept (one-step entities are never in the training data); one
generator pass per step reused by the critic and generator updates (as the code's
session runs, which feed both the same noise); and **partial conditions**: the
attribute generator also reads a mask of given attributes and their values, and during
training ``given_share`` of the rows get a random subset of their real attributes
given, so ``sample(condition={"admission": "elective", "age": 70})`` draws the other
attributes from their learned distribution given those (the code can only be given
every attribute). The objectives, InfoGAN codes (fed to both generators; Q reads the
discriminator's last hidden layer) and DP-SGD (on both critics) are the loop's.

On windows (one series or ``--seq-len``), the same networks run without attributes:
every window is full length, so no generation flag; per-step conditions (a
conditional run) enter the LSTM at every RNN step and the critic flattened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..config import param
from ..errors import TsganError
from ..objectives import OBJECTIVES
from ..torch_utils import adam
from ..training.schedule import Batch, Phase, Update
from .base import Adversary, Controls, ObjectiveConfig, SequenceModel, harden, relaxed_bernoulli

RNN_STEPS = 50  # sample_len = 0 picks the smallest that needs at most this many RNN steps


@dataclass
class DoppelGANgerConfig(ObjectiveConfig):
    objective: str = param("wgan-gp", "adversarial objective (paper: wgan-gp)", choices=tuple(OBJECTIVES))
    objective_defaults: bool = param(
        False, "with wgan / wgan-gp, use that paper's optimizer and n_critic instead of DoppelGANger's (Adam 1e-3, beta1 0.5, 1 round)"
    )
    sample_len: int = param(0, "steps emitted per RNN step (batch generation; 0 = the smallest that needs at most 50 RNN steps)",
                            within="[0, inf)")
    self_norm: bool = param(True, "auto-normalization: scale each entity's numeric features by its own min and max, generated as attributes")
    attribute_latent: int = param(5, "noise dimensions of the attribute generators (code: 5)", within="[1, inf)")
    feature_latent: int = param(5, "noise dimensions per RNN step of the feature generator (code: 5)", within="[1, inf)")
    attribute_units: int = param(100, "attribute generators' hidden units (code: 100)", within="[1, inf)")
    attribute_layers: int = param(3, "attribute generators' hidden layers (code: 3)", within="[1, inf)")
    feature_units: int = param(100, "feature generator LSTM units (code: 100)", within="[1, inf)")
    feature_layers: int = param(1, "feature generator LSTM layers (code: 1)", within="[1, inf)")
    disc_units: int = param(200, "critics' hidden units (code: 200)", within="[1, inf)")
    disc_layers: int = param(5, "critics' layers (code: 5)", within="[2, inf)")
    attr_disc: bool = param(True, "train the auxiliary critic on attributes (paper: yes)")
    attr_weight: float = param(1.0, "weight of the auxiliary critic in the generator's loss (code: 1)", within="[0, inf)")
    lr_g: float = param(1e-3, "generator learning rate, Adam (code: 1e-3)", within="(0, inf)")
    lr_d: float = param(1e-3, "critics' learning rate, Adam (code: 1e-3)", within="(0, inf)")
    beta1: float = param(0.5, "Adam beta1 of every optimizer (code: 0.5)", within="[0, 1)")
    d_rounds: int = param(1, "critic updates per step (code: 1)", within="[1, inf)")
    batch_size: int = param(100, "entities per batch (code: 100)", within="[1, inf)")
    given_share: float = param(
        0.5, "share of training rows whose attribute generator is given a random subset of their real attributes "
        "(partial conditions; 0 = never, as the paper)", within="[0, 1]"
    )


def mlp(d_in: int, units: int, layers: int, d_out: int, norm: bool) -> nn.Sequential:
    """``layers`` hidden layers of ``units`` (ReLU, then batch norm for a generator), a linear read-out."""
    parts: list[nn.Module] = []
    for _ in range(layers):
        parts += [nn.Linear(d_in, units), nn.ReLU()] + ([nn.BatchNorm1d(units)] if norm else [])
        d_in = units
    return nn.Sequential(*parts, nn.Linear(d_in, d_out))


class Critic(nn.Module):
    """An MLP critic over flat inputs ``(B, D) -> (B,)``; ``features`` is its last hidden layer."""

    def __init__(self, d_in: int, units: int, layers: int):
        super().__init__()
        self.body = mlp(d_in, units, layers - 2, units, norm=False) if layers > 2 else nn.Linear(d_in, units)
        self.out = nn.Linear(units, 1)

    def features(self, x: Tensor) -> Tensor:
        return torch.relu(self.body(x))

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.features(x)).squeeze(-1)

    def split(self) -> tuple[nn.Linear, Any]:
        """``(first linear layer, the rest)``: ``self(x) == rest(first(x))`` (for
        :func:`tsgan.objectives.gradient_penalty_mlp`). Bound methods, so a deep copy
        of the model scores with its own layers."""
        return (self.body if isinstance(self.body, nn.Linear) else self.body[0]), self.rest

    def rest(self, h: Tensor) -> Tensor:
        """The critic after its first linear layer's pre-activation ``h``."""
        if not isinstance(self.body, nn.Linear):
            for layer in list(self.body)[1:]:
                h = layer(h)
        return self.out(torch.relu(h)).squeeze(-1)


def activate(y: Tensor, kinds: list[tuple[str, int, int]], rng: torch.Generator | None = None, tau: float = 0.2) -> Tensor:
    """Raw outputs ``(..., D)`` through each block's activation: softmax over a one-hot
    group or the flag, sigmoid for numbers; a missing indicator is a relaxed Bernoulli
    draw at temperature ``tau`` with the sigmoid as its probability when ``rng`` is
    given (its probability otherwise), so a value missing 20 % of the time at random
    needs ``p = 0.2``, not a bimodal output, and thresholding the draw at 0.5 is a
    Bernoulli(p) draw; the number before it is zeroed where it says missing. (The
    softmax is written out: PyTorch's kernel over a last axis of 2-3 costs twice as
    much on the CPU.)"""
    out = torch.sigmoid(y)
    groups = [(a, w) for kind, a, w in kinds if kind in ("one_hot", "flag")]
    if groups:
        parts, at = [], 0
        for a, w in groups:
            v = y[..., a : a + w]
            e = torch.exp(v - v.amax(-1, keepdim=True).detach())
            parts += [out[..., at:a], e / e.sum(-1, keepdim=True)]
            at = a + w
        out = torch.cat([*parts, out[..., at:]], -1)
    flags = [a for kind, a, _ in kinds if kind == "indicator"]
    if flags:
        idx = torch.as_tensor(flags, device=y.device)
        flag = out[..., idx] if rng is None else relaxed_bernoulli(y[..., idx], rng, tau)
        out = out.index_copy(-1, idx, flag).index_copy(-1, idx - 1, out[..., idx - 1] * (1 - flag))
    return out


def _blocks(layout: list[dict[str, Any]], skip: tuple[str, ...] = ()) -> list[tuple[str, int, int]]:
    """``(kind, start, width)`` of each block, renumbered after leaving out the named ones."""
    out, at = [], 0
    for b in layout:
        if b["name"] in skip:
            continue
        out.append((b["kind"], at, b["width"]))
        at += b["width"]
    return out


class DoppelGANger(SequenceModel):
    config_cls = DoppelGANgerConfig
    paper = "Lin, Jain, Wang, Fanti & Sekar 2020, Using GANs for Sharing Networked Time Series Data (DoppelGANger)"
    recipes = {"paper": {"steps": 20_000}, "tuned": {"steps": 20_000}}
    native_entities = True  # trains on entity tables itself (tsgan.models.build_model skips the EntityGAN wrapper)
    generator_optimizer = "g"

    @classmethod
    def build(cls, model_cls: type, config: DoppelGANgerConfig, n_features: int, seq_len: int, static_blocks: list[dict[str, Any]],
              temporal_groups: list[tuple[int, int]], lengths: tuple[float, float], temporal_binaries: list[int] = ()) -> "DoppelGANger":
        """The entity-table model (the signature of :meth:`EntityGAN.build`)."""
        blocks, at, groups = [], 0, dict(temporal_groups)
        while at < n_features:
            kind, width = ("one_hot", groups[at]) if at in groups else ("indicator" if at in temporal_binaries else "number", 1)
            blocks.append({"name": f"f{at}", "kind": kind, "start": at, "width": width})
            at += width
        return cls(config, n_features, seq_len, static_blocks=static_blocks, temporal_blocks=blocks, lengths=lengths)

    def __init__(self, config: DoppelGANgerConfig, n_features: int, seq_len: int, cond_dim: int = 0,
                 static_blocks: list[dict[str, Any]] | None = None, temporal_blocks: list[dict[str, Any]] | None = None,
                 lengths: tuple[float, float] = (1.0, 1.0)):
        self.entity = static_blocks is not None
        if self.entity:
            cond_dim = sum(b["width"] for b in static_blocks) + 1  # the entity kind's per-step [static vector, mask]
        super().__init__(config, n_features, seq_len, cond_dim)
        c = config
        if c.sample_len > seq_len:
            raise TsganError(f"sample_len {c.sample_len} is longer than the {seq_len} steps: pass --param sample_len=1..{seq_len}")
        self.sample_len = c.sample_len or max(1, math.ceil(seq_len / RNN_STEPS))
        self.rnn_steps = math.ceil(seq_len / self.sample_len)
        self.padded_len = self.rnn_steps * self.sample_len
        self.lengths = (float(lengths[0]), float(lengths[1]))
        temporal_blocks = temporal_blocks or [{"name": f"f{i}", "kind": "number", "start": i, "width": 1} for i in range(n_features)]
        self.feature_kinds = _blocks(temporal_blocks)
        # entity mode: the static vector is [start, length, statics]; the length is the flag's
        self.static_blocks = static_blocks or []
        self.attr_kinds = _blocks(self.static_blocks, skip=("__length__",))
        self.attr_dim = sum(w for _, _, w in self.attr_kinds)
        self.given_units = self._given_units()
        self.numbers = [a for kind, a, _ in self.feature_kinds if kind == "number"] if c.self_norm else []
        flags = {a for kind, a, _ in self.feature_kinds if kind == "indicator"}
        self.flagged = [(j, a + 1) for j, a in enumerate(self.numbers) if a + 1 in flags]  # (position among numbers, its missing flag)
        self.addi_dim = 2 * len(self.numbers)
        self.step_dim = n_features + (2 if self.entity else 0)  # + the flag [goes on, ends]
        self.step_kinds = self.feature_kinds + ([("flag", n_features, 2)] if self.entity else [])
        self.window_cond = 0 if self.entity else cond_dim  # per-step conditions of a conditional window run
        self.controls = Controls(c, self.window_cond, c.disc_units)
        codes = self.controls.code_dim
        if self.attr_dim:
            self.attribute_gen = mlp(c.attribute_latent + 2 * self.attr_dim + codes, c.attribute_units, c.attribute_layers, self.attr_dim, norm=True)
        if self.addi_dim:
            self.minmax_gen = mlp(c.attribute_latent + self.attr_dim + self.window_cond + codes, c.attribute_units, c.attribute_layers,
                                  self.addi_dim, norm=True)
        self.all_attr = self.attr_dim + self.addi_dim
        lstm_in = self.all_attr + c.feature_latent + self.sample_len * self.window_cond + codes
        self.lstm = nn.LSTM(lstm_in, c.feature_units, c.feature_layers, batch_first=True)
        self.feature_out = nn.Linear(c.feature_units, self.sample_len * self.step_dim)  # one read-out for the sample_len steps
        self.critic_width = critic_in = self.padded_len * self.step_dim + self.all_attr + self.padded_len * self.window_cond
        self.discriminator = Critic(critic_in, c.disc_units, c.disc_layers)
        self.attr_critic = Critic(self.all_attr, c.disc_units, c.disc_layers) if (c.attr_disc and self.all_attr) else None
        self.adversary = Adversary(c, self._score, self.discriminator.parameters(), split=self.discriminator.split())
        self.attr_adversary = (Adversary(c, self._score_attributes, self.attr_critic.parameters(), split=self.attr_critic.split())
                               if self.attr_critic is not None else None)
        self._cached: tuple | None = None

    def _score(self, v: Tensor, cond: Tensor | None = None) -> Tensor:
        return self.discriminator(v)

    def _score_attributes(self, v: Tensor, cond: Tensor | None = None) -> Tensor:
        return self.attr_critic(v)

    def _given_units(self) -> list[list[int]]:
        """The attribute positions given together under a partial condition: a label's
        one-hot group, a number with its missing indicator, the start."""
        units: dict[str, list[int]] = {}
        at = 0
        for b in self.static_blocks:
            if b["name"] == "__length__":
                continue
            units.setdefault(b["name"], []).extend(range(at, at + b["width"]))
            at += b["width"]
        return list(units.values())

    # ------------------------------------------------------------------ real data in the model's space
    def real_parts(self, x: Tensor, cond: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None]:
        """``(attributes (B, A + addi), steps (B, T', step_dim), window conditions)`` of a real batch."""
        b = x.shape[0]
        if self.entity:
            s, m = cond[:, 0, :-1], cond[..., -1].to(x.dtype)
            attrs = torch.cat([s[:, :1], s[:, 2:]], 1)
        else:
            attrs, m = x.new_zeros(b, 0), x.new_ones(b, x.shape[1])
        addi = x.new_zeros(b, 0)
        if self.numbers:
            x, addi = self.self_normalise(x, m)
        steps = [x]
        if self.entity:
            steps.append(self.real_flags(m))
        steps = torch.cat(steps, -1)
        pad = self.padded_len - steps.shape[1]
        if pad:
            steps = nn.functional.pad(steps, (0, 0, 0, pad))
        wc = self._pad_cond(cond) if self.window_cond else None
        return torch.cat([attrs, addi], 1), steps, wc

    def self_normalise(self, x: Tensor, m: Tensor) -> tuple[Tensor, Tensor]:
        """Each entity's numeric features scaled to [0, 1] by its own min and max over
        observed steps, and those as attributes ``(mid, half range * 2)`` in [0, 1]."""
        xt = x.transpose(1, 2).contiguous()  # (B, F, T): the reductions over time run along memory
        idx = torch.as_tensor(self.numbers, device=x.device)
        v = xt.index_select(1, idx)
        seen = m[:, None, :].expand_as(v)
        if self.flagged:
            gone = torch.zeros_like(v)
            gone[:, [j for j, _ in self.flagged]] = xt[:, [f for _, f in self.flagged]]
            seen = seen * (1 - gone)
        away = (1 - seen) * 1e30  # unseen steps out of the min and the max
        lo, hi = (v + away).amin(-1), (v - away).amax(-1)
        none = seen.sum(-1) == 0
        lo, hi = torch.where(none, 0.0, lo), torch.where(none, 0.0, hi)
        scaled = ((v - lo[..., None]) / (hi - lo).clamp(min=1e-6)[..., None]).clamp(0, 1) * seen
        x = xt.index_copy(1, idx, scaled).transpose(1, 2)
        return x, torch.cat([(hi + lo) / 2, hi - lo], 1)

    def real_flags(self, m: Tensor) -> Tensor:
        """The code's flags ``(B, T, 2)``: [1, 0] before the last step, [0, 1] from it to
        the end of its RNN step, [0, 0] after."""
        t = torch.arange(m.shape[1], device=m.device)
        length = m.sum(1, keepdim=True)
        last_block = ((length - 1) // self.sample_len)
        go_on = (t[None] < length - 1).to(m.dtype)
        end = ((t[None] >= length - 1) & (t[None] // self.sample_len == last_block)).to(m.dtype)
        return torch.stack([go_on, end], -1)

    def _pad_cond(self, cond: Tensor) -> Tensor:
        pad = self.padded_len - cond.shape[1]
        return nn.functional.pad(cond, (0, 0, 0, pad)) if pad else cond

    # ------------------------------------------------------------------ generation
    def fake_parts(self, n: int, rng: torch.Generator, given: Tensor | None = None, wc: Tensor | None = None,
                   codes: Tensor | None = None, end: bool = True) -> tuple[Tensor, Tensor]:
        """``(attributes (n, A + addi), steps (n, T', step_dim))`` with gradients;
        ``given (n, A)``: attribute values to keep (NaN where free); ``end``: zero the
        RNN steps after the flag ends the entity (sampling cuts them itself)."""
        c, dev = self.config, self.device
        attrs = torch.zeros(n, 0, device=dev)
        code_in = [] if codes is None else [codes.to(dev)]
        if self.attr_dim:
            z = torch.randn(n, c.attribute_latent, generator=rng, device=rng.device).to(dev)
            known = torch.zeros(n, self.attr_dim, device=dev) if given is None else (~torch.isnan(given)).to(torch.float32)
            values = torch.zeros(n, self.attr_dim, device=dev) if given is None else torch.nan_to_num(given, nan=0.0)
            raw = activate(self.attribute_gen(torch.cat([z, known, values * known, *code_in], 1)), self.attr_kinds, rng)
            attrs = raw * (1 - known) + values * known
        hard = harden(attrs.detach(), self.attr_kinds)
        addi = torch.zeros(n, 0, device=dev)
        if self.addi_dim:
            z2 = torch.randn(n, c.attribute_latent, generator=rng, device=rng.device).to(dev)
            wmean = [wc.mean(1)] if wc is not None else []
            addi = torch.sigmoid(self.minmax_gen(torch.cat([z2, hard, *wmean, *code_in], 1)))
        all_attrs = torch.cat([attrs, addi], 1)
        inputs = [torch.cat([hard, addi.detach()], 1)[:, None, :].expand(-1, self.rnn_steps, -1),
                  torch.randn(n, self.rnn_steps, c.feature_latent, generator=rng, device=rng.device).to(dev)]
        if wc is not None:
            inputs.append(wc.reshape(n, self.rnn_steps, -1))
        if codes is not None:
            inputs.append(codes.to(dev)[:, None, :].expand(-1, self.rnn_steps, -1))
        h0 = torch.randn(2, c.feature_layers, n, c.feature_units, generator=rng, device=rng.device).to(dev)  # random initial state (code)
        out, _ = self.lstm(torch.cat(inputs, -1), (h0[0], h0[1]))
        steps = activate(self.feature_out(out).reshape(n, self.padded_len, self.step_dim), self.step_kinds, rng)
        if self.entity and end:
            steps = steps * self.block_alive(steps)[..., None]
        return all_attrs, steps

    def step_alive(self, steps: Tensor) -> Tensor:
        """``(n, T')`` 1 up to and including the first step whose flag says "ends"."""
        go_on = (steps[..., -2] >= steps[..., -1]).to(steps.dtype)
        return torch.cat([torch.ones_like(go_on[:, :1]), torch.cumprod(go_on, 1)[:, :-1]], 1)

    def block_alive(self, steps: Tensor) -> Tensor:
        """``(n, T')`` 1 on every step of an RNN step that began alive (the code zeroes by RNN step)."""
        alive = self.step_alive(steps.detach())[:, :: self.sample_len]
        return alive.repeat_interleave(self.sample_len, 1)

    def critic_input(self, attrs: Tensor, steps: Tensor, wc: Tensor | None) -> Tensor:
        parts = [steps.flatten(1), attrs]
        if wc is not None:
            parts.append(wc.flatten(1))
        return torch.cat(parts, 1)

    # ------------------------------------------------------------------ losses
    def given_for_training(self, real_attrs: Tensor, rng: torch.Generator) -> Tensor | None:
        """Random partial conditions: ``given_share`` of the rows get each attribute unit
        of theirs given with probability 1/2 (NaN where free)."""
        share = self.config.given_share
        if not self.attr_dim or share <= 0:
            return None
        n = real_attrs.shape[0]
        row = torch.rand(n, 1, generator=rng, device=rng.device) < share
        pick = (torch.rand(n, len(self.given_units), generator=rng, device=rng.device) < 0.5) & row
        known = torch.zeros(n, self.attr_dim, dtype=torch.bool, device=rng.device)
        for j, unit in enumerate(self.given_units):
            known[:, unit] = pick[:, j : j + 1]
        known = known.to(real_attrs.device)
        return torch.where(known, real_attrs[:, : self.attr_dim], torch.full_like(real_attrs[:, : self.attr_dim], float("nan")))

    def _fakes(self, batch: Batch):
        real_attrs, real_steps, wc = self.real_parts(batch.x, batch.cond)
        codes = self.controls.draw_codes(len(batch.x), batch.rng)
        given = self.given_for_training(real_attrs, batch.rng)
        fake_attrs, fake_steps = self.fake_parts(len(batch.x), batch.rng, given, wc, codes)
        return (real_attrs, real_steps, wc), (fake_attrs, fake_steps, wc), codes

    def d_loss(self, batch: Batch):
        real, fake, codes = self._fakes(batch)
        self._cached = (len(batch.x), fake, codes)  # the generator update reuses this pass (the code feeds both the same noise)
        r_in, f_in = self.critic_input(*real), self.critic_input(*fake)
        loss, logs = self.adversary.d_loss(r_in, f_in.detach(), batch.rng)
        if self.attr_adversary is not None:
            a_loss, a_logs = self.attr_adversary.d_loss(real[0], fake[0].detach(), batch.rng)
            loss = loss + a_loss
            logs.update({f"attr_{k}": v for k, v in a_logs.items()})
        if codes is not None:
            mi = self.controls.info_loss(self.discriminator.features(f_in.detach()), codes)
            loss, logs["info"] = loss + mi, mi.detach()
        return loss, logs

    def g_loss(self, batch: Batch):
        cached, self._cached = self._cached, None
        if cached is not None and cached[0] == len(batch.x) and torch.is_grad_enabled():
            _, fake, codes = cached
        else:
            _, fake, codes = self._fakes(batch)
        f_in = self.critic_input(*fake)
        loss = self.adversary.g_loss(f_in)
        logs = {}
        if self.attr_adversary is not None:
            a = self.attr_adversary.g_loss(fake[0])
            loss, logs["attr"] = loss + self.config.attr_weight * a, a.detach()
        if codes is not None:
            mi = self.controls.info_loss(self.discriminator.features(f_in), codes)
            loss, logs["info"] = loss + mi, mi.detach()
        return loss, logs

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def generate(self, n: int, rng: torch.Generator, cond: Tensor | None = None, codes: Tensor | None = None) -> Tensor:
        """Windows ``(n, T, F)``; on entity tables ``(n, T, F + S + 1)`` (steps, static
        vector, mask) with ``cond (n, S)`` the requested static values (NaN: free)."""
        was = self.training
        self.eval()  # batch norm on its running statistics
        try:
            if codes is None:
                codes = self.controls.draw_codes(n, rng)
            if not self.entity:
                wc = self._pad_cond(cond.to(self.device)) if self.window_cond else None
                attrs, steps = self.fake_parts(n, rng, None, wc, codes)
                return self.decode_steps(harden(steps, self.step_kinds), attrs)[:, : self.seq_len]
            given = None
            if cond is not None:
                cond = cond.to(self.device, torch.float32)
                given = torch.cat([cond[:, :1], cond[:, 2:]], 1)
            attrs, steps = self.fake_parts(n, rng, given, None, codes, end=False)
            return self.entity_output(attrs, steps)
        finally:
            self.train(was)

    def decode_steps(self, steps: Tensor, attrs: Tensor) -> Tensor:
        """Numeric features back from each entity's [0, 1] scale (self_norm)."""
        if not self.numbers:
            return steps
        k = len(self.numbers)
        mid, rng_ = attrs[:, -2 * k : -k], attrs[:, -k:]
        idx = torch.as_tensor(self.numbers, device=steps.device)
        lo = (mid - rng_ / 2).clamp(0, 1)
        v = (lo[:, None, :] + steps[..., idx] * rng_[:, None, :]).clamp(0, 1)
        for j, f in self.flagged:
            v[..., j] = v[..., j] * (1 - steps[..., f])
        return steps.index_copy(-1, idx, v)

    def entity_output(self, attrs: Tensor, steps: Tensor) -> Tensor:
        """Steps cut at the first "ends" (kept to the real data's shortest length: the
        steps up to it are generated ones, never padding), with the static vector and mask."""
        hard = harden(steps, self.step_kinds)
        lo, hi = self.lengths
        length = self.step_alive(hard).sum(1).clamp(min(max(lo, 2.0), self.seq_len), self.seq_len)
        m = (torch.arange(self.padded_len, device=steps.device)[None] < length[:, None]).to(steps.dtype)
        x = self.decode_steps(hard, attrs)[..., : self.n_features] * m[..., None]
        a = harden(attrs[:, : self.attr_dim], self.attr_kinds)
        code = (length - lo) / (hi - lo) if hi > lo else torch.zeros_like(length)
        s = torch.cat([a[:, :1], code[:, None], a[:, 1:]], 1)
        T = self.seq_len
        return torch.cat([x[:, :T], s[:, None, :].expand(-1, T, -1), m[:, :T, None]], -1)

    # ------------------------------------------------------------------ schedule
    def dp_targets(self) -> dict[str, list[nn.Module]]:
        """Both critics read real data; the generators learn only through them."""
        self.adversary.check_private()
        return {"d": [self.discriminator, *([self.attr_critic] if self.attr_critic is not None else []),
                      *([self.controls] if self.controls.q is not None else [])]}

    def generator_parameters(self) -> list[nn.Parameter]:
        nets = [self.lstm, self.feature_out] + [getattr(self, k) for k in ("attribute_gen", "minmax_gen") if hasattr(self, k)]
        return [p for net in nets for p in net.parameters()]

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        d_params = [*self.discriminator.parameters(), *self.controls.parameters()]
        if self.attr_critic is not None:
            d_params += list(self.attr_critic.parameters())
        g_params = self.generator_parameters()
        use = c.objective_defaults
        return {"d": self.adversary.optimizer(d_params, lambda: adam(d_params, lr=c.lr_d, betas=(c.beta1, 0.999)), use),
                "g": self.adversary.optimizer(g_params, lambda: adam(g_params, lr=c.lr_g, betas=(c.beta1, 0.999)), use)}

    def schedule(self) -> list[Phase]:
        c = self.config
        clip = self.adversary.after_d_step
        if clip is not None and self.attr_critic is not None:
            clip_attr = self.attr_adversary.after_d_step
            clip = (lambda f, g: (lambda: (f(), g())))(clip, clip_attr)
        return [Phase("adversarial", [
            Update("d", "d", self.d_loss, repeat=self.adversary.critic_repeats(c.d_rounds, c.objective_defaults), after_step=clip),
            Update("g", "g", self.g_loss, same_batch=True),
        ])]
