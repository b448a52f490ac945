"""Mixed numeric and categorical tables for CTGAN-class models (Xu et al. 2019).

``TableTransformer`` (fit / transform / inverse_transform, JSON state):

* numeric columns: mode-specific normalisation (section 4.2). A variational
  Gaussian mixture (scikit-learn's ``BayesianGaussianMixture``, Dirichlet-process
  prior, 10 components) finds the modes; a value becomes a one-hot mode indicator
  ``beta`` (mode drawn from its posterior) and a scalar ``alpha = (x - mu) / (4 sigma)``
  clipped to [-0.99, 0.99]. Generated numbers stay inside the observed range and
  come back as observed values when a column has at most ``max_discrete_values``
  distinct ones (ages in brackets, counts stored as floats), else rounded to the
  decimals the column is written with (as SDV's data processing does);
* categorical columns (text, category, bool, or integers with at most
  ``max_int_categories`` values): one-hot. Missing values of a categorical column
  are modelled as their own category and come back as missing; missing numeric
  values are refused.

``TableData`` batches by CTGAN's training-by-sampling: a categorical column is
chosen uniformly, a category with probability proportional to the log of its
frequency, and real rows are drawn among those with that category; the batch
carries the conditional vector.
"""

from __future__ import annotations


import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import TsganError
from .images import ArrayData

MISSING = "__missing__"


def _decimals(x: np.ndarray, most: int = 6) -> int | None:
    """The fewest decimals (at most ``most``) that write every value of ``x`` exactly, or None."""
    scale = np.maximum(np.abs(x), 1.0)
    for d in range(most + 1):
        if np.all(np.abs(np.round(x, d) - x) <= 1e-9 * scale):
            return d
    return None


def _respect(v: np.ndarray, column: dict[str, Any]) -> np.ndarray:
    """Generated numbers inside the column's observed range, snapped to its observed
    values (few-valued columns) or rounded to its decimals. Runs saved before these
    were recorded come back unchanged."""
    if "min" in column:
        v = np.clip(v, column["min"], column["max"])
    if column.get("values"):
        values = np.asarray(column["values"])  # sorted
        if len(values) == 1:
            return np.full(len(v), values[0])
        i = np.clip(np.searchsorted(values, v), 1, len(values) - 1)
        return np.where(v - values[i - 1] <= values[i] - v, values[i - 1], values[i])  # the nearer neighbour
    if column.get("decimals") is not None:
        return np.round(v, column["decimals"])
    return v


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


@dataclass
class Block:
    """A span of the transformed row: ``tanh`` (alpha) or ``softmax`` (one-hot)."""

    kind: str
    width: int
    column: str
    role: str  # "alpha", "mode" or "category"


class TableTransformer:
    def __init__(self, max_modes: int = 10, max_int_categories: int = 10, seed: int = 0, max_discrete_values: int = 20):
        self.max_modes = max_modes
        self.max_int_categories = max_int_categories
        self.max_discrete_values = max_discrete_values
        self.seed = seed

    # ------------------------------------------------------------------ fit
    def fit(self, frame: pd.DataFrame, categorical: list[str] | None = None) -> "TableTransformer":
        if frame.shape[1] == 0 or len(frame) < 2:
            raise TsganError("the table needs at least one column and two rows")
        self.columns_: list[dict[str, Any]] = []
        forced = set(categorical or [])
        unknown = forced - set(frame.columns)
        if unknown:
            raise TsganError(f"categorical column(s) {', '.join(sorted(unknown))} not in the table: choose from {', '.join(map(str, frame.columns))}")
        for name in frame.columns:
            s = frame[name]
            if name in forced or self._is_categorical(s):
                values = s.astype(object).where(s.notna(), MISSING)
                cats, counts = np.unique(values.astype(str), return_counts=True)
                originals = {str(v): _plain(v) for v in values.unique()}
                self.columns_.append({
                    "name": str(name), "kind": "categorical", "dtype": str(s.dtype),
                    "categories": [originals[c] if c != MISSING else None for c in cats],
                    "keys": [str(c) for c in cats], "frequency": (counts / counts.sum()).tolist(),
                })
            else:
                v = pd.to_numeric(s, errors="coerce")
                if s.isna().any() or v.isna().any():
                    n_bad = int(v.isna().sum())
                    raise TsganError(f"column '{name}' has {n_bad} missing or non-numeric values: fill or drop them (missing numbers are not modelled)")
                x = v.to_numpy(dtype=np.float64)
                if not np.isfinite(x).all():
                    raise TsganError(f"column '{name}' has infinite values: fill or drop them")
                self.columns_.append({"name": str(name), "kind": "numeric", "dtype": str(s.dtype), **self._fit_modes(x), **self._fit_values(x)})
        return self

    def _is_categorical(self, s: pd.Series) -> bool:
        if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s):
            return True
        return pd.api.types.is_integer_dtype(s) and s.nunique() <= self.max_int_categories

    def _fit_values(self, x: np.ndarray) -> dict[str, Any]:
        """What generated values must respect: the observed range; the observed values
        themselves when there are at most ``max_discrete_values`` (ages in brackets,
        counts stored as floats); else the decimals the column is written with."""
        out: dict[str, Any] = {"min": float(x.min()), "max": float(x.max())}
        values = np.unique(x)
        if len(values) <= self.max_discrete_values:
            out["values"] = values.tolist()
        else:
            out["decimals"] = _decimals(x)
        return out

    def _fit_modes(self, x: np.ndarray) -> dict[str, Any]:
        from sklearn.mixture import BayesianGaussianMixture

        if np.ptp(x) == 0:
            return {"means": [float(x[0])], "stds": [1.0], "weights": [1.0]}
        gm = BayesianGaussianMixture(
            n_components=min(self.max_modes, len(np.unique(x))), weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=0.001, max_iter=100, n_init=1, random_state=self.seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings on small columns
            gm.fit(x.reshape(-1, 1))
        keep = gm.weights_ > 0.005  # CTGAN's threshold for a valid mode
        return {
            "means": gm.means_[keep, 0].tolist(),
            "stds": np.sqrt(gm.covariances_[keep].reshape(-1)).tolist(),
            "weights": (gm.weights_[keep] / gm.weights_[keep].sum()).tolist(),
        }

    # ------------------------------------------------------------------ layout
    @property
    def blocks(self) -> list[Block]:
        out = []
        for c in self.columns_:
            if c["kind"] == "numeric":
                out += [Block("tanh", 1, c["name"], "alpha"), Block("softmax", len(c["means"]), c["name"], "mode")]
            else:
                out.append(Block("softmax", len(c["categories"]), c["name"], "category"))
        return out

    @property
    def width(self) -> int:
        return sum(b.width for b in self.blocks)

    @property
    def cond_width(self) -> int:
        return sum(b.width for b in self.blocks if b.role == "category")

    def layout(self) -> list[dict[str, Any]]:
        return [vars(b) for b in self.blocks]

    # ------------------------------------------------------------------ transform
    def transform(self, frame: pd.DataFrame, rng: np.random.Generator | None = None) -> np.ndarray:
        """``(rows, width)`` float32; the mode of a value is drawn from its posterior."""
        rng = rng or np.random.default_rng(self.seed)
        parts = []
        for c in self.columns_:
            s = frame[c["name"]]
            if c["kind"] == "numeric":
                x = pd.to_numeric(s).to_numpy(dtype=np.float64)[:, None]
                mu, sd, w = (np.asarray(c[k])[None] for k in ("means", "stds", "weights"))
                logp = np.log(w + 1e-12) - 0.5 * ((x - mu) / sd) ** 2 - np.log(sd)
                p = np.exp(logp - logp.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                mode = (p.cumsum(1) > rng.uniform(size=(len(x), 1))).argmax(1)
                alpha = np.clip((x[:, 0] - mu[0, mode]) / (4 * sd[0, mode]), -0.99, 0.99)
                parts += [alpha[:, None], np.eye(mu.shape[1])[mode]]
            else:
                keys = s.astype(object).where(s.notna(), MISSING).astype(str).to_numpy()
                index = {k: i for i, k in enumerate(c["keys"])}
                bad = [k for k in keys if k not in index]
                if bad:
                    raise TsganError(f"unknown category {bad[0]!r} in column '{c['name']}': the model knows {', '.join(c['keys'][:20])}")
                parts.append(np.eye(len(c["keys"]))[[index[k] for k in keys]])
        return np.concatenate(parts, axis=1).astype(np.float32)

    def inverse_transform(self, x: np.ndarray) -> pd.DataFrame:
        """A DataFrame with the original columns, dtypes and category labels."""
        out = {}
        j = 0
        for c in self.columns_:
            if c["kind"] == "numeric":
                k = len(c["means"])
                alpha, mode = x[:, j], x[:, j + 1 : j + 1 + k].argmax(1)
                j += 1 + k
                v = _respect(np.clip(alpha, -1, 1) * 4 * np.asarray(c["stds"])[mode] + np.asarray(c["means"])[mode], c)
                dt = np.dtype(c["dtype"]) if c["dtype"] in np.sctypeDict or c["dtype"].startswith(("int", "float", "uint")) else np.float64
                out[c["name"]] = np.rint(v).astype(dt) if dt.kind in "iu" else v.astype(dt)
            else:
                k = len(c["categories"])
                idx = x[:, j : j + k].argmax(1)
                j += k
                labels = pd.Series(np.asarray(c["categories"], dtype=object)[idx])
                if c["dtype"] == "bool" and not labels.isna().any():
                    labels = labels.astype(bool)
                elif c["dtype"] not in ("object", "category", "str", "string") and not c["dtype"].startswith("string"):
                    try:
                        labels = labels.astype(c["dtype"]) if not labels.isna().any() else labels
                    except (TypeError, ValueError):
                        pass
                elif c["dtype"] == "category":
                    labels = labels.astype("category")
                out[c["name"]] = labels.to_numpy() if c["dtype"] != "category" else labels
        return pd.DataFrame(out)

    # ------------------------------------------------------------------ conditions
    def original_condition(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Conditional vectors as CTGAN samples them for generation: a categorical column
        chosen uniformly, a category with its training frequency."""
        cats = [c for c in self.columns_ if c["kind"] == "categorical"]
        vec = np.zeros((n, self.cond_width), np.float32)
        if not cats:
            return vec
        offsets = np.cumsum([0] + [len(c["keys"]) for c in cats])[:-1]
        col = rng.integers(len(cats), size=n)
        for j, c in enumerate(cats):
            rows = np.nonzero(col == j)[0]
            vec[rows, offsets[j] + rng.choice(len(c["keys"]), size=len(rows), p=np.asarray(c["frequency"]))] = 1
        return vec

    def condition_vector(self, condition: dict[str, Any], n: int) -> np.ndarray:
        """CTGAN's conditional vector ``(n, cond_width)`` asking for ``column = value``."""
        if len(condition) != 1:
            raise TsganError("tables are sampled under one condition at a time: pass {column: value}")
        (name, value), = condition.items()
        cats = [c for c in self.columns_ if c["kind"] == "categorical"]
        names = [c["name"] for c in cats]
        if name not in names:
            raise TsganError(f"condition column '{name}' is not a categorical column: choose one of {', '.join(names)}")
        vec = np.zeros((n, self.cond_width), np.float32)
        offset = 0
        for c in cats:
            if c["name"] == name:
                key = MISSING if value is None else str(value)
                if key not in c["keys"]:
                    raise TsganError(f"unknown label {value!r} for condition '{name}': the model was trained on {', '.join(c['keys'][:20])}")
                vec[:, offset + c["keys"].index(key)] = 1
            offset += len(c["keys"])
        return vec

    def to_dict(self) -> dict[str, Any]:
        return {"max_modes": self.max_modes, "max_int_categories": self.max_int_categories, "seed": self.seed,
                "max_discrete_values": self.max_discrete_values, "columns": self.columns_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TableTransformer":
        t = cls(d["max_modes"], d["max_int_categories"], d["seed"], d.get("max_discrete_values", 20))
        t.columns_ = d["columns"]
        return t


@dataclass
class TableSpec:
    columns: list[str]
    n_rows: int
    transformer: dict
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "n_rows": self.n_rows, "transformer": self.transformer, "source": self.source}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TableSpec":
        return cls(**d)


class TableData(ArrayData):
    """Transformed rows plus what training-by-sampling needs."""

    def __init__(self, x: np.ndarray, transformer: TableTransformer):
        super().__init__(x)
        blocks = transformer.blocks
        starts = np.cumsum([0] + [b.width for b in blocks])[:-1]
        self.cat_spans = [(int(s), b.width) for s, b in zip(starts, blocks) if b.role == "category"]

    def to(self, device) -> "TableSampler":
        return TableSampler(self, torch.device(device))


class TableSampler:
    def __init__(self, data: TableData, device: torch.device):
        self.device = device
        self.spans = data.cat_spans
        self._index(torch.as_tensor(data.x, device=device))

    def _index(self, x: torch.Tensor) -> None:
        self.x = x
        # per categorical column: log-frequency sampling weights and the rows of each category
        self.log_freq, self.rows = [], []
        for st, w in self.spans:
            codes = self.x[:, st : st + w].argmax(1)
            counts = torch.bincount(codes, minlength=w).float()
            self.log_freq.append(torch.log(counts + 1) / torch.log(counts + 1).sum())
            order = torch.argsort(codes)
            self.rows.append((order, torch.cumsum(counts.long(), 0) - counts.long(), counts.long()))
        self.cond_width = sum(w for _, w in self.spans)

    def batch(self, batch_size: int, generator: torch.Generator):
        g = generator
        n = len(self.x)
        if not self.spans:  # no categorical column: plain uniform rows, an empty conditional vector
            idx = torch.randint(n, (batch_size,), generator=g, device=g.device).to(self.device)
            return self.x[idx], self.x.new_zeros(batch_size, 0)
        col = torch.randint(len(self.spans), (batch_size,), generator=g, device=g.device).to(self.device)
        cond = self.x.new_zeros(batch_size, self.cond_width)
        idx = torch.empty(batch_size, dtype=torch.long, device=self.device)
        offset = 0
        for j, (_, w) in enumerate(self.spans):
            pick = (col == j).nonzero()[:, 0]
            if len(pick):
                cat = torch.multinomial(self.log_freq[j], len(pick), replacement=True, generator=g).to(self.device)
                order, first, count = self.rows[j]
                r = torch.rand(len(pick), generator=g, device=g.device).to(self.device)
                idx[pick] = order[first[cat] + (r * count[cat]).long().clamp(max=count[cat] - 1)]
                cond[pick, offset + cat] = 1
            offset += w
        return self.x[idx], cond
