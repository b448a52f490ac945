"""Condition columns for conditional GANs (Mirza & Osindero 2014).

A condition column is a label (categorical: strings, bools, integers) or a
numeric attribute. Per-sequence conditions are constant within an entity
(static attributes); per-step conditions vary along time (RCGAN's setting). Both
become one per-step array ``(rows, C)``: categoricals one-hot, numerics min-max
scaled to [0, 1]; a static condition is simply the same vector at every step.

The encoder is JSON-serialisable and refuses labels it has not seen.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TsganError


@dataclass
class ConditionColumn:
    name: str
    kind: str  # "categorical" or "numeric"
    labels: list[Any]  # categorical: the seen labels, in code order
    low: float = 0.0  # numeric: the training range
    high: float = 1.0
    dtype: str = "float64"

    @property
    def width(self) -> int:
        return len(self.labels) if self.kind == "categorical" else 1


def _is_categorical(s: pd.Series) -> bool:
    return not pd.api.types.is_float_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype)


def _plain(v: Any) -> Any:
    """A JSON-friendly python scalar (numpy ints/bools/floats to python)."""
    return v.item() if isinstance(v, np.generic) else v


class ConditionEncoder:
    """Encodes condition columns to a per-step vector and decodes them back."""

    def __init__(self, columns: list[ConditionColumn]):
        self.columns = columns

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> "ConditionEncoder":
        cols = []
        for name in frame.columns:
            s = frame[name]
            if s.isna().any():
                raise TsganError(f"condition column '{name}' has missing values: fill or drop them before fitting")
            if _is_categorical(s):
                labels = [_plain(v) for v in pd.unique(s)]
                try:
                    labels = sorted(labels)
                except TypeError:  # mixed types keep first-seen order
                    pass
                cols.append(ConditionColumn(str(name), "categorical", labels, dtype=str(s.dtype)))
            else:
                v = s.to_numpy(dtype=np.float64)
                if not np.isfinite(v).all():
                    raise TsganError(f"condition column '{name}' has infinite values: fill or drop them before fitting")
                cols.append(ConditionColumn(str(name), "numeric", [], float(v.min()), float(v.max()), str(s.dtype)))
        return cls(cols)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """``(rows, C)`` float32; unseen labels or missing columns raise a clear error."""
        missing = [n for n in self.names if n not in frame.columns]
        if missing:
            raise TsganError(
                f"conditions lack column(s) {', '.join(missing)}: this model is conditioned on {', '.join(self.names)}"
            )
        parts = []
        for c in self.columns:
            s = frame[c.name]
            if c.kind == "categorical":
                index = {lab: k for k, lab in enumerate(c.labels)}
                codes = np.empty(len(s), dtype=np.int64)
                for i, v in enumerate(s.tolist()):
                    k = index.get(_plain(v))
                    if k is None:
                        k = _match_label(v, c)
                    codes[i] = k
                parts.append(np.eye(len(c.labels), dtype=np.float32)[codes])
            else:
                try:
                    v = pd.to_numeric(s).to_numpy(dtype=np.float64)
                except (TypeError, ValueError):
                    raise TsganError(f"condition '{c.name}' is numeric: got {s.iloc[0]!r}") from None
                span = c.high - c.low
                scaled = (v - c.low) / span if span > 0 else np.zeros_like(v)
                parts.append(scaled.astype(np.float32)[:, None])
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(frame), 0), np.float32)

    def inverse_transform(self, encoded: np.ndarray) -> pd.DataFrame:
        """Labels and values back from ``(rows, C)`` (argmax for one-hot blocks)."""
        out = {}
        j = 0
        for c in self.columns:
            block = encoded[:, j : j + c.width]
            j += c.width
            if c.kind == "categorical":
                labels = np.asarray(c.labels, dtype=object)[block.argmax(1)]
                out[c.name] = pd.Series(labels).astype(c.dtype) if c.dtype != "object" else labels
            else:
                out[c.name] = (c.low + block[:, 0] * (c.high - c.low)).astype(c.dtype)
        return pd.DataFrame(out)

    def request(self, condition: Any, n: int, seq_len: int | None) -> np.ndarray:
        """Conditions for ``n`` sequences ``(n, T, C)`` (or records ``(n, C)`` when
        ``seq_len`` is None) from a user's request.

        ``condition`` is a value (one condition column), a dict ``{column: value}``,
        a list of ``n`` values, or a DataFrame with the condition columns and either
        ``n`` rows (one per sequence) or ``n * seq_len`` rows (per step, in order).
        """
        if isinstance(condition, pd.DataFrame):
            frame = condition
        elif isinstance(condition, dict):
            frame = pd.DataFrame({k: v if np.ndim(v) else [v] for k, v in condition.items()})
        else:
            if len(self.columns) != 1:
                raise TsganError(
                    f"this model has {len(self.columns)} condition columns ({', '.join(self.names)}): "
                    "pass a dict {column: value} or a DataFrame"
                )
            values = list(condition) if isinstance(condition, (list, tuple, np.ndarray, pd.Series)) else [condition]
            frame = pd.DataFrame({self.names[0]: values})
        encoded = self.transform(frame)
        rows = len(encoded)
        if seq_len is None:  # one condition vector per record (images, tables)
            if rows in (1, n):
                return np.broadcast_to(encoded, (n, encoded.shape[1])).copy()
            raise TsganError(f"got {rows} conditions for {n} samples: pass one condition or {n}")
        if rows == 1:
            return np.broadcast_to(encoded[None], (n, seq_len, encoded.shape[1])).copy()
        if rows == n:
            return np.repeat(encoded[:, None], seq_len, axis=1)
        if rows == n * seq_len:
            return encoded.reshape(n, seq_len, -1)
        raise TsganError(
            f"got {rows} conditions for {n} sequences: pass one condition, {n} (one per sequence) or {n * seq_len} (one per step)"
        )

    @property
    def numeric(self) -> list[str]:
        """The numeric condition columns (the rest are labels)."""
        return [c.name for c in self.columns if c.kind == "numeric"]

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ConditionEncoder":
        return cls([ConditionColumn(**c) for c in d["columns"]])


def _match_label(v: Any, c: ConditionColumn) -> int:
    """A label given as text on the CLI ("2") matches a seen label 2; otherwise refuse."""
    text = str(v)
    for k, lab in enumerate(c.labels):
        if str(lab) == text:
            return k
    shown = ", ".join(map(str, c.labels[:20])) + (" ..." if len(c.labels) > 20 else "")
    raise TsganError(f"unknown label {v!r} for condition '{c.name}': the model was trained on {shown}")
