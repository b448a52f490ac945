"""What plugs into the loop besides the model: each cross-cutting feature is a
:class:`Callback` with its own state, instead of a keyword of :func:`train`.

Here: the wall clock, Ctrl-C, learning-rate decay and periodic checkpoints. Weight
averaging (:mod:`.averaging`), checkpoint selection (:mod:`.selection`) and DP-SGD
(:mod:`.private`) are callbacks too.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Callable, ContextManager

import numpy as np
import pandas as pd
import torch

from ..errors import TsganError

if TYPE_CHECKING:  # pragma: no cover
    from .loop import Run
    from .schedule import Phase


class Callback:
    """Hooks :func:`tsgan.training.train` calls, in the order the callbacks were given.
    Every hook is optional. A callback with state for a resumed run returns it from
    :meth:`state_dict` (tensors, numbers, strings, lists and dicts only) under its
    ``name``."""

    name = "callback"

    def wrap_optimizers(self, optimizers: dict[str, torch.optim.Optimizer], rng: torch.Generator) -> dict[str, torch.optim.Optimizer]:
        return optimizers

    def prepare_data(self, data: Any, batch_size: int) -> tuple[Any, int]:
        """The training data (before it goes to the device) and the batch size this
        process trains with (several processes: its share)."""
        return data, batch_size

    def on_start(self, run: "Run") -> None:
        """Before the first step (of this part, for a resumed run)."""

    def stop_reason(self, run: "Run") -> str | None:
        """Why training should stop now (e.g. "time"), or None to go on."""
        return None

    def agree(self, reason: str | None) -> str | None:
        """The stop every process takes, given this one's (several processes must agree)."""
        return reason

    def before_step(self, run: "Run", phase: "Phase", n_steps: int) -> None:
        """Before each step of ``phase`` (``n_steps`` long)."""

    def update_context(self, optimizer: str) -> ContextManager:
        """The context one update of ``optimizer`` runs in."""
        return nullcontext()

    def after_step(self, run: "Run", phase: str, done: int, last: bool) -> dict[str, float] | None:
        """After each step (``done`` steps into ``phase``; ``last``: the phase's final
        step, or the run's when it is about to stop). What it returns is logged."""
        return None

    def after_logged(self, run: "Run") -> None:
        """After the step's history row is queued."""

    def on_end(self, run: "Run") -> None:
        """After the last step, also when a step raised."""

    def state_dict(self) -> dict[str, Any] | None:
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class WallClock(Callback):
    """Stop after ``minutes`` of training (a resumed run counts its earlier parts)."""

    name = "clock"

    def __init__(self, minutes: float):
        if not minutes > 0:
            raise TsganError(f"max_minutes must be positive (got {minutes}): e.g. --max-minutes 10")
        self.seconds = 60.0 * minutes

    def stop_reason(self, run: "Run") -> str | None:
        return "time" if run.seconds() > self.seconds else None


class Interrupt(Callback):
    """The first Ctrl-C (SIGINT) ends training after the step under way, as the clock
    does: the run is kept, with its averaging and checkpoint selection. A second one
    aborts as usual. The handler is in place only while training runs, and only in
    the main thread (elsewhere Ctrl-C is not caught)."""

    name = "interrupt"

    def __init__(self):
        self.event = threading.Event()
        self._installed, self._previous = False, None

    def on_start(self, run: "Run") -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous = signal.getsignal(signal.SIGINT)
        self._installed = True

        def handler(signum, frame):
            if self.event.is_set():
                raise KeyboardInterrupt
            self.event.set()
            print("\ntsgan: finishing this step, then keeping the run as trained so far (Ctrl-C again to abort)", file=sys.stderr, flush=True)

        signal.signal(signal.SIGINT, handler)

    def on_end(self, run: "Run") -> None:
        if self._installed:
            self._installed = False
            signal.signal(signal.SIGINT, signal.SIG_DFL if self._previous is None else self._previous)

    def stop_reason(self, run: "Run") -> str | None:
        return "interrupted" if self.event.is_set() else None


def check_lr_decay(fraction: float) -> float:
    if not 0.0 < fraction <= 1.0:
        raise TsganError(f"lr_decay is the share of the last phase to decay over: between 0 and 1, e.g. --param lr_decay=0.5 (got {fraction})")
    return fraction


def decay_window(n_steps: int, fraction: float) -> float:
    """How many of the last phase's ``n_steps`` the learning rates decay over (at least one)."""
    return max(1.0, fraction * n_steps)


def decay_factor(done: int, n_steps: int, fraction: float) -> float:
    """Learning-rate multiplier for the step after ``done`` of ``n_steps``: 1 until the
    last ``fraction`` of the steps, then falling linearly so that the last step runs at
    ``1 / window`` (the linear decay of the last half in CycleGAN and pix2pix). Averaged
    or selected weights are then drawn from a generator that moves less and less,
    instead of one still circling at full speed."""
    return min(1.0, (n_steps - done) / decay_window(n_steps, fraction))


class LRDecay(Callback):
    """Decay every optimizer's learning rate linearly towards zero over the last
    ``fraction`` of the last phase's steps (:func:`decay_factor`); the rates the
    optimizers were built with are kept in their param groups as ``initial_lr``."""

    name = "lr_decay"

    def __init__(self, fraction: float):
        self.fraction = check_lr_decay(fraction)

    def on_start(self, run: "Run") -> None:
        for opt in run.optimizers.values():
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])

    def before_step(self, run: "Run", phase: "Phase", n_steps: int) -> None:
        if phase is not run.phases[-1]:
            return
        factor = decay_factor(run.done[phase.name], n_steps, self.fraction)
        for opt in run.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] * factor


class Checkpoints(Callback):
    """Every ``minutes`` of training, ``save(state, history so far)`` with the state a
    stop at that step would return: a run killed afterwards resumes from the last one."""

    name = "checkpoints"

    def __init__(self, minutes: float, save: Callable[[dict[str, Any], pd.DataFrame], None]):
        if not minutes > 0:
            raise TsganError(f"checkpoint_minutes must be positive (got {minutes}): e.g. --checkpoint-minutes 10")
        self.seconds, self.save = 60.0 * minutes, save
        self.saved_at = 0.0

    def on_start(self, run: "Run") -> None:
        self.saved_at = time.perf_counter()

    def after_logged(self, run: "Run") -> None:
        if run.step < run.total and time.perf_counter() - self.saved_at >= self.seconds:
            run.flush()
            self.save(run.state(), run.history())
            self.saved_at = time.perf_counter()


class FiniteLosses(Callback):
    """Stops training when a logged loss turns NaN or infinite, and keeps the last
    good weights: those of a snapshot whose following steps all logged finite losses.
    Losses reach the history in blocks (one device sync per block), so the check runs
    per block; snapshots are taken at block boundaries (two are kept)."""

    name = "finite"

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self.seen = 0
        self.snapshots: list[tuple[int, dict]] = []  # (step, state), oldest first
        self.bad: dict[str, Any] | None = None  # the first non-finite loss: step, phase, name, value

    def _check(self, run: "Run") -> None:
        if self.bad is not None or len(run.rows) == self.seen:
            return
        for row in run.rows[self.seen:]:
            for key, value in row.items():
                if key.endswith("/loss") and not np.isfinite(value):
                    self.bad = {"step": int(row["step"]), "phase": row["phase"], "loss": key, "value": str(value)}
                    return
        self.seen = len(run.rows)
        self.snapshots = [*self.snapshots[-1:], (run.step, {k: v.detach().clone() for k, v in self.model.state_dict().items()})]

    def on_start(self, run: "Run") -> None:
        self.seen = len(run.rows)
        self.snapshots = [(run.step, {k: v.detach().clone() for k, v in self.model.state_dict().items()})]

    def after_logged(self, run: "Run") -> None:
        self._check(run)

    def stop_reason(self, run: "Run") -> str | None:
        return "nonfinite" if self.bad is not None else None

    def on_end(self, run: "Run") -> None:
        if run.flush is not None:
            run.flush()
        self._check(run)

    def restore(self) -> dict[str, Any]:
        """Load the last good weights into the model; what happened, for the run's record."""
        step, state = self.snapshots[0]
        self.model.load_state_dict(state)
        return {**self.bad, "kept_step": step}
