"""CTGAN: Conditional Tabular GAN.

Xu, Skoularidou, Cuesta-Infante & Veeramachaneni, "Modeling Tabular Data using
Conditional GAN", NeurIPS 2019, and its released code.

* Rows are transformed by :class:`tsgan.data.tabular.TableTransformer`
  (mode-specific normalisation, one-hot categories); ``layout`` lists the blocks.
* Generator (section 4.4): z ~ N(0, 1) of 128 dimensions plus the conditional
  vector, two residual blocks (fc, batch norm, ReLU, output concatenated with the
  input) of 256, a linear map to the row; ``tanh`` on alphas, Gumbel-softmax
  (tau 0.2) on mode indicators and categories.
* Critic: PacGAN with 10 rows per pack (Lin et al. 2018), two fc layers of 256 with
  LeakyReLU 0.2 and dropout 0.5; input rows carry their conditional vector.
* Loss: WGAN-GP (lambda 10, per pack) plus the generator's cross-entropy between
  the chosen category and the generated logits of that column (section 4.3);
  Adam 2e-4, betas (0.5, 0.9), weight decay 1e-6, one critic step per generator
  step, batch 500.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import param
from ..errors import TsganError
from ..objectives import OBJECTIVES
from ..torch_utils import adam
from ..training.schedule import Batch
from .base import ObjectiveConfig, TwoPlayerGAN
from .layers import Dropout


@dataclass
class CTGANConfig(ObjectiveConfig):
    latent_dim: int = param(128, "dimensions of z ~ N(0, 1) (code: 128)", within="[1, inf)")
    hidden: int = param(256, "width of the two generator residual blocks and critic layers (code: 256)", within="[1, inf)")
    pac: int = param(10, "rows per critic pack, PacGAN (code: 10); the batch must divide by it", within="[1, inf)")
    batch_size: int = param(500, "rows per batch (code: 500)", within="[1, inf)")
    lr: float = param(2e-4, "Adam learning rate of both networks (code: 2e-4)", within="(0, inf)")
    weight_decay: float = param(1e-6, "Adam weight decay of both networks (code: 1e-6)", within="[0, inf)")
    tau: float = param(0.2, "Gumbel-softmax temperature (code: 0.2)", within="(0, inf)")
    objective: str = param("wgan-gp", "adversarial objective (paper: wgan-gp)", choices=tuple(OBJECTIVES))
    objective_defaults: bool = param(False, "use the objective's paper optimizer and n_critic instead of CTGAN's (code: False)")


class Residual(nn.Module):
    def __init__(self, i: int, o: int):
        super().__init__()
        self.fc, self.bn = nn.Linear(i, o), nn.BatchNorm1d(o)

    def forward(self, x: Tensor) -> Tensor:  # (B, i) -> (B, i + o)
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    def __init__(self, c: CTGANConfig, d_in: int, width: int):
        super().__init__()
        self.net = nn.Sequential(Residual(d_in, c.hidden), Residual(d_in + c.hidden, c.hidden), nn.Linear(d_in + 2 * c.hidden, width))

    def forward(self, z: Tensor) -> Tensor:  # (B, Z + cond + codes) -> (B, width) raw, before activations
        return self.net(z)


class Critic(nn.Module):
    def __init__(self, c: CTGANConfig, d_in: int):
        super().__init__()
        self.pac = c.pac
        self.net = nn.Sequential(
            nn.Linear(d_in * c.pac, c.hidden), nn.LeakyReLU(0.2), Dropout(0.5),
            nn.Linear(c.hidden, c.hidden), nn.LeakyReLU(0.2), Dropout(0.5),
        )
        self.out = nn.Linear(c.hidden, 1)

    def features(self, packed: Tensor) -> Tensor:  # (B / pac, pac * d_in) -> (B / pac, hidden)
        return self.net(packed)

    def forward(self, packed: Tensor) -> Tensor:
        return self.out(self.features(packed)).squeeze(-1)


class CTGAN(TwoPlayerGAN):
    config_cls = CTGANConfig
    kind = "table"
    paper = "Xu et al. 2019, Modeling Tabular Data using Conditional GAN"
    recipes = {"paper": {"steps": 3000}, "tuned": {"steps": 3000}}  # no setting measured better than the paper's

    def __init__(self, config: CTGANConfig, layout: list[dict], cond_width: int, cond_dim: int = 0):
        super().__init__()
        if config.batch_size % config.pac:
            raise TsganError(f"batch_size {config.batch_size} must be a multiple of pac={config.pac}: e.g. --param batch_size={config.pac * max(1, config.batch_size // config.pac)}")
        self.config, self.layout, self.cond_width = config, layout, cond_width
        self.cond_dim = 0  # CTGAN's conditional vector is its own input, not Controls' per-record condition
        self.width = sum(b["width"] for b in layout)
        self.spans = list(zip(_starts([b["width"] for b in layout]), layout))
        self.cat_spans = [(s, b["width"]) for s, b in self.spans if b["role"] == "category"]
        # The generator's raw output is laid out for the activation, not in the row's
        # column order: the alphas, then the one-hot blocks grouped by width, each group
        # of n blocks of width w a (w, n) grid, so each group's softmax runs over a view
        # (no gather, no padding: a gather and its scatter-add backward cost more than
        # the matrix products on a CPU). ``order`` maps each row column to its place.
        alpha = [s for s, b in self.spans if b["kind"] == "tanh"]
        soft = [(s, b) for s, b in self.spans if b["kind"] == "softmax"]
        self.n_alpha = len(alpha)
        order = torch.empty(self.width, dtype=torch.long)
        order[alpha] = torch.arange(self.n_alpha)
        cond_pos = torch.zeros(self.width - self.n_alpha, dtype=torch.long)  # 0: no condition; c + 1: cond[:, c]
        cond_start = {start: off for (start, _), off in zip(self.cat_spans, _starts([w for _, w in self.cat_spans]))}
        self.groups: list[tuple[int, int, int]] = []  # (offset after the alphas, width w, blocks n)
        offset = 0
        for w in sorted({b["width"] for _, b in soft}):
            blocks = [(start, b) for start, b in soft if b["width"] == w]
            for j, (start, b) in enumerate(blocks):
                pos = offset + torch.arange(w) * len(blocks) + j
                order[start : start + w] = self.n_alpha + pos
                if start in cond_start:
                    cond_pos[pos] = cond_start[start] + 1 + torch.arange(w)
            self.groups.append((offset, w, len(blocks)))
            offset += w * len(blocks)
        extra = config.info_categories + config.info_continuous
        self.generator = Generator(config, config.latent_dim + cond_width + extra, self.width)
        self.discriminator = Critic(config, self.width + cond_width)
        self.init_adversary(config.hidden, rows_per_feature=config.pac)  # Q reads a pack's features
        self.register_buffer("order", order, persistent=False)
        # the conditional loss reads only the widths that hold a category block
        spans = [slice(off, off + w * n) for off, w, n in self.groups]
        self.cond_groups = [i for i, span in enumerate(spans) if cond_pos[span].any()]
        self.register_buffer("cond_pos", torch.cat([cond_pos[spans[i]] for i in self.cond_groups] + [cond_pos[:0]]), persistent=False)

    # ------------------------------------------------------------------ networks
    def noise(self, n: int, rng: torch.Generator) -> Tensor:
        return torch.randn(n, self.config.latent_dim, generator=rng, device=rng.device).to(self.device)

    def pack(self, x: Tensor) -> Tensor:  # (B, w) -> (B / pac, pac * w)
        return x.reshape(len(x) // self.config.pac, self.config.pac * x.shape[1])  # also when w = 0 (no categories)

    def critic(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        """Packed rows ``(B / pac, pac * w)`` with their packed conditional vectors. The
        adversary sees packs as its samples, so the gradient penalty draws one alpha per
        pack and takes the norm per pack, as CTGAN's code does."""
        return self.discriminator(torch.cat([x, cond], dim=1) if cond is not None else x)

    def activate(self, raw: Tensor, rng: torch.Generator | None, hard: bool = False, straight: bool = False):
        """tanh on alphas, Gumbel-softmax on one-hot blocks (hard one-hot when sampling);
        ``raw`` in the generator's layout, the result in the row's column order.

        ``straight=True`` returns ``(soft, straight_through)``: the second has the hard
        one-hot of the same Gumbel draw forward and the soft gradient backward, the
        rows as they will be sampled (the InfoGAN head reads these).

        The blocks of one width at once, as a ``(B, w, n)`` view of ``raw``: one softmax
        over the middle axis per width (a CPU softmax over a short last axis is ~6x
        slower), then one column gather into the row order."""
        v = raw[:, self.n_alpha :]
        if rng is not None:
            u = torch.rand(v.shape, generator=rng, device=rng.device).to(v.device).clamp(1e-10, 1 - 1e-7)
            v = v - torch.log(-torch.log(u))  # + Gumbel(0, 1) noise
        alphas = torch.tanh(raw[:, : self.n_alpha])
        soft, onehot = [alphas], [alphas]
        for grid in self.grids(v / self.config.tau):
            y = F.softmax(grid, dim=1)
            soft.append(y.reshape(len(raw), -1))
            if hard or straight:
                h = F.one_hot(y.argmax(1), grid.shape[1]).transpose(1, 2).to(y.dtype)
                onehot.append((h + y - y.detach() if straight else h).reshape(len(raw), -1))

        def row(parts: list[Tensor]) -> Tensor:
            return torch.cat(parts, dim=1).index_select(1, self.order)

        if straight:
            return row(soft), row(onehot)
        return row(onehot if hard else soft)

    def grids(self, v: Tensor) -> list[Tensor]:
        """The one-hot part of a raw output as one ``(B, w, n)`` view per block width."""
        return [v[:, off : off + w * n].view(len(v), w, n) for off, w, n in self.groups]

    def raw(self, n: int, rng: torch.Generator, cond: Tensor, codes: Tensor | None) -> Tensor:
        z = self.controls.generator_input(torch.cat([self.noise(n, rng), cond], dim=1), None, codes)
        return self.generator(z)

    def generate(self, n: int, rng: torch.Generator, cond: Tensor | None = None, codes: Tensor | None = None) -> Tensor:
        if cond is None:
            cond = torch.zeros(n, self.cond_width, device=self.device)
        if codes is None:
            codes = self.controls.draw_codes(n, rng)
        return self.activate(self.raw(n, rng, cond, codes), rng, hard=True)

    # ------------------------------------------------------------------ losses
    def fake(self, batch: Batch):
        """Raw output, soft rows (the critic's input), the rows Q reads and the codes.

        With InfoGAN codes Q reads the straight-through hard rows: reading the soft
        Gumbel-softmax outputs, Q could find a code in how soft a one-hot is, which
        sampling (hard one-hots) erases, so the generator could satisfy Q without
        making the code change anything a user sees."""
        n = batch.x.shape[0]
        codes = self.controls.draw_codes(n, batch.rng)  # one per row: packs of fakes mix codes as real packs mix modes
        raw = self.raw(n, batch.rng, batch.cond, codes)
        if codes is None:
            return raw, self.activate(raw, batch.rng), None, None
        soft, hard = self.activate(raw, batch.rng, straight=True)
        return raw, soft, hard, codes

    def cond_loss(self, raw: Tensor, cond: Tensor) -> Tensor:
        """Cross-entropy between the chosen category and the generated logits of its column (eq. 4.3).

        ``cond`` has one 1 per row (the chosen column and label), so summing
        ``-cond * log_softmax`` over every label block is that column's cross-entropy."""
        if not self.cat_spans:
            return raw.new_zeros(())
        grids = self.grids(raw[:, self.n_alpha :])
        logp = torch.cat([F.log_softmax(grids[i], dim=1).reshape(len(raw), -1) for i in self.cond_groups], dim=1)
        target = F.pad(cond, (1, 0))[:, self.cond_pos]  # the chosen label, in the same layout; 0 elsewhere
        return -(target * logp).sum() / raw.shape[0]

    def d_loss(self, batch: Batch):
        with torch.no_grad():
            _, fake, seen, codes = self.fake(batch)
        loss, logs = self.adversary.d_loss(self.pack(batch.x), self.pack(fake), batch.rng, self.pack(batch.cond))
        return self.with_info(loss, logs, seen, batch.cond, codes)

    def g_loss(self, batch: Batch):
        raw, fake, seen, codes = self.fake(batch)
        adv = self.adversary.g_loss(self.pack(fake), self.pack(batch.cond))
        cl = self.cond_loss(raw, batch.cond)
        return self.with_info(adv + cl, {"cond": cl.detach()}, seen, batch.cond, codes)

    def info_features(self, fake: Tensor, cond: Tensor) -> Tensor:
        # Q reads a pack's features and predicts the code of each of its rows
        return self.discriminator.features(torch.cat([self.pack(fake), self.pack(cond)], dim=1))

    def dp_targets(self):
        raise TsganError("PacGAN packs several real rows per critic input, which DP-SGD cannot clip per row: DP is not offered for ctgan")

    def model_optimizers(self, d_params, g_params):
        c = self.config
        kw = dict(lr=c.lr, betas=(0.5, 0.9), weight_decay=c.weight_decay)
        return {"d": adam(d_params, **kw), "g": adam(g_params, **kw)}


def _starts(widths: list[int]) -> list[int]:
    return list(itertools.accumulate([0] + list(widths)))[:-1]
