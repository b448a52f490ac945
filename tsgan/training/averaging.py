"""Weight averaging: sample from an exponential moving average of the weights.

Simultaneous gradient play circles around an equilibrium instead of settling on it,
so the last iterate of a GAN is a poor sample of where training has been; the
moving average of the iterates is much closer (Yazici et al., "The Unusual
Effectiveness of Averaging in GAN Training", ICLR 2019; the generator EMA of
ProGAN, StyleGAN and BigGAN).

:class:`WeightAverage` keeps ``shadow = decay * shadow + (1 - decay) * weights``
after every step of the last training phase, starting from that phase's first
weights, over every floating-point tensor of the model's state (integer buffers are
copied). Training itself never sees the average: it only changes which weights are
sampled from. With DP-SGD the average is post-processing of the private iterates,
so it spends no privacy.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch

from ..errors import TsganError
from ..torch_utils import snapshot
from .callbacks import Callback


def check_decay(decay: float) -> float:
    if not 0.0 < decay < 1.0:
        raise TsganError(f"ema must be between 0 and 1, e.g. --param ema=0.999 (got {decay})")
    return decay


class WeightAverage(Callback):
    """``train(..., callbacks=[average])``; then ``average.apply()`` (or
    ``with average.swapped(): ...`` to look at the averaged model for a while)."""

    name = "ema"

    def __init__(self, model: torch.nn.Module, decay: float, phase: str):
        self.model, self.decay, self.phase = model, check_decay(decay), phase
        self.shadow: dict[str, torch.Tensor] | None = None
        self.updates = 0

    @torch.no_grad()
    def after_step(self, run, phase: str, done: int, last: bool) -> None:
        if phase != self.phase:
            return None
        if self.shadow is None:
            self.shadow = snapshot(self.model)
        else:
            state = self.model.state_dict()
            floats = [k for k, v in state.items() if v.dtype.is_floating_point]
            torch._foreach_lerp_([self.shadow[k] for k in floats], [state[k].detach() for k in floats], 1.0 - self.decay)
            for k, v in state.items():
                if not v.dtype.is_floating_point:
                    self.shadow[k].copy_(v)
        self.updates += 1
        return None

    def state_dict(self) -> dict:
        """What a resumed run needs (``train(..., resume=...)``)."""
        return {"shadow": self.shadow, "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        here = self.model.state_dict()
        shadow = state["shadow"]
        self.shadow = None if shadow is None else {k: v.to(here[k].device) for k, v in shadow.items()}
        self.updates = state["updates"]

    @contextmanager
    def swapped(self) -> Iterator[None]:
        """The averaged weights in the model inside the block, the trained ones after."""
        if self.shadow is None:
            yield
            return
        raw = snapshot(self.model)
        self.model.load_state_dict(self.shadow)
        try:
            yield
        finally:
            self.model.load_state_dict(raw)

    def apply(self) -> dict:
        """Load the averaged weights into the model for good; :meth:`record`."""
        if self.shadow is not None:
            self.model.load_state_dict(self.shadow)
        return self.record()

    def record(self) -> dict:
        """What train_info keeps: the decay, the phase, how many steps were averaged."""
        out = {"decay": self.decay, "phase": self.phase, "updates": self.updates}
        if self.shadow is None:
            out["note"] = f"no average: training stopped before its '{self.phase}' phase; the last weights are kept"
        return out
