"""What a fit will do, resolved and validated from the estimator's stored settings:
the model's config, the training options, the recipe, the step budget (fitted to a
wall clock when only a clock is given) and the callbacks the loop runs with."""

from __future__ import annotations

import copy
import numbers
import time
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from .config import TRAINING_FIELDS, TrainingOptions, build_config, recipe_values, split_params
from .data.kinds import KINDS
from .errors import TsganError
from .models import MODELS
from .torch_utils import check_precision, check_seed, check_threads
from .training import Callback, Interrupt, LRDecay, WallClock, split_steps, train
from .training.averaging import WeightAverage
from .training.selection import CheckpointSelector


DEFAULT_STEPS = 1000  # a model whose recipes name no step budget


def model_class(name: str) -> type:
    try:
        return MODELS[name]
    except KeyError:
        raise TsganError(f"unknown model '{name}': choose one of {', '.join(MODELS)} (see `tsgan models`)") from None


@dataclass
class Plan:
    cls: type
    config: Any  # the model's config dataclass
    options: TrainingOptions
    steps: int | None  # None: fitted to max_minutes by a probe
    recipe: dict[str, Any] = field(default_factory=dict)  # the recipe's name and what it set
    kind_name: str = ""  # the data kind (the model's, or "entity" for a sequence model on an entity table)

    @property
    def kind(self):
        return KINDS[self.kind_name or self.cls.kind]


def make_plan(syn, kind: str | None = None) -> Plan:
    """Validate ``syn``'s settings (messages in Python terms) and resolve its recipe:
    what the user passed wins over the recipe, the recipe over the paper's defaults.
    ``kind``: the data kind when it is not the model's own (entity tables)."""
    cls = model_class(syn.model)
    kind = kind or cls.kind
    check_precision(syn.precision)
    check_seed(syn.seed)
    check_threads(getattr(syn, "threads", None))
    if syn.steps is not None and (isinstance(syn.steps, bool) or not isinstance(syn.steps, numbers.Integral) or syn.steps < 1):
        raise TsganError(f"steps must be a positive integer (got {syn.steps!r}): e.g. steps=2000 (--steps)")
    if syn.max_minutes is not None and not syn.max_minutes > 0:
        raise TsganError(f"max_minutes must be positive (got {syn.max_minutes}): e.g. max_minutes=10 (--max-minutes)")
    max_length = getattr(syn, "max_length", None)
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral) or max_length < 2):
        raise TsganError(f"max_length must be an integer of at least 2 (got {max_length!r}): e.g. max_length=100 (--max-length)")
    for name in ("seq_len", "stride"):
        value = getattr(syn, name)
        if value is None and name == "seq_len":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise TsganError(f"{name} must be a positive integer (got {value!r}): e.g. {name}=24 (--{name.replace('_', '-')})")
    given = {k: v for k, v in syn.params.items() if v is not None}
    asked = build_config(TrainingOptions, {k: v for k, v in given.items() if k in TRAINING_FIELDS}, syn.model)  # typed
    for key, flag in (("dp_epsilon", "--dp-epsilon 1"), ("dp_noise", "--param dp_noise=1")):
        if key in given and not getattr(asked, key) > 0:
            raise TsganError(f"{key} must be positive (got {given[key]}): e.g. {flag}; leave it out to train without DP")
    private = asked.private
    chosen = recipe_values(cls, syn.recipe, private)
    steps = chosen.pop("steps", None)
    config, options = split_params(cls, {**chosen, **given}, syn.model)
    if options.private:
        config = replace(config, dp_layers=True)
        if syn.precision != "32":
            raise TsganError("DP training runs in float32: drop precision='bf16' (--precision; opacus' per-sample gradients need float32)")
        if asked.select_every:
            raise TsganError("checkpoint selection scores the training data outside DP-SGD's accounting: drop select_every (--param select_every)")
        if asked.keep_conditions and "keep_conditions" in given:
            raise TsganError("a DP run keeps no real condition records (they are outside DP-SGD's accounting): drop keep_conditions (--param keep_conditions)")
        options = replace(options, keep_conditions=0)
        if options.dp_epsilon and options.dp_noise:
            raise TsganError("differential privacy needs exactly one of dp_epsilon (--dp-epsilon) or dp_noise (--param dp_noise)")
    if options.private and not (KINDS[kind].private or (KINDS[kind].wrapper is not None and getattr(cls, "native_entities", False))):
        raise TsganError(KINDS[kind].private_refusal)  # a model that learns entities itself privatises its own critics
    if options.select_every and not KINDS[kind].checkable:
        if "select_every" in given:
            raise TsganError(f"select_every scores windows and this run learns {KINDS[kind].unit}: drop select_every (--param select_every)")
        options = replace(options, select_every=0)
    if syn.steps is not None:
        steps = syn.steps
    elif syn.max_minutes is not None:
        steps = None  # fitted to the clock
    elif steps is None:
        steps = DEFAULT_STEPS
    recipe = {"name": syn.recipe, "set": {k: v for k, v in chosen.items() if k not in given
                                          and not (k == "select_every" and not options.select_every)}}  # dropped above
    return Plan(cls, config, options, steps, recipe, kind)


def callbacks(plan: Plan, module, prepared, seed: int, minutes: float | None) -> tuple[list[Callback], WeightAverage | None, CheckpointSelector | None]:
    """The loop's callbacks in order: Ctrl-C, the clock, LR decay, the average, selection
    (after the average: it scores the updated average)."""
    o = plan.options
    last = module.schedule()[-1].name  # the phase averaged and checked
    average = WeightAverage(module, o.ema, last) if o.ema else None
    selector = CheckpointSelector(module, prepared.train, o.select_every, last, seed=seed, average=average) if o.select_every else None
    cbs: list[Callback] = [Interrupt()]
    if minutes is not None:
        cbs.append(WallClock(minutes))
    if o.lr_decay:
        cbs.append(LRDecay(o.lr_decay))
    cbs += [c for c in (average, selector) if c is not None]
    return cbs, average, selector


def steps_for_clock(plan: Plan, module, prepared, seed: int, minutes: float, device, precision: str, probe: int = 6) -> tuple[int, dict]:
    """How many steps fit in ``minutes``: time ``probe`` steps of each phase on a copy
    of the model (its first step, which may compile kernels, not counted) and one
    selection check if selection is on; the probe's own time comes off the budget.
    Returns the steps and a record of the probe."""
    started = time.perf_counter()
    phases = module.schedule()
    per_step = []
    for i in range(len(phases)):
        copy_ = copy.deepcopy(module)
        one = _OnePhase(copy_, i)
        with torch.random.fork_rng(devices=[]):
            result = train(one, prepared.train, steps=probe, batch_size=plan.config.batch_size, seed=seed, device=device,
                           precision=precision, progress=False)
        secs = result.history["seconds"].to_numpy()
        per_step.append(float(secs[-1] - secs[0]) / max(1, len(secs) - 1))
    weights = [p.weight for p in phases]
    share = [w / sum(weights) for w in weights]
    per_total = sum(s * t for s, t in zip(share, per_step))
    check = 0.0
    if plan.options.select_every:
        with torch.random.fork_rng(devices=[]):
            sel = CheckpointSelector(copy.deepcopy(module), prepared.train, plan.options.select_every, phases[-1].name, seed=seed)
            sel.model.to(device)
            t0 = time.perf_counter()
            sel.score()
            check = 1.5 * (time.perf_counter() - t0)  # a new best is scored twice
        per_total += share[-1] * check / plan.options.select_every
    spent = time.perf_counter() - started
    left = 60.0 * minutes - spent
    steps = max(len(phases), int(0.97 * left / per_total)) if left > 0 else len(phases)
    return steps, {"probe_seconds": round(spent, 2), "seconds_per_step": [round(t, 5) for t in per_step],
                   "seconds_per_check": round(check, 3), "steps": steps}


class _OnePhase(torch.nn.Module):
    """A model whose schedule is one of another model's phases (for the clock probe)."""

    def __init__(self, model, index: int):
        super().__init__()
        self.model, self.index = model, index

    def optimizers(self):
        return self.model.optimizers()

    def schedule(self):
        phase = self.model.schedule()[self.index]
        return [phase]


__all__ = ["Plan", "callbacks", "make_plan", "model_class", "split_steps", "steps_for_clock"]
