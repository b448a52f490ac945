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
from ..objectives import OBJECTIVES, clip_weights, gradient_penalty
from ..train import Batch, Phase, Update


@dataclass
class ObjectiveConfig:
    """Config fields every adversarial model shares (a model overrides ``objective``'s default)."""

    objective: str = param("nonsaturating", "adversarial objective", choices=tuple(OBJECTIVES))
    gp_weight: float = param(10.0, "gradient-penalty weight lambda (objective wgan-gp)")
    clip: float = param(0.01, "critic weight clip (objective wgan)")
    objective_defaults: bool = param(
        True, "with wgan / wgan-gp, use that paper's optimizer and n_critic (RMSProp 5e-5 x5 / Adam 1e-4 (0, 0.9) x5) instead of the model's"
    )


class SequenceModel(nn.Module):
    """Base class for sequence generators over windows ``(B, T, F)`` scaled to [0, 1]."""

    config_cls: type
    paper: str = ""

    def __init__(self, config: Any, n_features: int, seq_len: int):
        super().__init__()
        self.config = config
        self.n_features = n_features
        self.seq_len = seq_len

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:  # pragma: no cover - abstract
        raise NotImplementedError

    def schedule(self) -> list[Phase]:  # pragma: no cover - abstract
        raise NotImplementedError

    def generate(self, n: int, rng: torch.Generator) -> Tensor:  # pragma: no cover - abstract
        """``n`` synthetic windows ``(n, T, F)`` in the scaled space."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


def rnn(cell: str, input_size: int, hidden: int, layers: int = 1, bidirectional: bool = False) -> nn.RNNBase:
    """A batch-first LSTM or GRU."""
    cls = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
    return cls(input_size, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)


class Adversary:
    """The adversarial terms of a model for one named objective (objectives.py).

    Models call ``d_loss``/``g_loss`` and attach ``after_d_step``; nothing in a model
    branches on the objective's name.
    """

    def __init__(self, objective: str, critic: Callable[[Tensor], Tensor], critic_params, gp_weight: float, clip: float):
        self.objective = OBJECTIVES[objective]
        self.critic = critic
        self.critic_params = list(critic_params)
        self.gp_weight = gp_weight
        self.clip = clip

    def d_loss(self, real: Tensor, fake: Tensor, rng: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        """Critic loss on real and (detached) fake inputs, plus the gradient penalty if any."""
        loss = self.objective.d_loss(self.critic(real), self.critic(fake.detach()))
        return self.add_penalty(loss, real, fake, rng)

    def add_penalty(self, loss: Tensor, real: Tensor, fake: Tensor, rng: torch.Generator) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss`` plus the objective's gradient penalty (if it has one), and the logs."""
        if not self.objective.gradient_penalty:
            return loss, {}
        with _cudnn_double_backward_safe(real):
            gp = gradient_penalty(self.critic, real, fake, self.gp_weight, rng)
        return loss + gp, {"gp": gp.detach()}

    def optimizer(self, params, fallback: Callable[[], torch.optim.Optimizer], use_paper: bool) -> torch.optim.Optimizer:
        """The objective's paper optimizer over ``params`` if it has one and ``use_paper``, else ``fallback()``."""
        spec = self.objective.optimizer
        if spec is None or not use_paper:
            return fallback()
        kw = {k: v for k, v in spec.items() if k != "name"}
        return {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}[spec["name"]](params, **kw)

    def critic_repeats(self, model_default: int, use_paper: bool) -> int:
        return self.objective.n_critic if (use_paper and self.objective.n_critic) else model_default

    def g_loss(self, fake: Tensor) -> Tensor:
        return self.objective.g_loss(self.critic(fake))

    @property
    def after_d_step(self) -> Callable[[], None] | None:
        if not self.objective.clip_weights:
            return None
        return lambda: clip_weights(self.critic_params, self.clip)


class _cudnn_double_backward_safe:
    """cuDNN RNNs have no double backward: compute the penalty with cuDNN off."""

    def __init__(self, x: Tensor):
        self.on_cuda = x.is_cuda

    def __enter__(self):
        if self.on_cuda:
            self._ctx = torch.backends.cudnn.flags(enabled=False)
            self._ctx.__enter__()

    def __exit__(self, *exc):
        if self.on_cuda:
            self._ctx.__exit__(*exc)


class RecurrentGAN(SequenceModel):
    """A generator/discriminator pair trained on ``config.objective``.

    Subclasses build ``self.generator`` and ``self.discriminator`` and define
    ``noise``; ``generate``, the two losses and the alternating schedule
    (``d_rounds`` critic updates, then ``g_rounds`` generator updates) live here.
    """

    def init_adversary(self) -> None:
        c = self.config
        self.adversary = Adversary(c.objective, self.discriminator, self.discriminator.parameters(), c.gp_weight, c.clip)

    def noise(self, n: int, rng: torch.Generator) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def generate(self, n: int, rng: torch.Generator) -> Tensor:
        return self.generator(self.noise(n, rng))

    def d_loss(self, batch: Batch):
        fake = self.generate(batch.x.shape[0], batch.rng)
        return self.adversary.d_loss(batch.x, fake, batch.rng)

    def g_loss(self, batch: Batch):
        return self.adversary.g_loss(self.generate(batch.x.shape[0], batch.rng))

    def model_optimizers(self) -> dict[str, torch.optim.Optimizer]:  # pragma: no cover - abstract
        """The paper's own optimizers, keys "d" and "g"."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        own = self.model_optimizers()
        use = self.config.objective_defaults
        return {
            "d": self.adversary.optimizer(self.discriminator.parameters(), lambda: own["d"], use),
            "g": self.adversary.optimizer(self.generator.parameters(), lambda: own["g"], use),
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
