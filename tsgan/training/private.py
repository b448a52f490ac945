"""Differentially private training with opacus (DP-SGD; Abadi et al. 2016).

Only the updates that read real data get DP-SGD: a model names them in
``dp_targets()`` as ``{optimizer key: [modules]}`` (for a two-player GAN, the
discriminator and the InfoGAN Q head; for an autoencoding GAN also the updates of the
networks that encode and decode real data). The generator learns only through the private networks, so it
inherits the guarantee by post-processing. Every private step of every such
optimizer is one Poisson-sampled Gaussian mechanism in the accountant.

Mechanics: per-sample gradients by opacus' ``GradSampleModule`` hooks (recurrent
layers are opacus' DP-compatible ``DPLSTM``/``DPGRU``, built when the config has
``dp_layers``), clipped to ``max_grad_norm`` and noised by ``DPOptimizer``; batches
are Poisson-sampled (each window in a batch with probability ``batch / windows``),
as the RDP accountant assumes; the accountant records the epsilon actually spent.
The unit of privacy is one training window: with ``stride < seq_len`` a time step
lies in up to ``ceil(seq_len / stride)`` windows, and group privacy multiplies
the guarantee for a single row accordingly (recorded as ``windows_per_row``).
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import TsganError
from .callbacks import Callback
from .schedule import split_steps


@dataclass
class DPSettings:
    epsilon: float | None = None  # target epsilon (noise multiplier derived), or
    noise_multiplier: float | None = None  # a given noise multiplier (epsilon reported)
    delta: float | None = None  # default 1 / (10 * windows), below 1 / windows
    max_grad_norm: float = 1.0
    
    def validate(self) -> None:
        if (self.epsilon is None) == (self.noise_multiplier is None):
            raise TsganError("differential privacy needs exactly one of dp_epsilon (--dp-epsilon) or dp_noise (--param dp_noise)")
        if self.epsilon is not None and self.epsilon <= 0:
            raise TsganError(f"--dp-epsilon must be positive (got {self.epsilon})")
        if self.noise_multiplier is not None and self.noise_multiplier <= 0:
            raise TsganError(f"dp_noise must be positive (got {self.noise_multiplier}): e.g. --param dp_noise=1")
        if self.delta is not None and not 0 < self.delta < 1:
            raise TsganError(f"dp_delta must be in (0, 1) (got {self.delta}): e.g. --param dp_delta=1e-5")
        if self.max_grad_norm <= 0:
            raise TsganError(f"dp_max_grad_norm must be positive (got {self.max_grad_norm}): e.g. --param dp_max_grad_norm=1")


def private_step_count(phases, steps: int, private: set[str]) -> int:
    """How many DP-SGD steps a run of ``steps`` makes: per phase, its share of the
    steps times the updates (with repeats) whose optimizer is private."""
    counts = split_steps(phases, steps)
    return sum(n * sum(u.repeat for u in p.updates if u.optimizer in private) for p, n in zip(phases, counts))


class PrivateTraining(Callback):
    """Turns a model's real-data optimizers into DP optimizers and keeps the accountant."""

    name = "dp"

    def __init__(self, settings: DPSettings, model, n_windows: int, batch_size: int, steps: int, seq_len: int, stride: int,
                 unit: str = "window"):
        try:
            from opacus import GradSampleModule
            from opacus.accountants import RDPAccountant
            from opacus.accountants.utils import get_noise_multiplier
        except ImportError:
            raise TsganError("differentially private training needs opacus: pip install opacus") from None
        targets = getattr(model, "dp_targets", None)
        if targets is None:
            raise TsganError(f"{type(model).__name__} does not support differentially private training: drop --dp-epsilon (dp_epsilon)")
        self.targets = targets()  # {optimizer key: [modules]}, raises if the config rules DP out
        self.settings, self.unit = settings, unit  # what one privacy unit is: a window, an entity, a row, an image
        self.sample_rate = min(1.0, batch_size / n_windows)
        self.batch_size = batch_size
        self.delta = settings.delta if settings.delta is not None else 1.0 / (10 * n_windows)
        self.private_steps = private_step_count(model.schedule(), steps, set(self.targets))
        if settings.noise_multiplier is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.noise = get_noise_multiplier(
                    target_epsilon=settings.epsilon, target_delta=self.delta, sample_rate=self.sample_rate,
                    steps=self.private_steps, accountant="rdp",
                )
        else:
            self.noise = settings.noise_multiplier
        self.accountant = RDPAccountant()
        modules = {id(m): m for ms in self.targets.values() for m in ms}  # a network may serve several updates
        self.wrappers = {k: GradSampleModule(m, loss_reduction="mean") for k, m in modules.items()}
        self.windows_per_row = math.ceil(seq_len / stride)

    def wrap_optimizers(self, optimizers: dict[str, torch.optim.Optimizer], rng: torch.Generator) -> dict[str, torch.optim.Optimizer]:
        from opacus.optimizers import DPOptimizer

        out = dict(optimizers)
        for key in self.targets:
            opt = DPOptimizer(
                optimizers[key], noise_multiplier=self.noise, max_grad_norm=self.settings.max_grad_norm,
                expected_batch_size=self.batch_size, loss_reduction="mean", generator=rng,
            )
            opt.attach_step_hook(self.accountant.get_optimizer_hook_fn(sample_rate=self.sample_rate))
            out[key] = opt
        return out

    @contextmanager
    def update_context(self, key: str):
        """Per-sample gradient hooks on for the networks of update ``key`` only: the
        others may run in it (frozen, or as the generator's path) and need none."""
        active = {id(m) for m in self.targets.get(key, [])}
        for k, w in self.wrappers.items():
            w.enable_hooks() if k in active else w.disable_hooks()
        try:
            yield
        finally:
            for w in self.wrappers.values():
                w.enable_hooks()

    def on_end(self, run) -> None:
        self.spent = self.close()

    def close(self) -> dict[str, Any]:
        """Remove the hooks; the privacy spent."""
        for w in self.wrappers.values():
            w._close()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eps = self.accountant.get_epsilon(self.delta) if self.accountant.history else 0.0
        return {
            "epsilon": float(eps),
            "delta": float(self.delta),
            "target_epsilon": self.settings.epsilon,
            "noise_multiplier": float(self.noise),
            "max_grad_norm": self.settings.max_grad_norm,
            "sample_rate": self.sample_rate,
            "private_steps": int(sum(n for _, _, n in self.accountant.history)) if self.accountant.history else 0,
            "unit": self.unit,
            "windows_per_row": self.windows_per_row,
            "accountant": "rdp (opacus)",
        }
