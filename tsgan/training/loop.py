"""The one training loop.

A model declares its optimizers and its schedule as data (:mod:`.schedule`); this
loop runs it. It owns the device, the seed, the step budget, the progress bar and
the per-step history. Everything cross-cutting (a wall clock, Ctrl-C, learning-rate
decay, weight averaging, checkpoint selection, periodic checkpoints, DP-SGD) is a
:class:`tsgan.training.callbacks.Callback`. The loop never names a model: adding a
model or a callback never changes this file.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import pandas as pd
import torch
from torch import Tensor

from ..errors import TsganError
from ..torch_utils import autocast, resolve_device
from .callbacks import Callback
from .schedule import Batch, Phase, split_steps


@dataclass
class TrainResult:
    history: pd.DataFrame
    steps: int  # steps completed, all phases together
    seconds: float
    device: str
    stopped: str  # "steps", or the reason a callback gave: "time" (wall clock), "interrupted" (Ctrl-C)
    phases: dict[str, int] = field(default_factory=dict)
    # where the loop stopped, when it stopped early: train(..., resume=state) goes on
    # from there as if never stopped (see :meth:`Run.state`)
    state: Optional[dict[str, Any]] = None


@dataclass
class Run:
    """The loop's state, which callbacks read (and checkpoints save)."""

    model: torch.nn.Module
    optimizers: dict[str, torch.optim.Optimizer]
    rng: torch.Generator
    device: torch.device
    phases: list[Phase]
    counts: list[int]  # steps per phase
    callbacks: Sequence[Callback]
    step: int = 0  # steps done, all phases together
    done: dict[str, int] = field(default_factory=dict)  # steps done per phase
    started: float = 0.0  # perf_counter at the (resumed run's virtual) start
    rows: list[dict[str, Any]] = field(default_factory=list)
    flush: Any = None  # moves the queued history rows into ``rows`` (set by train)

    @property
    def total(self) -> int:
        return sum(self.counts)

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def state(self) -> dict[str, Any]:
        """Everything :func:`train` needs to go on: a copy of the weights as trained
        (before any averaging or selection loads others), the optimizers' states, both
        random generators, the step counts, the callbacks' and the model's own loop
        state. Tensors, numbers, strings, lists and dicts only, so that
        ``torch.load(..., weights_only=True)`` reads it."""
        state = {
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "optimizers": {k: opt.state_dict() for k, opt in self.optimizers.items()},
            "rng": self.rng.get_state(),
            "torch_rng": torch.get_rng_state(),
            "device_type": self.device.type,
            "step": self.step,
            "done": dict(self.done),
            "seconds": self.seconds(),
            "callbacks": {cb.name: s for cb in self.callbacks if (s := cb.state_dict()) is not None},
            "model_loop": self.model.loop_state() if hasattr(self.model, "loop_state") else None,
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def restore(self, state: dict[str, Any]) -> float:
        """Load a stopped run's :meth:`state`; returns the seconds it had trained.
        A state that does not fit (damaged, or another model's) is a one-line error."""
        try:
            return self._restore(state)
        except TsganError:
            raise
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as e:
            raise TsganError(f"the run's resume state (resume.pt) is damaged or another run's ({type(e).__name__}: {str(e)[:150]}): "
                             "fit the run again") from None

    def _restore(self, state: dict[str, Any]) -> float:
        if state["device_type"] != self.device.type:
            raise TsganError(f"this run was trained on {state['device_type']}: resume it with --device {state['device_type']} (random streams differ by device)")
        self.model.load_state_dict(state["model"])
        for key, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][key])
        self.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        saved = state.get("callbacks")
        if saved is None:  # format 1: a list, in order, of the averaging's and the selection's states
            stateful = [cb for cb in self.callbacks if cb.name in ("ema", "selection")]
            saved = {cb.name: s for cb, s in zip(stateful, state.get("monitors", [])) if s is not None}
        for cb in self.callbacks:
            if cb.name in saved:
                cb.load_state_dict(saved[cb.name])
        if state.get("model_loop") is not None:
            self.model.load_loop_state(state["model_loop"])
        self.step, self.done = state["step"], dict(state["done"])
        return state["seconds"]

    def stop_reason(self) -> str | None:
        reason = next((r for cb in self.callbacks if (r := cb.stop_reason(self)) is not None), None)
        for cb in self.callbacks:
            reason = cb.agree(reason)
        return reason


def train(
    model: torch.nn.Module,
    data: Any,
    *,
    steps: int,
    batch_size: int,
    seed: int = 0,
    device: str | torch.device = "auto",
    precision: str = "32",
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    resume: Optional[dict[str, Any]] = None,
) -> TrainResult:
    """Run ``model.schedule()`` for ``steps`` steps, or until a callback stops it.

    ``data.to(device)`` returns a sampler whose ``batch(batch_size, generator)`` gives
    the real batch ``x``, or ``(x, cond)`` for conditional data. ``precision="bf16"``
    runs the losses under bfloat16 autocast (weights, gradients and optimizer state
    stay float32). ``callbacks`` are called in order (see :class:`Callback`); what
    their ``after_step`` returns is logged in that step's history row, and their time
    counts against the budget.

    A run stopped early returns its state in ``TrainResult.state``; passing it as
    ``resume`` (same model build, data, seed, ``steps`` and callbacks) runs the
    remaining steps so that the result equals the uninterrupted run's.
    """
    dev = resolve_device(device)
    amp = autocast(dev, precision)
    torch.manual_seed(seed)
    model.to(dev)
    model.train()
    for cb in callbacks:  # several processes: each trains on its share, and moves only that to the device
        data, batch_size = cb.prepare_data(data, batch_size)
    sampler = data.to(dev)
    rng = torch.Generator(device=dev).manual_seed(seed)
    optimizers = model.optimizers()
    for cb in callbacks:  # e.g. DP-SGD wrapping the optimizers that read real data
        optimizers = cb.wrap_optimizers(optimizers, rng)
    # Each update differentiates only the parameters its optimizer steps: the other
    # player's gradients would be cleared before its own update reads them, so the
    # engine skips computing them (in a generator update, the critic's weight gradients).
    trained = {k: [p for g in opt.param_groups for p in g["params"]] for k, opt in optimizers.items()}
    phases = model.schedule()
    if len({p.name for p in phases}) != len(phases):
        raise ValueError("phase names must be unique: the loop counts steps per phase name")
    run = Run(model, optimizers, rng, dev, phases, split_steps(phases, steps), callbacks, done={p.name: 0 for p in phases})
    before = 0.0 if resume is None else run.restore(resume)
    pending: list[tuple[int, str, float, dict[str, Tensor]]] = []

    def flush() -> None:
        # One device sync per flush, not per loss: keeps GPU steps asynchronous.
        for step, phase_name, secs, logs in pending:
            run.rows.append({"step": step, "phase": phase_name, "seconds": secs, **{k: float(v) for k, v in logs.items()}})
        pending.clear()

    run.flush = flush
    bar = _progress(progress, run.total, run.step)
    stopped = "steps"
    with ExitStack() as stack:
        run.started = time.perf_counter() - before  # a resumed run's clock goes on from where it stopped
        for cb in callbacks:
            cb.on_start(run)
            stack.callback(cb.on_end, run)
        if bar is not None:
            stack.callback(bar.stop)
        for phase, n_steps in zip(phases, run.counts):
            if run.done[phase.name] == n_steps:  # finished before a resume
                continue
            if bar is not None:
                bar.update(bar.task_ids[0], description=phase.name)
            while run.done[phase.name] < n_steps:
                reason = run.stop_reason()
                if reason is not None:
                    stopped = reason
                    break
                for cb in callbacks:
                    cb.before_step(run, phase, n_steps)
                logs = _step(run, phase, sampler, batch_size, trained, amp)
                run.step += 1
                run.done[phase.name] += 1
                last = run.done[phase.name] == n_steps or run.stop_reason() is not None
                checked = {}
                for cb in callbacks:
                    checked.update(cb.after_step(run, phase.name, run.done[phase.name], last) or {})
                logs.update(checked)
                pending.append((run.step, phase.name, run.seconds(), logs))
                for cb in callbacks:
                    cb.after_logged(run)
                if len(pending) >= 50:
                    flush()
                    if bar is not None:
                        bar.update(bar.task_ids[0], completed=run.step, description=_describe(phase.name, run.rows[-1]))
            if stopped != "steps":
                break
        flush()
    state = None if stopped == "steps" else run.state()
    seconds = state["seconds"] if state is not None else run.seconds()
    model.eval()
    return TrainResult(run.history(), run.step, seconds, str(dev), stopped, dict(run.done), state)


def _step(run: Run, phase: Phase, sampler: Any, batch_size: int, trained: dict, amp) -> dict[str, Tensor]:
    """One step: every update of ``phase`` once (with its repeats). Returns the losses."""
    logs: dict[str, Tensor] = {}
    drawn = None
    for upd in phase.updates:
        opt = run.optimizers[upd.optimizer]
        for _ in range(upd.repeat):
            if not (upd.same_batch and drawn is not None):
                drawn = sampler.batch(batch_size, run.rng)
            x, cond = drawn if isinstance(drawn, tuple) else (drawn, None)
            with ExitStack() as contexts:
                for cb in run.callbacks:
                    contexts.enter_context(cb.update_context(upd.optimizer))
                with amp():
                    out = upd.loss(Batch(x, run.rng, cond))
                if out is None:
                    logs[f"{upd.name}/skipped"] = torch.ones(())
                    continue
                loss, extra = out if isinstance(out, tuple) else (out, {})
                opt.zero_grad(set_to_none=True)
                wanted = [p for p in trained[upd.optimizer] if p.requires_grad]  # a frozen one has no gradient to take
                loss.backward(inputs=wanted or None)
                opt.step()
            if upd.after_step is not None:
                upd.after_step()
            logs[f"{upd.name}/loss"] = loss.detach()
            logs.update({f"{upd.name}/{k}": v.detach() for k, v in extra.items()})
    return logs


def _describe(phase: str, row: dict[str, Any]) -> str:
    losses = " ".join(f"{k}={v:.3f}" for k, v in row.items() if k.endswith("/loss"))
    return f"{phase} {losses}"


def _progress(enabled: bool, total: int, completed: int = 0):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout stays clean for the caller's output
        transient=False,
    )
    bar.add_task("train", total=total, completed=completed)
    bar.start()
    return bar
