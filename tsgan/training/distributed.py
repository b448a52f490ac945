"""Training one model on several processes: torchrun, torch.distributed, DDP's gradients.

``torchrun --nproc-per-node N --no-python tsgan fit DATA ...`` starts N copies of the
command with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``MASTER_ADDR`` set; the first
call of :func:`world` starts the process group from them (gloo on the CPU, NCCL on
CUDA; each rank takes its ``LOCAL_RANK`` GPU), or joins the one the caller started
(``torch.distributed.init_process_group`` before ``Synthesizer.fit``). Without either,
everything runs as one process.

What the :class:`Distributed` callback does is what ``DistributedDataParallel`` does
for a module, done at the optimizers because a GAN is several modules with several
optimizers, some updates skipped and gradients that differentiate gradients (WGAN-GP,
R1): before every optimizer step the gradients of its parameters are averaged over
the ranks in one all-reduce, so every rank takes the same step and keeps identical
weights (the start is rank 0's weights, broadcast). Each rank draws its batches from
its own share of the records (every ``size``-th one from ``rank``) with its own random
stream, so a step sees ``size`` different batches: the global batch is
``size x`` the per-rank batch. Decisions that read a loss (a discriminator gate, a
freezing rule) use the mean over ranks (:func:`tsgan.torch_utils.mean_over_ranks`); a stop
(the wall clock, Ctrl-C) on any rank stops every rank at the same step.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import TsganError
from ..torch_utils import mean_over_ranks  # noqa: F401  (models read it from torch_utils)
from .callbacks import Callback


REASONS = ("time", "interrupted", "nonfinite")  # why a callback stops training, least to most urgent


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def active(self) -> bool:
        return self.size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def agree_on(self, value: int) -> int:
        """Rank 0's ``value`` on every rank."""
        t = torch.tensor([int(value)], device=f"cuda:{torch.cuda.current_device()}" if self.backend == "nccl" else "cpu")
        torch.distributed.broadcast(t, 0)
        return int(t)


def _initialized() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def world(device: str | torch.device | None = None) -> World:
    """The process group this process belongs to: the caller's, torchrun's (started
    here on first use), or none (one process)."""
    dist = torch.distributed
    if not _initialized():
        size = int(os.environ.get("WORLD_SIZE", "1"))
        if size <= 1:
            return World()
        if not dist.is_available():
            raise TsganError("this PyTorch build has no torch.distributed: run without torchrun")
        cuda = device is not None and str(device).startswith("cuda") or (str(device) == "auto" and torch.cuda.is_available())
        backend = "nccl" if cuda else "gloo"
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
        atexit.register(_close)  # started here: ended here, once every rank is done
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())), dist.get_backend())


def _close() -> None:
    """At exit, the process group tsgan started: a barrier first, so no rank tears down
    its connections while another still uses them (gloo aborts the other then)."""
    if _initialized():
        try:
            torch.distributed.barrier()
        finally:
            torch.distributed.destroy_process_group()


def rank_device(device: str, w: World) -> str:
    """Under several processes on CUDA, each rank's own GPU (``LOCAL_RANK``)."""
    if w.active and (device == "cuda" or (device == "auto" and torch.cuda.is_available())):
        return f"cuda:{w.local_rank}"
    return device


def per_rank_batch(batch_size: int, w: World) -> int:
    """The per-rank share of a global batch (``--batch-size`` is global)."""
    if not w.active:
        return batch_size
    if batch_size % w.size:
        raise TsganError(f"--batch-size {batch_size} is the global batch: it must divide among the {w.size} processes "
                         f"(e.g. --batch-size {max(w.size, batch_size // w.size * w.size)})")
    return batch_size // w.size


class Distributed(Callback):
    """Gradients averaged over the ranks before every optimizer step, rank 0's weights
    at the start and the end, stops agreed, one random stream per rank."""

    name = "distributed"

    def __init__(self, w: World):
        self.world = w
        self.weight_gap: float | None = None
        self.seed = 0
        self._buffers: list[Tensor] = []

    def wrap_optimizers(self, optimizers: dict[str, torch.optim.Optimizer], rng: torch.Generator) -> dict[str, torch.optim.Optimizer]:
        self.seed = rng.initial_seed()
        for opt in optimizers.values():
            opt.register_step_pre_hook(self._average)
        return optimizers

    def _average(self, opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        params = [p for g in opt.param_groups for p in g["params"] if p.grad is not None]
        if not params:
            return
        flat = torch.cat([p.grad.reshape(-1) for p in params])
        torch.distributed.all_reduce(flat)
        flat /= self.world.size
        at = 0
        for p in params:
            n = p.grad.numel()
            p.grad.copy_(flat[at : at + n].view_as(p.grad))
            at += n

    def _broadcast(self, model: torch.nn.Module) -> None:
        with torch.no_grad():
            for t in model.state_dict().values():
                if torch.is_tensor(t) and t.numel():
                    torch.distributed.broadcast(t, 0)

    def on_start(self, run) -> None:
        if self.world.rank:  # its own batches and noise; rank 0 keeps the stream a checkpoint saves, the others derive theirs
            run.rng.manual_seed(self.seed + 7919 * self.world.rank + 104729 * run.step)
        self._broadcast(run.model)
        self._buffers = [b for b in run.model.buffers() if b.is_floating_point() and b.numel()]

    def after_step(self, run, phase: str, done: int, last: bool) -> None:
        """Buffers (batch norm's running statistics) are rank 0's after every step, as
        DistributedDataParallel's ``broadcast_buffers`` keeps them."""
        if self._buffers:
            flat = torch.cat([b.reshape(-1) for b in self._buffers])
            torch.distributed.broadcast(flat, 0)
            at = 0
            for b in self._buffers:
                b.copy_(flat[at : at + b.numel()].view_as(b))
                at += b.numel()
        return None

    def prepare_data(self, data: Any, batch_size: int) -> tuple[Any, int]:
        if not hasattr(data, "shard"):
            raise TsganError(f"{type(data).__name__} data cannot be shared among processes: run it in one process")
        return data.shard(self.world.rank, self.world.size), per_rank_batch(batch_size, self.world)

    def agree(self, reason: str | None) -> str | None:
        """A stop on any rank is a stop on all, for the reason that ranks first in ``REASONS``."""
        code = torch.tensor([REASONS.index(reason) + 1 if reason in REASONS else (0 if reason is None else len(REASONS))],
                            device=f"cuda:{torch.cuda.current_device()}" if self.world.backend == "nccl" else "cpu")
        torch.distributed.all_reduce(code, op=torch.distributed.ReduceOp.MAX)
        return None if int(code) == 0 else REASONS[int(code) - 1]

    def on_end(self, run) -> None:
        """Check the promise: the largest weight difference from rank 0's over all ranks (0.0)."""
        flat = torch.cat([t.detach().reshape(-1).float() for t in run.model.state_dict().values() if torch.is_tensor(t)])
        ref = flat.clone()
        torch.distributed.broadcast(ref, 0)
        gap = (flat - ref).abs().max() if flat.numel() else flat.new_zeros(())
        torch.distributed.all_reduce(gap, op=torch.distributed.ReduceOp.MAX)
        self.weight_gap = float(gap)

    def finish(self, model: torch.nn.Module) -> None:
        """After averaging and checkpoint selection: rank 0's final weights on every rank."""
        self._broadcast(model)
