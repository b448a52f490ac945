"""The one training loop.

A model declares its optimizers and its schedule as data (see :class:`Phase` and
:class:`Update`); this loop runs it. It owns devices, seeds, the step and
wall-clock budgets, progress display and the per-step history. It never names a
model: adding a model never changes this file.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, Union

import pandas as pd
import torch
from torch import Tensor

# A loss function returns the tensor to minimise, optionally with extra scalars to
# log, or None to skip this update (e.g. a discriminator gated while it is winning).
LossOutput = Optional[Union[Tensor, tuple[Tensor, dict[str, Tensor]]]]


@dataclass
class Batch:
    """What a loss function sees: a fresh real batch and the run's random generator."""

    x: Tensor  # (B, T, F) real windows, scaled, on the run's device
    rng: torch.Generator  # draw all noise from this (on the same device as x)
    cond: Optional[Tensor] = None  # (B, T, C) per-step conditions of these windows, if any


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


@dataclass
class TrainResult:
    history: pd.DataFrame
    steps: int  # steps completed, all phases together
    seconds: float
    device: str
    stopped: str  # "steps", "time" (max_minutes) or "interrupted" (Ctrl-C)
    phases: dict[str, int] = field(default_factory=dict)
    # where the loop stopped, when it stopped early: train(..., resume=state) goes on
    # from there as if never stopped (see :func:`loop_state`)
    state: Optional[dict[str, Any]] = None


def adam(params, **kw) -> torch.optim.Optimizer:
    """``torch.optim.Adam`` with its fused kernel (one call per parameter instead of a
    dozen small ops; CPU and CUDA, torch >= 2.4), else its multi-tensor path. Same maths."""
    params = list(params)
    try:
        return torch.optim.Adam(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, foreach=True, **kw)


@functools.lru_cache(maxsize=None)
def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse instead of handing them back
    to the OS and faulting fresh pages in on the next step (the mmap threshold up to
    its 32 MiB maximum, trimming off). A training step frees and reallocates the same
    tensors thousands of times (one joint step of a three-phase sequence model:
    ~1,360 page faults without, ~60 with; peak memory unchanged). Process-wide,
    once; ``TSGAN_KEEP_FREED=0`` leaves malloc alone.
    Returns whether the setting was applied (glibc only)."""
    if os.environ.get("TSGAN_KEEP_FREED", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        return False


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' picks CUDA when available, else the CPU; anything else is passed through."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        from .errors import TsganError

        raise TsganError("--device cuda was asked for but no CUDA GPU is visible: use --device cpu or auto")
    return dev


PRECISIONS = ("32", "bf16")


def check_precision(precision: str) -> str:
    """``precision`` if it is one of PRECISIONS, else a TsganError naming them."""
    if precision not in PRECISIONS:
        from .errors import TsganError

        raise TsganError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def autocast(device: torch.device, precision: str) -> Callable[[], Any]:
    """A factory of the context the losses run in: nothing for "32"; for "bf16",
    ``torch.autocast`` with bfloat16, so matrix products and convolutions run in
    bfloat16 (about 4x the float32 rate on CPUs with AVX512-BF16 or AMX, and on
    tensor-core GPUs) while reductions and losses stay float32. bfloat16 keeps
    float32's exponent range, so no loss scaling is needed. Backward runs outside."""
    if check_precision(precision) == "32":
        return nullcontext
    if not bf16_supported(device):
        from .errors import TsganError

        raise TsganError(
            f"this {device.type.upper()} has no bfloat16 arithmetic (CPUs need AVX512-BF16 or AMX), so bf16 would run slower "
            "and its recurrent layers fail: drop --precision bf16 (precision='32')"
        )
    return lambda: torch.autocast(device.type, dtype=torch.bfloat16)


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` computes in bfloat16 natively: a CUDA GPU that says so, or a
    CPU whose oneDNN has bfloat16 kernels (AVX512-BF16, AMX). Elsewhere oneDNN's LSTM
    refuses bfloat16 inputs and matrix products fall back to slow emulation."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN: let torch decide
        return True


def split_steps(phases: list[Phase], steps: int) -> list[int]:
    """Share ``steps`` between phases by weight (every phase gets at least one step)."""
    total = sum(p.weight for p in phases)
    counts = [max(1, round(steps * p.weight / total)) for p in phases]
    counts[-1] = max(1, steps - sum(counts[:-1]))
    return counts


def check_lr_decay(fraction: float) -> float:
    if not 0.0 < fraction <= 1.0:
        from .errors import TsganError

        raise TsganError(f"--lr-decay is the share of the last phase to decay over: between 0 and 1, e.g. 0.5 (got {fraction})")
    return fraction


def decay_factor(done: int, n_steps: int, fraction: float) -> float:
    """Learning-rate multiplier for the step after ``done`` of ``n_steps``: 1 until the
    last ``fraction`` of the steps, then falling linearly so that the last step runs at
    ``1 / window`` (the linear decay of the last half in CycleGAN and pix2pix). Averaged
    or selected weights are then drawn from a generator that moves less and less,
    instead of one still circling at full speed."""
    return min(1.0, (n_steps - done) / decay_window(n_steps, fraction))


def decay_window(n_steps: int, fraction: float) -> float:
    """How many of the last phase's ``n_steps`` the learning rates decay over (at least one)."""
    return max(1.0, fraction * n_steps)


def train(
    model: torch.nn.Module,
    data: Any,
    *,
    steps: int,
    batch_size: int,
    seed: int = 0,
    device: str | torch.device = "auto",
    max_minutes: float | None = None,
    progress: bool = True,
    log_every: int = 1,
    optimizer_hook: Optional[Callable[[dict, torch.Generator], dict]] = None,
    update_context: Optional[Callable[[str], Any]] = None,
    precision: str = "32",
    monitors: Sequence[Callable[[str, int, bool], Optional[dict[str, float]]]] = (),
    resume: Optional[dict[str, Any]] = None,
    checkpoint: Optional[tuple[float, Callable[[dict[str, Any], pd.DataFrame], None]]] = None,
    lr_decay: float | None = None,
    stop_at: int | None = None,
) -> TrainResult:
    """Run ``model.schedule()`` for ``steps`` steps (or until ``max_minutes`` pass).

    ``model`` provides ``optimizers() -> dict[str, Optimizer]`` and
    ``schedule() -> list[Phase]``; ``data`` provides ``to(device)`` returning an
    object with ``batch(batch_size, generator)`` returning the real batch ``x``, or
    ``(x, cond)`` for conditional data. ``optimizer_hook`` may wrap the optimizers
    (DP-SGD); ``update_context(optimizer key)`` gives a context each update runs in
    (DP-SGD: per-sample gradients only for the networks that update trains).
    ``precision="bf16"`` runs the losses under bfloat16 autocast (mixed precision:
    weights, gradients and optimizer state stay float32; see :func:`autocast`).
    Each of ``monitors`` is called as ``monitor(phase name, steps done in that phase,
    last)`` after every step, in order (``last``: the phase's final step, or the
    run's, when the clock stops it), e.g. :class:`tsgan.averaging.WeightAverage` and
    :class:`tsgan.selection.CheckpointSelector`; what one returns is logged in that
    step's history row; their time counts against the budget.

    A run stopped early (``max_minutes``, Ctrl-C) returns its loop's state in
    ``TrainResult.state``. Passing that as ``resume``, with a model of the same build
    (its weights are loaded from the state), the same data, seed, ``steps`` and
    monitors, runs the remaining steps so that the result equals the uninterrupted
    run's: the weights, optimizer
    moments, random generators, step counts, the monitors' and the model's own loop
    state (a model may define ``loop_state()`` / ``load_loop_state(d)``) go on.
    ``checkpoint=(minutes, save)`` calls ``save(state, history so far)`` every that many
    minutes of training, with the state a stop at that step would return: a run killed
    afterwards can be resumed from the last one.
    ``lr_decay=f`` decays every optimizer's learning rate linearly towards zero over
    the last ``f`` of the last phase's steps (see :func:`decay_factor`); the rates the
    optimizers were built with are kept in their param groups as ``initial_lr``.
    ``stop_at=k`` pauses the run after its k-th step (``stopped="paused"``), with the
    state to resume from: the schedule (phases, decay) stays that of ``steps``, and
    the monitors are not told it is the last step, so the resumed run equals the
    uninterrupted one (best-of-n initialisations, :class:`tsgan.Synthesizer`).
    """
    dev = resolve_device(device)
    amp = autocast(dev, precision)
    keep_freed_memory()
    torch.manual_seed(seed)
    model.to(dev)
    model.train()
    sampler = data.to(dev)
    rng = torch.Generator(device=dev).manual_seed(seed)
    optimizers = model.optimizers()
    if optimizer_hook is not None:  # e.g. DP-SGD wrapping the optimizers that read real data
        optimizers = optimizer_hook(optimizers, rng)
    # Each update differentiates only the parameters its optimizer steps: the other
    # player's gradients would be cleared before its own update reads them, so the
    # engine skips computing them (in a generator update, the critic's weight gradients).
    trained = {k: [p for g in opt.param_groups for p in g["params"]] for k, opt in optimizers.items()}
    phases = model.schedule()
    counts = split_steps(phases, steps)
    if lr_decay is not None:
        check_lr_decay(lr_decay)
        for opt in optimizers.values():
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
    deadline = None if max_minutes is None else time.perf_counter() + 60.0 * max_minutes
    if len({p.name for p in phases}) != len(phases):
        raise ValueError("phase names must be unique: the loop counts steps per phase name")
    step, done, before = 0, {p.name: 0 for p in phases}, 0.0
    if resume is not None:
        step, done, before = _restore(resume, model, optimizers, rng, dev, monitors)

    rows: list[dict[str, Any]] = []
    pending: list[tuple[int, str, float, dict[str, Tensor]]] = []

    def flush() -> None:
        # One device sync per flush, not per loss: keeps GPU steps asynchronous.
        for step, phase_name, secs, logs in pending:
            row = {"step": step, "phase": phase_name, "seconds": secs}
            row.update({k: float(v) for k, v in logs.items()})
            rows.append(row)
        pending.clear()

    total = sum(counts)
    bar = _progress(progress, total, step)
    start = time.perf_counter() - before  # a resumed run's clock goes on from where it stopped
    stopped = "steps"
    saved_at = time.perf_counter()
    interrupted, stop_catching = _catch_interrupt()
    try:
        for phase, n_steps in zip(phases, counts):
            if done[phase.name] == n_steps:  # finished before a resume
                continue
            if bar is not None:
                bar.update(bar.task_ids[0], description=phase.name)
            for _ in range(n_steps - done[phase.name]):
                if deadline is not None and time.perf_counter() > deadline:
                    stopped = "time"
                    break
                if interrupted.is_set():
                    stopped = "interrupted"
                    break
                logs: dict[str, Tensor] = {}
                drawn = None
                if lr_decay is not None and phase is phases[-1]:
                    factor = decay_factor(done[phase.name], n_steps, lr_decay)
                    for opt in optimizers.values():
                        for group in opt.param_groups:
                            group["lr"] = group["initial_lr"] * factor
                for upd in phase.updates:
                    opt = optimizers[upd.optimizer]
                    for _r in range(upd.repeat):
                        if not (upd.same_batch and drawn is not None):
                            drawn = sampler.batch(batch_size, rng)
                        x, cond = drawn if isinstance(drawn, tuple) else (drawn, None)
                        with update_context(upd.optimizer) if update_context else nullcontext():
                            with amp():
                                out = upd.loss(Batch(x, rng, cond))
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
                step += 1
                done[phase.name] += 1
                paused = step == stop_at
                checked = {}
                if monitors:
                    last = done[phase.name] == n_steps or (deadline is not None and time.perf_counter() > deadline) or interrupted.is_set()
                    for monitor in monitors:
                        checked.update(monitor(phase.name, done[phase.name], last) or {})
                    logs.update(checked)
                if step % log_every == 0 or checked:
                    pending.append((step, phase.name, time.perf_counter() - start, logs))
                if len(pending) >= 50:
                    flush()
                    if bar is not None:
                        bar.update(bar.task_ids[0], completed=step, description=_describe(phase.name, rows[-1]))
                if checkpoint is not None and step < total and time.perf_counter() - saved_at >= 60.0 * checkpoint[0]:
                    flush()
                    now = time.perf_counter() - start
                    checkpoint[1](loop_state(model, optimizers, rng, dev, monitors, step, done, now), pd.DataFrame(rows))
                    saved_at = time.perf_counter()
                if paused:
                    stopped = "paused"
                    break
            if stopped != "steps":
                break
        flush()
    finally:
        stop_catching()
        if bar is not None:
            bar.stop()
    seconds = time.perf_counter() - start
    state = None if stopped == "steps" else loop_state(model, optimizers, rng, dev, monitors, step, done, seconds)
    model.eval()
    history = pd.DataFrame(rows)
    return TrainResult(history, step, seconds, str(dev), stopped, done, state)


def loop_state(model, optimizers, rng, dev, monitors, step, done, seconds) -> dict[str, Any]:
    """Everything :func:`train` needs to go on: a copy of the weights as trained (before
    any averaging or selection loads others), the optimizers' states, both random
    generators, the step counts, the monitors' and the model's own loop state. Tensors,
    numbers, strings, lists and dicts only: ``torch.load(..., weights_only=True)`` reads it."""
    state = {
        "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "optimizers": {k: opt.state_dict() for k, opt in optimizers.items()},
        "rng": rng.get_state(),
        "torch_rng": torch.get_rng_state(),
        "device_type": dev.type,
        "step": step,
        "done": dict(done),
        "seconds": seconds,
        "monitors": [m.state_dict() if hasattr(m, "state_dict") else None for m in monitors],
        "model_loop": model.loop_state() if hasattr(model, "loop_state") else None,
    }
    if dev.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(dev)
    return state


def _restore(state, model, optimizers, rng, dev, monitors) -> tuple[int, dict[str, int], float]:
    if state["device_type"] != dev.type:
        from .errors import TsganError

        raise TsganError(f"this run was trained on {state['device_type']}: resume it with --device {state['device_type']} (random streams differ by device)")
    model.load_state_dict(state["model"])
    for key, opt in optimizers.items():
        opt.load_state_dict(state["optimizers"][key])
    rng.set_state(state["rng"])
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state:
        torch.cuda.set_rng_state(state["cuda_rng"], dev)
    for monitor, saved in zip(monitors, state["monitors"]):
        if saved is not None:
            monitor.load_state_dict(saved)
    if state.get("model_loop") is not None:
        model.load_loop_state(state["model_loop"])
    return state["step"], dict(state["done"]), state["seconds"]


def _catch_interrupt() -> tuple[threading.Event, Callable[[], None]]:
    """The first Ctrl-C (SIGINT) ends training after the step under way, as the clock
    does: the run is kept, with its averaging and checkpoint selection. A second one
    aborts as usual. Returns the event the loop checks and the function that puts the
    previous handler back. Only the main thread can own the signal; elsewhere the event
    is never set."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return interrupted, lambda: None
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        print("\ntsgan: finishing this step, then keeping the run as trained so far (Ctrl-C again to abort)", file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, handler)
    return interrupted, lambda: signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


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
