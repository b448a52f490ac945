"""Per-column min-max scaling to [0, 1], as in TimeGAN's released code.

``transform(x) = (x - min) / (max - min + eps)`` with ``eps = 1e-7`` (as the TimeGAN code).
A constant column (max == min) maps to 0 and is restored as exactly its constant
value, so it never divides by zero and is modelled as constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np


CHUNK_ROWS = 1_000_000


class MinMaxScaler:
    """Per-column min-max scaler with JSON-serialisable state (learned fields end in ``_``)."""

    def __init__(self, eps: float = 1e-7):
        self.eps = eps

    def fit(self, x: np.ndarray) -> "MinMaxScaler":
        """Learn min and max per column of ``x`` of shape ``(..., F)``."""
        flat = np.asarray(x, dtype=np.float64).reshape(-1, np.shape(x)[-1])
        self.min_ = flat.min(axis=0)
        self.max_ = flat.max(axis=0)
        return self

    @property
    def constant_(self) -> np.ndarray:
        return self.max_ == self.min_

    def transform(self, x: np.ndarray, dtype=np.float64) -> np.ndarray:
        """Scaled to [0, 1], computed in float64 and stored as ``dtype``, a million rows
        at a time (a float32 result never holds a float64 copy of the whole array)."""
        x = np.asarray(x)
        out = np.empty(x.shape, dtype=dtype)
        flat, res = x.reshape(-1, x.shape[-1]) if x.ndim else x, out.reshape(-1, x.shape[-1]) if x.ndim else out
        span = self.max_ - self.min_ + self.eps
        for i in range(0, max(len(flat), 1), CHUNK_ROWS):
            res[i : i + CHUNK_ROWS] = (np.asarray(flat[i : i + CHUNK_ROWS], dtype=np.float64) - self.min_) / span
        return out

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        out = x * (self.max_ - self.min_ + self.eps) + self.min_
        if self.constant_.any():
            out[..., self.constant_] = self.min_[self.constant_]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"eps": self.eps, "min": self.min_.tolist(), "max": self.max_.tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> "MinMaxScaler":
        scaler = cls(eps=float(state["eps"]))
        scaler.min_ = np.asarray(state["min"], dtype=np.float64)
        scaler.max_ = np.asarray(state["max"], dtype=np.float64)
        return scaler
