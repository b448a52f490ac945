"""Entity tables: one row per observation, an id column, usually a time column, static
attributes and temporal columns of any type, missing values, entities of different
lengths (hospital stays, machines, accounts). The building block of the entity data
kind: detected column roles (:func:`detect_roles`) and one reversible encoder
(:class:`EntityEncoder`) between a long table and tensors.

An entity becomes

* ``static``  ``(E, S)``: the start time, the length, then each static column;
* ``temporal`` ``(E, T_max, F)``: the gap to the previous step, then each temporal
  column; padded after the entity's last step;
* ``mask`` ``(E, T_max)``: which steps exist (the length).

Numbers are min-max scaled to [0, 1] (0 where missing), or with 20 or more distinct values coded by their
empirical CDF (201 quantiles), as gaps are; start times are
``log1p``-scaled first (heavy tails); gaps are coded by their empirical CDF (of
``log1p(gap)``), uniform on [0, 1]. Categorical and boolean columns are one-hot
(boolean as two categories). A column with missing values gets a missing indicator
(numbers) or a missing category (labels), so the synthetic table can say "not
observed" at the rates and in the patterns of the real one. ``layout()`` says which
features form each one-hot group, for softmax / Gumbel outputs.

``inverse_transform`` gives back the same schema: the original column names and
order, dtypes and categories, a fresh id per entity in the id column's style, times in
the time column's dtype, non-decreasing within an entity (strictly increasing when the
real data never repeats a time), static columns constant within an entity, NaN where
missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TsganError
from .tabular import _decimals, _plain

MAX_CATEGORIES = 50
GAP_QUANTILES = 201  # points of an empirical CDF kept to code gaps and many-valued numbers
MANY_VALUES = 20  # numbers with at least this many distinct values are coded by their CDF


@dataclass
class Column:
    """One modelled column: its role (static / temporal), type and what decoding needs."""

    name: str
    role: str  # "static" or "temporal"
    type: str  # "numeric", "categorical", "boolean" or "datetime"
    dtype: str
    categories: list[Any] = field(default_factory=list)  # labels in code order (booleans: [False, True])
    low: float = 0.0  # numbers (datetimes as int64 ns): the observed range
    high: float = 1.0
    missing: bool = False  # has missing values: an indicator (numbers) or a category (labels)
    decimals: int | None = None  # numbers: written with this many decimals
    format: str = ""  # date text: written back in this strftime format
    quantiles: list[float] | None = None  # numbers with many values: coded by their empirical CDF at these points

    @property
    def width(self) -> int:
        if self.type in ("categorical", "boolean"):
            return len(self.categories) + self.missing
        return 1 + self.missing


@dataclass
class EntitySchema:
    """The table's layout: id and time columns, the modelled columns, the original order."""

    id_column: str
    time_column: str | None
    time_type: str  # "datetime", "numeric" or "index" (no time column: steps 0, 1, 2, ...)
    time_dtype: str
    columns: list[Column]
    order: list[str]  # every column of the table, in its order
    id_kind: str  # "int" or "str": fresh ids are written the same way
    id_prefix: str = ""
    time_format: str = ""  # date text: times are written back in this strftime format

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EntitySchema":
        d = dict(d)
        d["columns"] = [Column(**c) for c in d["columns"]]
        return cls(**d)


def _kind(s: pd.Series, categorical: bool) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(s) or (not categorical and _date_format(s) is not None):
        return "datetime"
    if categorical or not pd.api.types.is_numeric_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    return "numeric"


def detect_roles(
    df: pd.DataFrame,
    id_column: str,
    time_column: str | None = None,
    static_columns: list[str] | None = None,
    categorical_columns: list[str] | None = None,
    max_categories: int = MAX_CATEGORIES,
) -> list[tuple[str, str, str]]:
    """``(column, role, type)`` for every column but the id and time: static when it is
    constant within every entity (missing counts as a value), else temporal; boolean,
    datetime, categorical (text, category dtype, or named in ``categorical_columns``) or
    numeric. ``static_columns`` forces the role and is checked."""
    for opt, name in (("--id-column", id_column), ("--time-column", time_column)):
        if name is not None and name not in df.columns:
            raise TsganError(f"{opt} '{name}' is not a column: choose one of {', '.join(map(str, df.columns))}")
    static_columns, categorical_columns = list(static_columns or []), list(categorical_columns or [])
    for opt, names in (("--static-column", static_columns), ("--categorical-column", categorical_columns)):
        for name in names:
            if name not in df.columns or name in (id_column, time_column):
                raise TsganError(f"{opt} '{name}' is not a column other than the id and time: choose one of "
                                 f"{', '.join(str(c) for c in df.columns if c not in (id_column, time_column))}")
    groups = df.groupby(df[id_column], sort=False, dropna=False)
    roles = []
    for name in df.columns:
        if name in (id_column, time_column):
            continue
        s = df[name]
        if s.isna().all():
            raise TsganError(f"column '{name}' is entirely missing: drop it")
        varies = groups[name].nunique(dropna=False) > 1
        if name in static_columns and varies.any():
            raise TsganError(f"--static-column '{name}' varies within entity {varies.idxmax()!r}: drop the override, or fix that entity")
        kind = _kind(s, name in categorical_columns)
        if kind == "categorical" and s.nunique() > max_categories:
            raise TsganError(f"column '{name}' has {s.nunique()} distinct values, more than --max-categories {max_categories}: "
                             f"drop it, or convert it to numbers if it is a quantity")
        roles.append((str(name), "temporal" if varies.any() else "static", kind))
    return roles


class EntityEncoder:
    """Long entity table <-> ``(static, temporal, mask)`` arrays; JSON state."""

    kept = ("each column's labels and numeric range, the id prefix, the earliest time, the time grid, 201 quantiles of "
            "the gaps between steps and the range of starts and lengths (the entity encoder; not covered by a DP epsilon)")

    def __init__(self, schema: EntitySchema, max_length: int, gap: tuple[float, float] = (0.0, 1.0),
                 start: tuple[float, float] = (0.0, 1.0), length: tuple[float, float] = (1.0, 1.0), min_gap: float = 0.0,
                 t0: float = 0.0, resolution: float = 0.0, gap_quantiles: list[float] | None = None):
        self.schema, self.max_length = schema, max_length
        # gaps are encoded by their empirical CDF (201 quantiles of log1p(gap)): uniform on
        # [0, 1], so an error in the model's space is the same error in the distribution
        self.gap_quantiles = None if gap_quantiles is None else np.asarray(gap_quantiles, dtype=np.float64)
        self.gap, self.start, self.length, self.min_gap, self.t0 = gap, start, length, min_gap, t0
        self.resolution = resolution  # times are multiples of this (datetimes: ns; 0: any)

    # ------------------------------------------------------------------ fit
    @classmethod
    def fit(cls, df: pd.DataFrame, id_column: str, time_column: str | None = None, static_columns: list[str] | None = None,
            categorical_columns: list[str] | None = None, max_categories: int = MAX_CATEGORIES,
            max_length: int | None = None) -> "EntityEncoder":
        roles = detect_roles(df, id_column, time_column, static_columns, categorical_columns, max_categories)
        columns = []
        for name, role, kind in roles:
            s = df[name]
            col = Column(name, role, kind, str(s.dtype), missing=bool(s.isna().any()))
            present = s.dropna()
            if kind in ("categorical", "boolean"):
                col.categories = [False, True] if kind == "boolean" else [_plain(v) for v in pd.unique(present)]
            else:
                if kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(s):
                    col.format = _date_format(s) or ""
                x = _numbers(present, kind)
                col.low, col.high = float(x.min()), float(x.max())
                col.decimals = _decimals(x) if kind == "numeric" else None
                if kind == "numeric" and len(np.unique(x)) >= MANY_VALUES:
                    col.quantiles = _knots(x).tolist()
            columns.append(col)
        ids = df[id_column]
        id_kind = "int" if pd.api.types.is_integer_dtype(ids) else "str"
        prefix = _common_prefix(ids.astype(str).unique()[:1000]) if id_kind == "str" else ""
        time_type, time_dtype = "index", ""
        if time_column is not None:
            time_type = "datetime" if pd.api.types.is_datetime64_any_dtype(df[time_column]) else "numeric"
            if time_type == "numeric" and not pd.api.types.is_numeric_dtype(df[time_column]):
                time_type = "datetime"  # date text: parsed
            time_dtype = str(df[time_column].dtype)
        time_format = _date_format(df[time_column]) if time_type == "datetime" and not pd.api.types.is_datetime64_any_dtype(
            df[time_column]) else None
        schema = EntitySchema(str(id_column), None if time_column is None else str(time_column), time_type, time_dtype,
                              columns, [str(c) for c in df.columns], id_kind, prefix, time_format or "")
        enc = cls(schema, 1)
        times, lengths, _ = enc._times(df)
        longest = int(lengths.max())
        if longest < 2:
            raise TsganError("every entity has a single step: entity models need at least 2 steps per entity")
        enc.max_length = min(longest, max_length) if max_length else longest
        gaps = np.concatenate([np.diff(t) for t in times if len(t) > 1])
        positive = gaps[gaps > 0]
        enc.min_gap = 0.0 if (gaps == 0).any() or not len(positive) else float(positive.min())
        lg, ls = np.log1p(np.maximum(gaps, 0)), np.log1p(np.array([t[0] for t in times]) - _t0(times))
        enc.gap, enc.start = (0.0, float(lg.max())), (float(ls.min()), float(ls.max()))  # a first step has gap 0
        enc.gap_quantiles = _knots(lg)
        enc.length = (float(lengths.min()), float(min(lengths.max(), enc.max_length)))
        enc.t0 = _t0(times)
        enc.resolution = _resolution(np.concatenate(times), schema.time_type)
        return enc

    def _times(self, df: pd.DataFrame) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Each entity's sorted times (float64; datetimes in ns; steps 0, 1, ... without a
        time column), in order of first appearance; the lengths; the row order that
        sorts the table by entity, then time (ties in file order)."""
        s = self.schema
        codes = pd.factorize(df[s.id_column], sort=False)[0]
        if s.time_column is None:
            t = df.groupby(codes, sort=False).cumcount().to_numpy(dtype=np.float64)
        else:
            t = _numbers(df[s.time_column], "datetime" if s.time_type == "datetime" else "numeric")
        order = np.lexsort((t, codes))
        lengths = np.bincount(codes)
        return np.split(t[order], np.cumsum(lengths)[:-1]), lengths, order

    # ------------------------------------------------------------------ layout
    def static_columns(self) -> list[Column]:
        return [c for c in self.schema.columns if c.role == "static"]

    def temporal_columns(self) -> list[Column]:
        return [c for c in self.schema.columns if c.role == "temporal"]

    def layout(self) -> dict[str, list[dict[str, Any]]]:
        """Per array, its blocks in order: ``{"name", "kind": "number" | "one_hot" | "indicator", "start", "width"}``."""
        def blocks(head: list[str], columns: list[Column]) -> list[dict[str, Any]]:
            out, at = [], 0
            for name in head:
                out.append({"name": name, "kind": "number", "start": at, "width": 1})
                at += 1
            for c in columns:
                if c.type in ("categorical", "boolean"):
                    out.append({"name": c.name, "kind": "one_hot", "start": at, "width": c.width})
                else:
                    out.append({"name": c.name, "kind": "number", "start": at, "width": 1})
                    if c.missing:
                        out.append({"name": c.name, "kind": "indicator", "start": at + 1, "width": 1})
                at += c.width
            return out

        return {"static": blocks(["__start__", "__length__"], self.static_columns()), "temporal": blocks(["__gap__"], self.temporal_columns())}

    # ------------------------------------------------------------------ transform
    def layout_width(self, which: str) -> int:
        """Width of the encoded ``"static"`` or ``"temporal"`` vector."""
        return sum(b["width"] for b in self.layout()[which])

    def transform(self, df: pd.DataFrame, owners: bool = False):
        """``(static (E, S), temporal (E, T_max, F), mask (E, T_max))`` float32 / bool;
        entities longer than ``max_length`` are cut into consecutive pieces, each an
        entity; one-step pieces are left out. With ``owners``, also the index of the
        table's entity (in order of first appearance) each piece comes from."""
        times, lengths, order = self._times(df)
        t_all = np.concatenate(times)
        rows = df.iloc[order].reset_index(drop=True)
        starts = np.r_[0, np.cumsum(lengths)[:-1]]
        pieces = [(a + k, min(self.max_length, n - k), e) for e, (a, n) in enumerate(zip(starts, lengths))
                  for k in range(0, n, self.max_length)]
        pieces = [p for p in pieces if p[1] >= 2] or pieces
        owner = np.array([e for _, _, e in pieces], dtype=np.int64)
        pieces = [(a, n) for a, n, _ in pieces]
        temporal_cols, static_cols = self.temporal_columns(), self.static_columns()
        tv = self._encode(rows, temporal_cols)  # (rows, F - 1)
        sv = self._encode(rows, static_cols)  # (rows, S - 2): constant within an entity
        gaps = np.r_[0.0, np.diff(t_all)]
        E, T = len(pieces), self.max_length
        temporal = np.zeros((E, T, 1 + tv.shape[1]), dtype=np.float32)
        static = np.zeros((E, 2 + sv.shape[1]), dtype=np.float32)
        mask = np.zeros((E, T), dtype=bool)
        for e, (a, n) in enumerate(pieces):
            g = gaps[a : a + n].copy()
            g[0] = 0.0
            temporal[e, :n, 0] = self._gap_code(np.log1p(np.maximum(g, 0)))
            temporal[e, 0, 0] = 0.0  # a first step has no gap
            temporal[e, :n, 1:] = tv[a : a + n]
            mask[e, :n] = True
            static[e, 0] = _scale(np.log1p(max(t_all[a] - self.t0, 0.0)), self.start)
            static[e, 1] = _scale(np.array(float(n)), self.length)
            static[e, 2:] = sv[a]
        return (static, temporal, mask, owner) if owners else (static, temporal, mask)

    def _gap_code(self, lg: np.ndarray) -> np.ndarray:
        if self.gap_quantiles is None:  # runs saved before quantile codes
            return _scale(lg, self.gap)
        q = self.gap_quantiles
        return np.interp(lg, q, np.linspace(0, 1, len(q)))

    def _gap_back(self, u: np.ndarray) -> np.ndarray:
        if self.gap_quantiles is None:
            return _unscale(u, self.gap)
        q = self.gap_quantiles
        return np.interp(np.clip(u, 0, 1), np.linspace(0, 1, len(q)), q)

    def _encode(self, rows: pd.DataFrame, columns: list[Column]) -> np.ndarray:
        parts = []
        for c in columns:
            s = rows[c.name]
            miss = s.isna().to_numpy()
            if c.type in ("categorical", "boolean"):
                lookup = {v: i for i, v in enumerate(c.categories)}
                idx = np.array([len(c.categories) if m else lookup.get(_plain(v), -1) for v, m in zip(s.tolist(), miss)])
                if (idx < 0).any():
                    raise TsganError(f"column '{c.name}' has a value never seen when the encoder was fitted ({s[idx < 0].iloc[0]!r})")
                block = np.zeros((len(s), c.width), dtype=np.float32)
                block[np.arange(len(s)), idx] = 1.0
            else:
                x = np.where(miss, c.low, _numbers(s.fillna(s.dropna().iloc[0] if (~miss).any() else 0), c.type))
                block = number_code(c, x)[:, None].astype(np.float32)
                if c.missing:
                    block = np.concatenate([np.where(miss[:, None], 0.0, block), miss[:, None].astype(np.float32)], axis=1)
            parts.append(block)
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(rows), 0), dtype=np.float32)

    # ------------------------------------------------------------------ inverse
    def inverse_transform(self, static: np.ndarray, temporal: np.ndarray, mask: np.ndarray | None = None,
                          first_id: int = 0) -> pd.DataFrame:
        """The long table of the schema from encoded entities. ``mask`` (or the decoded
        length, when None) says which steps exist; ids are numbered from ``first_id``."""
        s = self.schema
        E = len(static)
        lengths = (mask.sum(axis=1) if mask is not None else
                   np.clip(np.rint(_unscale(static[:, 1], self.length)), 2, self.max_length)).astype(int)
        lengths = np.maximum(lengths, 1)
        rows = np.repeat(np.arange(E), lengths)
        steps = np.concatenate([np.arange(n) for n in lengths])
        out: dict[str, Any] = {}
        ids = np.arange(first_id, first_id + E)
        out[s.id_column] = ids[rows] if s.id_kind == "int" else np.array([f"{s.id_prefix}{k}" for k in ids])[rows]
        if s.time_column is not None:
            gaps = np.expm1(np.maximum(self._gap_back(temporal[rows, steps, 0].astype(np.float64)), 0.0))
            start = self.t0 + np.expm1(np.maximum(_unscale(static[:, 0].astype(np.float64), self.start), 0.0))
            r = self.resolution
            if r > 0:  # times on the data's grid (whole seconds, days, ...)
                gaps, start = np.round(gaps / r) * r, self.t0 + np.round((start - self.t0) / r) * r
            if self.min_gap > 0:  # the real times never repeat within an entity: neither do these
                gaps = np.maximum(gaps, np.ceil(self.min_gap / r - 1e-9) * r if r > 0 else self.min_gap)
            gaps[steps == 0] = 0.0
            total = np.cumsum(gaps)
            first = np.r_[0, np.cumsum(lengths)[:-1]]
            t = start[rows] + total - (total[first] - gaps[first])[rows]
            out[s.time_column] = _times_back(t, s)
        tcols, scols = self.temporal_columns(), self.static_columns()
        decoded = {**self._decode(temporal[rows, steps, 1:], tcols), **self._decode(static[rows, 2:], scols)}
        out.update(decoded)
        return pd.DataFrame({name: out[name] for name in s.order})

    def _decode(self, x: np.ndarray, columns: list[Column]) -> dict[str, Any]:
        out, at = {}, 0
        for c in columns:
            block = x[:, at : at + c.width]
            at += c.width
            if c.type in ("categorical", "boolean"):
                idx = block.argmax(axis=1)
                labels = np.array(list(c.categories) + [None], dtype=object)[idx]
                if c.type == "boolean":
                    col = pd.array([None if v is None else bool(v) for v in labels], dtype="boolean" if c.missing else "bool")
                else:
                    col = pd.Series(labels, dtype=object).where(idx < len(c.categories), np.nan)
                    if not c.missing:  # back to the column's own dtype (text, category, integer labels)
                        col = col.astype(c.dtype)
                out[c.name] = col
            else:
                u = block[:, 0].astype(np.float64)
                v = np.interp(np.clip(u, 0, 1), np.linspace(0, 1, len(c.quantiles)), c.quantiles) if c.quantiles else \
                    np.clip(_unscale(u, (c.low, c.high)), c.low, c.high)
                if c.decimals is not None:
                    v = np.round(v, c.decimals)
                missing = block[:, 1] > 0.5 if c.missing else np.zeros(len(v), dtype=bool)
                if c.type == "datetime":
                    col = pd.Series(pd.to_datetime(v.astype(np.int64))).where(~missing)
                    if c.format:  # date text, in the column's own format
                        col = col.dt.strftime(c.format).astype(c.dtype if not c.missing else object).where(~missing)
                elif np.dtype(c.dtype).kind in "iu" and not c.missing:
                    col = np.rint(v).astype(c.dtype)
                else:
                    col = pd.Series(np.where(missing, np.nan, v)).astype("float64" if np.dtype(c.dtype).kind in "iu" else c.dtype)
                out[c.name] = col
        return out

    # ------------------------------------------------------------------ state
    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema.to_dict(), "max_length": self.max_length, "gap": list(self.gap), "start": list(self.start),
                "length": list(self.length), "min_gap": self.min_gap, "t0": self.t0, "resolution": self.resolution,
                "gap_quantiles": None if self.gap_quantiles is None else self.gap_quantiles.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EntityEncoder":
        return cls(EntitySchema.from_dict(d["schema"]), int(d["max_length"]), tuple(d["gap"]), tuple(d["start"]),
                   tuple(d["length"]), float(d["min_gap"]), float(d["t0"]), float(d.get("resolution", 0.0)), d.get("gap_quantiles"))


def _numbers(s: pd.Series, kind: str) -> np.ndarray:
    """Values as float64; datetimes (or date text) as int64 nanoseconds since the epoch."""
    if s.isna().any():
        raise TsganError(f"column '{s.name}' has no value in row {int(np.flatnonzero(s.isna().to_numpy())[0])}: "
                         "fill that time in, or drop the row")
    if kind == "datetime":
        parsed = s if pd.api.types.is_datetime64_any_dtype(s) else _parse_times(s)
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        return parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    return s.to_numpy(dtype=np.float64)


def _parse_times(s: pd.Series) -> pd.Series:
    """Date text as times; a value that is not one is named."""
    try:
        return pd.to_datetime(s, format="mixed")
    except (ValueError, TypeError, OverflowError):
        parsed = pd.to_datetime(s, format="mixed", errors="coerce")
        bad = int(np.flatnonzero(parsed.isna().to_numpy())[0]) if parsed.isna().any() else 0
        raise TsganError(f"time column '{s.name}' has a value that is not a time: {s.iloc[bad]!r} (row {bad}): "
                         "fix or drop that row, or pass another --time-column") from None


def number_code(c: Column, x: np.ndarray) -> np.ndarray:
    """Values of numeric column ``c`` in the model's [0, 1] space: their empirical CDF
    (many-valued columns) or min-max."""
    x = np.asarray(x, dtype=np.float64)
    return np.interp(x, c.quantiles, np.linspace(0, 1, len(c.quantiles))) if c.quantiles else _scale(x, (c.low, c.high))


def _knots(x: np.ndarray) -> np.ndarray:
    """``GAP_QUANTILES`` quantiles of ``x``, nudged strictly increasing (for ``np.interp``)."""
    q = np.quantile(x, np.linspace(0, 1, GAP_QUANTILES))
    return q + np.arange(len(q)) * 1e-9 * max(1.0, float(np.abs(q).max()))


def _resolution(t: np.ndarray, time_type: str) -> float:
    """The coarsest grid every time lies on: a day, an hour, a minute, a second, a
    millisecond (datetimes, in ns); 1 for whole numbers; else 10^-decimals."""
    if time_type == "datetime":
        ns = t.astype(np.int64)
        return next((float(u) for u in (86_400 * 10**9, 3600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3) if not (ns % u).any()), 1.0)
    if time_type == "index" or np.all(t == np.round(t)):
        return 1.0
    d = _decimals(t)
    return 0.0 if d is None else 10.0 ** -d


def _t0(times: list[np.ndarray]) -> float:
    return float(min(t[0] for t in times))


def _scale(x: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    lo, hi = bounds
    return (np.asarray(x, dtype=np.float64) - lo) / (hi - lo) if hi > lo else np.zeros_like(np.asarray(x, dtype=np.float64))


def _unscale(x: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    lo, hi = bounds
    return np.asarray(x, dtype=np.float64) * (hi - lo) + lo


DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ",
                "%Y-%m-%d %H:%M:%S.%f", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
                "%m/%d/%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d")


def _date_format(s: pd.Series) -> str | None:
    """The strftime format every value of a text column is written in (checked on up
    to 200 values), or None when it is not date text in one of ``DATE_FORMATS``."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
        return None
    values = s.dropna().astype(str)
    values = values.iloc[:: max(1, len(values) // 200)].iloc[:200]
    if not len(values) or not values.str.contains(r"\d").all() or not values.str.contains(r"[-/.:T]").all():
        return None
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        if parsed.notna().all() and (parsed.dt.strftime(fmt) == values).all():
            return fmt
    return None


def _times_back(t: np.ndarray, schema: EntitySchema) -> Any:
    if schema.time_type == "datetime":
        times = pd.to_datetime(np.rint(t).astype(np.int64))
        return times.strftime(schema.time_format).astype(schema.time_dtype) if schema.time_format else times
    if schema.time_dtype and np.dtype(schema.time_dtype).kind in "iu":
        return np.rint(t).astype(schema.time_dtype)
    return t


def _common_prefix(values: np.ndarray) -> str:
    """The text before the digits ids share (``stay-`` of ``stay-1017``), for fresh ids in the same style."""
    import os
    import re

    prefix = os.path.commonprefix([str(v) for v in values])
    return re.sub(r"\d+$", "", prefix)
