"""The model contract: what a model declares and the loop runs.

A model is an ``nn.Module`` with ``optimizers() -> {key: Optimizer}`` and
``schedule() -> [Phase]``. A phase is a block of steps; each step runs the phase's
updates in order; an update is one optimizer step on one loss. Models import this
module and nothing else from :mod:`tsgan.training`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

import torch
from torch import Tensor

# A loss function returns the tensor to minimise, optionally with extra scalars to
# log, or None to skip this update (e.g. a discriminator gated while it is winning).
LossOutput = Optional[Union[Tensor, tuple[Tensor, dict[str, Tensor]]]]


@dataclass
class Batch:
    """What a loss function sees: a fresh real batch and the run's random generator."""

    x: Tensor  # (B, T, F) real windows (images: (B, C, H, W); tables: (B, width)), scaled, on the run's device
    rng: torch.Generator  # draw all noise from this (on the same device as x)
    cond: Optional[Tensor] = None  # conditions of these records: (B, T, C) per step for sequences, (B, C) otherwise


@dataclass
class Update:
    """One optimizer step on one loss, repeated ``repeat`` times on fresh batches
    (or, with ``same_batch``, on the real batch of the update before it)."""

    name: str  # prefix in the history table, e.g. "d" -> "d/loss"
    optimizer: str  # key into the model's optimizers()
    loss: Callable[[Batch], LossOutput]
    repeat: int = 1
    after_step: Optional[Callable[[], None]] = None  # e.g. WGAN weight clipping
    same_batch: bool = False  # reuse the previous update's real batch (two updates on one batch)


@dataclass
class Phase:
    """A block of training steps; each step runs every update once, in order."""

    name: str
    updates: list[Update]
    weight: float = 1.0  # share of the run's step budget


def split_steps(phases: list[Phase], steps: int) -> list[int]:
    """Share ``steps`` between phases by weight (every phase gets at least one step)."""
    total = sum(p.weight for p in phases)
    counts = [max(1, round(steps * p.weight / total)) for p in phases]
    counts[-1] = max(1, steps - sum(counts[:-1]))
    return counts
