"""Config dataclasses: one per model, the single source of truth for hyperparameters.

A field is declared with :func:`param`, which keeps the default and a one-line help
text together. The same dataclass feeds the API (``**params``), the CLI
(``--param key=value``), ``tsgan models`` and the saved ``tsgan.json``.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import field, fields
from typing import Any

from .errors import TsganError


def param(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A config field with a default, a one-line help text and optional choices."""
    return field(default=default, metadata={"help": help, "choices": choices})


def describe(config_cls: type) -> list[dict[str, Any]]:
    """Rows ``{name, type, default, help, choices}`` for each field of a config class."""
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
    """Instantiate ``config_cls`` from user params, validating keys, types and choices."""
    params = dict(params or {})
    hints = typing.get_type_hints(config_cls)
    known = {f.name: f for f in fields(config_cls)}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise TsganError(
            f"unknown parameter '{unknown[0]}' for model '{model}': valid keys are {', '.join(known)} (see `tsgan models`)"
        )
    values = {k: _coerce(k, v, hints[k], known[k].metadata.get("choices")) for k, v in params.items()}
    config = config_cls(**values)
    check = getattr(config, "validate", None)
    if check is not None:
        check()
    return config


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
