"""Config dataclasses: the single source of truth for every knob.

A field is declared with :func:`param`, which keeps the default, a one-line help
text, the choices and the range together. One dataclass per model (its paper's
settings) plus :class:`TrainingOptions` (the estimator's own options) feed the API
(``**params``), the CLI (``--param key=value``), ``tsgan models`` and the saved
``tsgan.json``. A model's *recipe* (``recipes`` on its class) overrides defaults of
either: ``"tuned"``, the best setting measured, is the default; ``"paper"`` keeps the
paper's settings exactly.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import TsganError


def param(default: Any, help: str, choices: tuple[str, ...] | None = None, within: str | None = None) -> Any:
    """A config field with a default, a one-line help text, optional choices and an
    optional range in interval notation: ``within="[1, inf)"`` (at least 1),
    ``"(0, inf)"`` (positive), ``"[0, 1)"`` (a probability below 1)."""
    if within is not None:
        _interval(within)  # a malformed range is the author's bug: fail at import
    return field(default=default, metadata={"help": help, "choices": choices, "within": within})


def _interval(within: str) -> tuple[float, float, bool, bool]:
    """``"[0, 1)"`` -> (0.0, 1.0, low closed, high closed)."""
    m = re.fullmatch(r"([\[(])\s*(-?inf|[-+0-9.e]+)\s*,\s*(-?inf|[-+0-9.e]+)\s*([\])])", within)
    if m is None:
        raise ValueError(f"range {within!r} is not an interval such as '[0, 1)'")
    return float(m[2]), float(m[3]), m[1] == "[", m[4] == "]"


def short_range(within: str) -> str:
    """``"[1, inf)"`` -> ``">= 1"``, ``"(0, inf)"`` -> ``"> 0"``; bounded ranges stay as written."""
    low, high, low_closed, high_closed = _interval(within)
    if math.isinf(high) and not math.isinf(low):
        return f"{'>=' if low_closed else '>'} {low:g}"
    if math.isinf(low) and not math.isinf(high):
        return f"{'<=' if high_closed else '<'} {high:g}"
    return within


def _check_within(name: str, value: float, within: str, default: Any) -> None:
    low, high, low_closed, high_closed = _interval(within)
    if math.isnan(value):
        raise TsganError(f"parameter '{name}' is NaN: give a number in {within}, e.g. its default, --param {name}={default}")
    above = value >= low if low_closed else value > low
    below = value <= high if high_closed else value < high
    if above and below:
        return
    if math.isinf(high):
        need = f"at least {low:g}" if low_closed else f"greater than {low:g}"
    elif math.isinf(low):
        need = f"at most {high:g}" if high_closed else f"less than {high:g}"
    else:
        need = f"in {within}"
    raise TsganError(f"parameter '{name}' must be {need} (got {value:g}): e.g. its default, --param {name}={default}")


def describe(config_cls: type) -> list[dict[str, Any]]:
    """Rows ``{name, type, default, help, choices, within}`` for each field of a config class."""
    hints = typing.get_type_hints(config_cls)
    rows = []
    for f in fields(config_cls):
        rows.append(
            {
                "name": f.name,
                "type": _type_name(hints[f.name]),
                "default": f.default,
                "help": f.metadata.get("help", ""),
                "choices": f.metadata.get("choices"),
                "within": f.metadata.get("within"),
            }
        )
    return rows


def _type_name(t: Any) -> str:
    return getattr(t, "__name__", str(t))


def _coerce(name: str, value: Any, t: Any, choices: tuple[str, ...] | None) -> Any:
    """Convert ``value`` (often a CLI string) to type ``t`` or raise a TsganError."""
    try:
        if t is bool:
            if isinstance(value, bool):
                out = value
            elif isinstance(value, str) and value.lower() in {"true", "1", "yes", "on"}:
                out = True
            elif isinstance(value, str) and value.lower() in {"false", "0", "no", "off"}:
                out = False
            else:
                raise ValueError
        elif t is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            out = int(value)
        elif t is float:
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
        elif t is str:
            if not isinstance(value, str):
                raise ValueError
            out = value
        else:  # pragma: no cover - configs only use the types above
            out = value
    except (TypeError, ValueError):
        raise TsganError(
            f"parameter '{name}' expects {_type_name(t)}, got {value!r}: pass e.g. --param {name}=<{_type_name(t)}>"
        ) from None
    if choices is not None and out not in choices:
        raise TsganError(f"parameter '{name}' must be one of {', '.join(choices)}, got {out!r}")
    return out


def build_config(config_cls: type, params: dict[str, Any] | None, model: str = "") -> Any:
    """Instantiate ``config_cls`` from user params, validating keys, types, choices and ranges."""
    params = dict(params or {})
    hints = typing.get_type_hints(config_cls)
    known = {f.name: f for f in fields(config_cls)}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise TsganError(
            f"unknown parameter '{unknown[0]}' for model '{model}': valid keys are {', '.join(known)} (see `tsgan models`)"
        )
    values = {k: _coerce(k, v, hints[k], known[k].metadata.get("choices")) for k, v in params.items()}
    for k, v in values.items():
        if known[k].metadata.get("within") is not None:
            _check_within(k, v, known[k].metadata["within"], known[k].default)
    return config_cls(**values)


@dataclass
class TrainingOptions:
    """The estimator's options beside the model's own, set the same way
    (``Synthesizer(ema=0.999)``, ``--param ema=0.999``); 0 means off."""

    ema: float = param(0.0, "sample from an exponential moving average of the last phase's weights with this decay, 0 = off (Yazici et al. 2019)", within="[0, 1)")
    select_every: int = param(
        0, "sequence models: score the generator every N steps of its last phase and keep the best checkpoint, 0 = off", within="[0, inf)"
    )
    lr_decay: float = param(0.0, "decay every learning rate linearly towards 0 over this share of the last phase, 0 = off", within="[0, 1]")
    image_size: int = param(0, "image models: resize images to N x N (8-64), 0 = their own size", within="[0, 64]")
    dp_epsilon: float = param(0.0, "train with DP-SGD to this epsilon (per record), 0 = off", within="[0, inf)")
    dp_noise: float = param(0.0, "DP-SGD noise multiplier instead of a target epsilon, 0 = off", within="[0, inf)")
    dp_delta: float = param(0.0, "DP delta, 0 = 1 / (10 x training records)", within="[0, 1)")
    dp_max_grad_norm: float = param(1.0, "DP-SGD per-sample gradient clip", within="(0, inf)")
    keep_conditions: int = param(
        1, "conditional runs: keep up to 2,000 real condition records in the run to draw from when sampling without conditions; "
        "0 = keep none (labels are then drawn uniformly; numeric conditions must be given). DP runs keep none", within="[0, 1]"
    )

    @property
    def private(self) -> bool:
        return self.dp_epsilon > 0 or self.dp_noise > 0


TRAINING_FIELDS = tuple(f.name for f in fields(TrainingOptions))
# recipe entries that read real data outside DP-SGD's accounting: a private run leaves them out
READS_REAL_DATA = ("select_every", "corr_weight")
RECIPES = ("tuned", "paper")


def recipe_values(model_cls: type, recipe: str, private: bool = False) -> dict[str, Any]:
    """The defaults recipe ``recipe`` sets for ``model_cls``: model and training
    options and ``steps``; under DP without what reads real data (``READS_REAL_DATA``)."""
    if recipe not in RECIPES:
        raise TsganError(f"unknown recipe {recipe!r}: use recipe='tuned' (the best measured, default) or 'paper' (--recipe)")
    values = dict(model_cls.recipes.get(recipe, {}))
    return {k: v for k, v in values.items() if not (private and k in READS_REAL_DATA)}


def split_params(model_cls: type, params: dict[str, Any], model: str) -> tuple[Any, TrainingOptions]:
    """The model's config and the training options from one flat dict of params."""
    training = {k: v for k, v in params.items() if k in TRAINING_FIELDS}
    own = {k: v for k, v in params.items() if k not in TRAINING_FIELDS}
    try:
        return build_config(model_cls.config_cls, own, model), build_config(TrainingOptions, training, model)
    except TsganError as e:
        if "unknown parameter" in str(e):
            known = [f.name for f in fields(model_cls.config_cls)] + list(TRAINING_FIELDS)
            bad = sorted(set(params) - set(known))[0]
            raise TsganError(f"unknown parameter '{bad}' for model '{model}': valid keys are {', '.join(known)} (see `tsgan models`)") from None
        raise


def parse_key_values(pairs: list[str] | None, option: str = "--param") -> dict[str, str]:
    """Parse CLI ``key=value`` strings into a dict (values stay strings)."""
    out: dict[str, str] = {}
    example = {"--param": "--param hidden_g=64"}.get(option, f"{option} label=1")
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise TsganError(f"{option} expects key=value, got {pair!r}: e.g. {example}")
        out[key.strip()] = value.strip()
    return out


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)
