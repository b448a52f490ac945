"""What every model shares: the constructor contract and small network helpers.

A model is an ``nn.Module`` built from ``(config, n_features, seq_len)``. It says
what its optimizers are (``optimizers()``) and what its training schedule is
(``schedule()``, a list of :class:`tsgan.train.Phase`), and it samples with
``generate(n, rng)`` in the scaled [0, 1] space. It never moves devices, prints,
writes files or calls ``optimizer.step()``: :func:`tsgan.train.train` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor, nn

from ..config import param
from ..errors import TsganError
from ..objectives import OBJECTIVES, clip_weights, gradient_penalty, gradient_penalty_mlp, info_loss, r1_penalty
from ..torch_utils import adam
from ..training.schedule import Batch, Phase, Update
from .layers import plain_rnns


@dataclass
class ObjectiveConfig:
    """Config fields every adversarial model shares (a model overrides ``objective``'s default)."""

    objective: str = param("nonsaturating", "adversarial objective", choices=tuple(OBJECTIVES))
    gp_weight: float = param(10.0, "gradient-penalty weight lambda (objective wgan-gp)", within="[0, inf)")
    clip: float = param(0.01, "critic weight clip (objective wgan)", within="(0, inf)")
    r1_weight: float = param(
        0.0, "R1 penalty gamma on the critic's gradient at real data (Mescheder et al. 2018; 0 = off; any objective)", within="[0, inf)"
    )
    r1_every: int = param(
        1, "lazy R1: apply the penalty to one critic update in this many on average, at this many times the weight "
        "(Karras et al. 2020; drawn from the run's generator, so a resumed run repeats)", within="[1, inf)"
    )
    objective_defaults: bool = param(
        True, "with wgan / wgan-gp, use that paper's optimizer and n_critic (RMSProp 5e-5 x5 / Adam 1e-4 (0, 0.9) x5) instead of the model's"
    )
    info_categories: int = param(0, "InfoGAN: categories of the discrete latent code (0 = no discrete code)", within="[0, inf)")
    info_continuous: int = param(0, "InfoGAN: number of continuous latent codes ~ U(-1, 1)", within="[0, inf)")
    info_weight: float = param(1.0, "InfoGAN: lambda, weight of the mutual-information term (paper: 1)", within="[0, inf)")
    info_hidden: int = param(0, "InfoGAN: width of a hidden layer in the Q head (paper: 128; 0 = a linear head, which recovered classes better in our benchmarks)", within="[0, inf)")
    dp_layers: bool = param(False, "build opacus' DP-compatible recurrent layers where real data enters (set by dp_epsilon / dp_noise)")


class SequenceModel(nn.Module):
    """Base class for sequence generators over windows ``(B, T, F)`` scaled to [0, 1]."""

    config_cls: type
    paper: str = ""
    kind = "sequence"  # the data a model learns: sequence, image or table
    recipes: dict = {}  # {"paper" | "tuned": {param: value, "steps": budget}} (tsgan.config.recipe_values)

    def __init__(self, config: Any, n_features: int, seq_len: int, cond_dim: int = 0):
        super().__init__()
        self.config = config
        self.n_features = n_features
        self.seq_len = seq_len
        self.cond_dim = cond_dim  # width of the per-step condition vector (0: unconditional)
        # entity tables (tsgan.models.entity): one-hot feature groups (start, width) the
        # generator's outputs are made categorical on, and whether the conditions' last
        # channel is the step mask (1 where a step exists, 0 on padding)
        self.groups: list[tuple[int, int]] = []
        self.binaries: list[int] = []  # missing indicators: relaxed Bernoulli draws; the value just before each is 0 where it says missing
        self.masked = False

    def finish(self, x: Tensor, cond: Tensor | None, rng: torch.Generator) -> Tensor:
        """Generated windows ``(B, T, F)`` in [0, 1] as the data has them: each one-hot
        group a Gumbel-softmax draw (the sigmoid outputs read as logits), and padded
        steps zero, as in real padded entities."""
        if self.groups or self.binaries:
            x = categorical_groups(x, self.groups, rng, binaries=self.binaries)
        if self.masked:
            x = x * cond[..., -1:].to(x.dtype)
        return x

    def keep_steps(self, y: Tensor, cond: Tensor | None) -> Tensor:
        """Per-step critic outputs ``(B, T, ...)`` at existing steps only (padded steps
        never count in a loss); anything else unchanged."""
        if not self.masked or y.dim() < 2 or cond is None or y.shape[:2] != cond.shape[:2]:
            return y
        return y[cond[..., -1] > 0.5]

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:  # pragma: no cover - abstract
        raise NotImplementedError

    def schedule(self) -> list[Phase]:  # pragma: no cover - abstract
        raise NotImplementedError

    def generate(self, n: int, rng: torch.Generator, cond: Tensor | None = None, codes: Tensor | None = None) -> Tensor:  # pragma: no cover - abstract
        """``n`` synthetic windows ``(n, T, F)`` in the scaled space, given per-step
        conditions ``(n, T, C)`` (conditional models) and InfoGAN ``codes`` (drawn if None)."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


def rnn(cell: str, input_size: int, hidden: int, layers: int = 1, bidirectional: bool = False, dp: bool = False, dropout: float = 0.0) -> nn.Module:
    """A batch-first LSTM or GRU; with ``dp``, opacus' drop-in DPLSTM/DPGRU, whose
    per-sample gradients DP-SGD needs (cuDNN RNNs have none)."""
    if dp:
        try:
            from opacus.layers import DPGRU, DPLSTM
        except ImportError:
            raise TsganError("differentially private training needs opacus: pip install opacus") from None
        cls = {"lstm": DPLSTM, "gru": DPGRU}[cell]
    else:
        cls = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
    return cls(input_size, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional, dropout=dropout)


def categorical_groups(p: Tensor, groups: list[tuple[int, int]], rng: torch.Generator, tau: float = 0.2,
                       binaries: list[int] = ()) -> Tensor:
    """Sigmoid outputs ``p`` with each one-hot group ``(start, width)`` on the last axis
    replaced by a Gumbel-softmax draw (Jang et al. 2017) at temperature ``tau`` over the
    group's logits ``log p / (1 - p)``: near one-hot vectors that keep a gradient, as
    CTGAN's categorical outputs; each feature in ``binaries`` (missing-value flags) a
    relaxed Bernoulli draw with probability ``p`` (Maddison et al. 2017), so a flag set
    in 20 % of the data needs only ``p = 0.2``, not a noise-driven bimodal output, and
    the value just before the flag zeroed where the flag says missing (as the data
    encodes it), so the value output learns observed values only. The noise comes
    from ``rng``."""
    if binaries:
        idx = torch.as_tensor(list(binaries), device=p.device)
        flag = relaxed_bernoulli(torch.logit(p[..., idx].float().clamp(1e-6, 1 - 1e-6)), rng, tau).to(p.dtype)
        # a missing value is encoded 0 beside its flag: the generator's value is kept only where observed
        p = p.index_copy(-1, idx, flag).index_copy(-1, idx - 1, p[..., idx - 1] * (1 - flag))
    parts, at = [], 0
    for start, width in groups:
        parts.append(p[..., at:start])
        logits = torch.logit(p[..., start : start + width].float().clamp(1e-6, 1 - 1e-6))
        u = torch.rand(logits.shape, generator=rng, device=rng.device).to(logits.device).clamp(1e-10, 1 - 1e-10)
        parts.append(torch.softmax((logits - torch.log(-torch.log(u))) / tau, dim=-1).to(p.dtype))
        at = start + width
    parts.append(p[..., at:])
    return torch.cat(parts, dim=-1)


def relaxed_bernoulli(logits: Tensor, rng: torch.Generator, tau: float = 0.2) -> Tensor:
    """A relaxed Bernoulli draw (Maddison et al. 2017) at temperature ``tau``: above 0.5
    exactly with probability ``sigmoid(logits)``, with a gradient. Noise from ``rng``."""
    u = torch.rand(logits.shape, generator=rng, device=rng.device).to(logits.device).clamp(1e-10, 1 - 1e-10)
    return torch.sigmoid((logits + torch.log(u) - torch.log1p(-u)) / tau)


def harden(x: Tensor, kinds: list[tuple[str, int, int]]) -> Tensor:
    """Outputs as the data encodes them: each one-hot group (``"one_hot"``, or DoppelGANger's
    ``"flag"``) ``(kind, start, width)`` at its argmax, each ``"indicator"`` 0 / 1 and the
    number before it 0 where it says missing."""
    x = x.clone()
    for kind, a, w in kinds:
        if kind in ("one_hot", "flag"):
            x[..., a : a + w] = nn.functional.one_hot(x[..., a : a + w].argmax(-1), w).to(x.dtype)
        elif kind == "indicator":
            x[..., a] = (x[..., a] > 0.5).to(x.dtype)
            x[..., a - 1] = x[..., a - 1] * (1 - x[..., a])
    return x


class Controls(nn.Module):
    """What steers a generator besides noise (Mirza & Osindero 2014; Chen et al. 2016).

    * conditions ``(B, T, C)``: extra per-step inputs of the generator and the
      discriminator (a per-sequence label is the same vector at every step);
    * InfoGAN codes ``(B, K + M)``: a one-hot categorical code of ``K`` categories and
      ``M`` continuous codes ~ U(-1, 1), fed to the generator at every step; the Q
      head reads the discriminator's time-pooled features and predicts them.
    """

    def __init__(self, config: ObjectiveConfig, cond_dim: int, feature_dim: int, rows_per_feature: int = 1):
        super().__init__()
        self.cond_dim = cond_dim
        # a critic that reads several samples at once (PacGAN) gives one feature vector
        # per pack: Q then predicts the code of every sample in it
        self.rows = rows_per_feature
        self.n_categories = config.info_categories
        self.n_continuous = config.info_continuous
        self.weight = config.info_weight
        if self.n_categories == 1 or self.n_categories < 0 or self.n_continuous < 0:
            raise TsganError("info_categories must be 0 or at least 2, and info_continuous at least 0")
        # Q on the discriminator's features: linear, or with info_hidden the paper's head
        # (FC 128, leaky ReLU 0.1, FC) without its batch norm, which DP-SGD cannot clip
        # per sample (the linear head is the default: docs/benchmarks.md, bench/LOG.md).
        h = config.info_hidden
        if not self.code_dim:
            self.q = None
        elif h:
            self.q = nn.Sequential(nn.Linear(feature_dim, h), nn.LeakyReLU(0.1), nn.Linear(h, self.code_dim * self.rows))
        else:
            self.q = nn.Linear(feature_dim, self.code_dim * self.rows)

    @property
    def code_dim(self) -> int:
        return self.n_categories + self.n_continuous

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # runs saved before Q read every row of a pack predicted one code per pack:
        # that head, repeated for each row, predicts the same
        last = f"{prefix}q." if isinstance(self.q, nn.Linear) else f"{prefix}q.2."
        for key in (last + "weight", last + "bias"):
            v = state_dict.get(key)
            if v is not None and self.rows > 1 and v.shape[0] == self.code_dim:
                state_dict[key] = v.repeat(self.rows, *([1] * (v.dim() - 1)))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def extra_dim(self) -> int:
        """Extra generator inputs per step: conditions then codes."""
        return self.cond_dim + self.code_dim

    def draw_codes(self, n: int, rng: torch.Generator) -> Tensor | None:
        if not self.code_dim:
            return None
        parts = []
        if self.n_categories:
            k = torch.randint(self.n_categories, (n,), generator=rng, device=rng.device)
            parts.append(torch.nn.functional.one_hot(k, self.n_categories).float())
        if self.n_continuous:
            parts.append(torch.rand(n, self.n_continuous, generator=rng, device=rng.device) * 2 - 1)
        return torch.cat(parts, dim=1)

    def generator_input(self, z: Tensor, cond: Tensor | None, codes: Tensor | None) -> Tensor:
        """Noise with conditions and codes appended on the last axis.

        Sequences: ``z (B, T, Z)``, ``cond (B, T, C)``, codes repeated at every step
        -> ``(B, T, Z + C + K + M)``. Images and tables: ``z (B, Z)``, ``cond (B, C)``
        -> ``(B, Z + C + K + M)``.
        """
        if self.cond_dim and cond is None:
            raise TsganError("this model is conditional: pass condition=... to sample")
        parts = [z]
        if self.cond_dim:
            parts.append(cond)
        if codes is not None:
            codes = codes.to(z.device)  # drawn by a CPU generator when sampling
            parts.append(codes[:, None, :].expand(-1, z.shape[1], -1) if z.dim() == 3 else codes)
        return torch.cat(parts, dim=-1) if len(parts) > 1 else z

    def critic_input(self, x: Tensor, cond: Tensor | None) -> Tensor:
        """The critic sees the conditions too: per step for sequences ``(B, T, F + C)``,
        as constant extra channels for images ``(B, C_img + C, H, W)``, appended for tables."""
        if not self.cond_dim:
            return x
        if x.dim() == 4:
            return torch.cat([x, cond[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])], dim=1)
        return torch.cat([x, cond], dim=-1)

    def info_loss(self, features: Tensor, codes: Tensor) -> Tensor:
        """``lambda * -L_I`` from the discriminator's features of fakes made with ``codes``:
        ``(B, T, H)`` for sequences (pooled over time) or ``(B, H)``; ``(B / rows, H)``
        for a critic that packs ``rows`` consecutive samples, with ``codes (B, K + M)``."""
        out = self.q(features.mean(1) if features.dim() == 3 else features).reshape(len(codes), self.code_dim)
        k = self.n_categories
        return info_loss(
            out[:, :k] if k else None, codes[:, :k].argmax(1) if k else None,
            out[:, k:] if self.n_continuous else None, codes[:, k:] if self.n_continuous else None,
            self.weight,
        )


class Adversary:
    """The adversarial terms of a model for one named objective (objectives.py).

    Models call ``d_loss``/``g_loss`` and attach ``after_d_step``; nothing in a model
    branches on the objective's name. ``critic(x, cond)`` scores inputs under
    per-step conditions (None for unconditional models); the gradient penalty
    interpolates ``x`` only, conditions held fixed.
    """

    def __init__(self, config: ObjectiveConfig, critic: Callable[[Tensor, Tensor | None], Tensor], critic_params,
                 split: tuple[nn.Linear, Callable[[Tensor], Tensor]] | None = None):
        self.objective = OBJECTIVES[config.objective]
        self.critic = critic
        self.split = split  # (first linear layer, the rest) of an MLP critic: WGAN-GP by gradient_penalty_mlp
        self.critic_params = list(critic_params)
        self.gp_weight = config.gp_weight
        self.clip = config.clip
        self.r1_weight = config.r1_weight
        self.r1_every = config.r1_every

    @property
    def double_backward(self) -> bool:
        """Whether the critic loss differentiates a gradient (WGAN-GP's penalty, R1)."""
        return self.objective.gradient_penalty or self.r1_weight > 0

    def check_private(self) -> None:
        """DP-SGD's per-sample gradients have no double backward: refuse the penalties."""
        if self.double_backward:
            raise TsganError(
                "gradient penalties (wgan-gp, r1_weight) need double backward, which DP-SGD's per-sample gradients lack: "
                "choose --objective nonsaturating, minimax, hinge or wgan and r1_weight=0 with --dp-epsilon"
            )

    def d_loss(self, real: Tensor, fake: Tensor, rng: torch.Generator, cond: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """Critic loss on real and (detached) fake inputs, plus the gradient penalty if any."""
        gp = None
        if self.split is not None and self.objective.gradient_penalty and cond is None:
            d_real, d_fake, gp = gradient_penalty_mlp(*self.split, real, fake, self.gp_weight, rng)
        else:
            d_real, d_fake = self.critic(real, cond), self.critic(fake.detach(), cond)
        loss, logs = self.add_penalty(self.objective.d_loss(d_real, d_fake), real, fake, rng, cond, gp=gp)
        # the critic's gap E D(x) - E D(G(z)): WGAN's estimate of the Wasserstein distance
        return loss, {**logs, "gap": (d_real.mean() - d_fake.mean()).detach()}

    def add_penalty(
        self, loss: Tensor, real: Tensor, fake: Tensor, rng: torch.Generator, cond: Tensor | None = None, gp: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss`` plus the objective's gradient penalty (``gp`` when already taken) and
        the R1 penalty (if on), and the logs."""
        logs = {}
        if not self.double_backward:
            return loss, logs
        with _double_backward_safe(real):
            if self.objective.gradient_penalty:
                if gp is None:
                    gp = gradient_penalty(lambda v: self.critic(v, cond), real, fake, self.gp_weight, rng)
                loss, logs["gp"] = loss + gp, gp.detach()
            if self.r1_weight > 0 and self.r1_due(rng):
                r1 = r1_penalty(lambda v: self.critic(v, cond), real, self.r1_weight * self.r1_every)
                loss, logs["r1"] = loss + r1, r1.detach()
        return loss, logs

    def r1_due(self, rng: torch.Generator) -> bool:
        """Whether this critic update carries the (lazy) R1 penalty: always when
        ``r1_every`` is 1, else with probability ``1 / r1_every`` (an unbiased
        estimate of the penalty at a fraction of its double-backward cost)."""
        if self.r1_every == 1:
            return True
        return torch.rand((), generator=rng, device=rng.device).item() * self.r1_every < 1.0

    def optimizer(self, params, fallback: Callable[[], torch.optim.Optimizer], use_paper: bool) -> torch.optim.Optimizer:
        """The objective's paper optimizer over ``params`` if it has one and ``use_paper``, else ``fallback()``."""
        spec = self.objective.optimizer
        if spec is None or not use_paper:
            return fallback()
        kw = {k: v for k, v in spec.items() if k != "name"}
        return {"adam": adam, "rmsprop": torch.optim.RMSprop}[spec["name"]](params, **kw)

    def critic_repeats(self, model_default: int, use_paper: bool) -> int:
        return self.objective.n_critic if (use_paper and self.objective.n_critic) else model_default

    def g_loss(self, fake: Tensor, cond: Tensor | None = None) -> Tensor:
        return self.objective.g_loss(self.critic(fake, cond))

    @property
    def after_d_step(self) -> Callable[[], None] | None:
        if not self.objective.clip_weights:
            return None
        return lambda: clip_weights(self.critic_params, self.clip)


class _double_backward_safe:
    """cuDNN RNNs and the fused CPU GRU have no double backward: compute the penalty
    with cuDNN off and PyTorch's own RNN modules."""

    def __init__(self, x: Tensor):
        self.on_cuda = x.is_cuda
        self._plain = plain_rnns()

    def __enter__(self):
        self._plain.__enter__()
        if self.on_cuda:
            self._ctx = torch.backends.cudnn.flags(enabled=False)
            self._ctx.__enter__()

    def __exit__(self, *exc):
        if self.on_cuda:
            self._ctx.__exit__(*exc)
        self._plain.__exit__(*exc)


class TwoPlayerGAN(nn.Module):
    """A generator/discriminator pair trained on ``config.objective``, for any data shape.

    Subclasses build ``self.generator`` (input: noise plus ``controls.extra_dim``
    on the last axis) and ``self.discriminator`` (input: ``controls.critic_input``,
    with ``features(x)`` before the last layer), then call ``init_adversary(H)``
    with the feature width; they define ``noise`` and set ``cond_dim``. Generation, the losses (with the InfoGAN term when codes are on)
    and the alternating schedule (``d_rounds`` critic updates, then ``g_rounds``
    generator updates) live here.
    """

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def init_adversary(self, feature_dim: int, rows_per_feature: int = 1) -> None:
        c = self.config
        self.controls = Controls(c, self.cond_dim, feature_dim, rows_per_feature)
        self.adversary = Adversary(c, self.critic, self.discriminator.parameters())

    def critic(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        y = self.discriminator(self.controls.critic_input(x, cond))
        return self.keep_steps(y, cond) if isinstance(self, SequenceModel) else y

    def noise(self, n: int, rng: torch.Generator) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def dp_targets(self) -> dict[str, list[nn.Module]]:
        """What DP-SGD must privatise: the discriminator (and Q) read real data; the
        generator learns only through them (post-processing)."""
        self.adversary.check_private()
        return {"d": [self.discriminator, *([self.controls] if self.controls.q is not None else [])]}

    def generate(self, n: int, rng: torch.Generator, cond: Tensor | None = None, codes: Tensor | None = None) -> Tensor:
        if codes is None:
            codes = self.controls.draw_codes(n, rng)
        x = self.decode(self.controls.generator_input(self.noise(n, rng), cond, codes), rng)
        return self.finish(x, cond, rng) if isinstance(self, SequenceModel) else x

    def decode(self, z: Tensor, rng: torch.Generator) -> Tensor:
        """The generator's windows for its input ``z`` (noise with conditions and codes)."""
        return self.generator(z)

    def fake(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        """Fakes under the batch's conditions, and the codes they were made with."""
        n = batch.x.shape[0]
        codes = self.controls.draw_codes(n, batch.rng)
        return self.generate(n, batch.rng, batch.cond, codes), codes

    def with_info(self, loss: Tensor, logs: dict, fake: Tensor, cond: Tensor | None, codes: Tensor | None):
        """Add InfoGAN's ``lambda * -L_I`` on ``fake`` when the model has latent codes."""
        if codes is None:
            return loss, logs
        mi = self.controls.info_loss(self.info_features(fake, cond), codes)
        return loss + mi, {**logs, "info": mi.detach()}

    def info_features(self, fake: Tensor, cond: Tensor | None) -> Tensor:
        """The discriminator's features of ``fake``, which the Q head reads."""
        return self.discriminator.features(self.controls.critic_input(fake, cond))

    def d_loss(self, batch: Batch):
        fake, codes = self.fake(batch)
        loss, logs = self.adversary.d_loss(batch.x, fake, batch.rng, batch.cond)
        return self.with_info(loss, logs, fake.detach(), batch.cond, codes)

    def g_loss(self, batch: Batch):
        fake, codes = self.fake(batch)
        return self.with_info(self.adversary.g_loss(fake, batch.cond), {}, fake, batch.cond, codes)

    def model_optimizers(self, d_params: list, g_params: list) -> dict[str, torch.optim.Optimizer]:  # pragma: no cover - abstract
        """The paper's own optimizers over the given parameters, keys "d" and "g"."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        d_params = [*self.discriminator.parameters(), *self.controls.parameters()]  # Q shares D's body
        g_params = list(self.generator.parameters())
        own = self.model_optimizers(d_params, g_params)
        use = self.config.objective_defaults
        return {
            "d": self.adversary.optimizer(d_params, lambda: own["d"], use),
            "g": self.adversary.optimizer(g_params, lambda: own["g"], use),
        }

    def schedule(self) -> list[Phase]:
        c = self.config
        d_rounds = self.adversary.critic_repeats(getattr(c, "d_rounds", 1), c.objective_defaults)
        return [
            Phase(
                "adversarial",
                [
                    Update("d", "d", self.d_loss, repeat=d_rounds, after_step=self.adversary.after_d_step),
                    Update("g", "g", self.g_loss, repeat=getattr(c, "g_rounds", 1)),
                ],
            )
        ]


class RecurrentGAN(TwoPlayerGAN, SequenceModel):
    """A two-player GAN over windows ``(B, T, F)`` (RCGAN, C-RNN-GAN)."""
