"""Config dataclasses: one per model, the single source of truth for hyperparameters.

A field is declared with :func:`param`, which keeps the default and a one-line help
text together. The same dataclass feeds the API (``**params``), the CLI
(``--param key=value``), ``tsgan models`` and the saved ``tsgan.json``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import field, fields
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
    """Instantiate ``config_cls`` from user params, validating keys, types, choices and ranges.

    ``preset=NAME`` expands to the parameters of ``config_cls.presets[NAME]`` (a
    model's measured recipes); parameters given next to it override the preset's."""
    params = dict(params or {})
    if "preset" in params:
        presets = getattr(config_cls, "presets", {})
        name = params.pop("preset")
        if name not in presets:
            have = f"one of {', '.join(presets)}" if presets else "none: this model has no presets"
            raise TsganError(f"unknown preset {name!r} for model '{model}': {have} (see `tsgan models`)")
        params = {**presets[name]["params"], **params}
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
