"""Entity-level checks of a synthetic entity table against the real one (issue #35):
the structure a colleague's code relies on, and how well a classifier tells whole
entities apart. Pure functions on long DataFrames of the same schema.

* ``length_ks``, ``gap_ks``: Kolmogorov-Smirnov statistics of entity lengths and of the
  gaps between consecutive times (0 = same distribution);
* ``transition_tv``: per temporal categorical column, the total-variation distance
  between the real and synthetic step-to-step transition matrices (rows weighted by
  the real state frequencies);
* ``missing_rate_diff``: per column, |real - synthetic| share of missing values; the
  largest is the headline;
* ``static_constant_share``: entities whose static columns hold one value throughout
  (must be 1); ``decreasing_time_share``: entities whose times ever go back (must be 0);
* ``detection_auc``: ROC AUC of a gradient-boosting classifier on per-entity summaries
  (length, gaps, static values, per-column means, spreads, first and last values,
  missing rates, category shares and changes), real vs synthetic, 3-fold
  cross-validated. 0.5 = indistinguishable.

:func:`independent_marginals` draws the naive baseline these are read against: every
length, start, gap, static value and temporal value drawn independently from its real
marginal (missing values included).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.entities import detect_roles


def _times(df: pd.DataFrame, time_column: str | None) -> pd.Series:
    if time_column is None:
        return pd.Series(np.zeros(len(df)), index=df.index)
    t = df[time_column]
    if pd.api.types.is_numeric_dtype(t):
        return t.astype(np.float64)
    t = pd.to_datetime(t, format="mixed")
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.Series(t.to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9, index=df.index)  # seconds


def _gaps(df: pd.DataFrame, id_column: str, time_column: str | None) -> np.ndarray:
    if time_column is None:
        return np.zeros(0)
    t = _times(df, time_column)
    return t.groupby(df[id_column], sort=False).diff().dropna().to_numpy()


def _by_time(df: pd.DataFrame, id_column: str, time_column: str | None) -> pd.DataFrame:
    """Rows grouped by entity (first appearance) and ordered by time within each, ties in file order."""
    entity = pd.factorize(df[id_column], sort=False)[0]
    keys = (entity,) if time_column is None else (_times(df, time_column).to_numpy(), entity)
    return df.iloc[np.lexsort(keys)].reset_index(drop=True)


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import ks_2samp

    return float(ks_2samp(a, b).statistic) if len(a) and len(b) else float("nan")


def _transitions(df: pd.DataFrame, id_column: str, column: str, states: list[Any]) -> np.ndarray:
    s = df[column].astype(object).where(df[column].notna(), "__missing__")
    nxt = s.groupby(df[id_column], sort=False).shift(-1)
    keep = nxt.notna()
    index = {v: i for i, v in enumerate(states)}
    counts = np.zeros((len(states), len(states)))
    for a, b in zip(s[keep], nxt[keep]):
        if a in index and b in index:
            counts[index[a], index[b]] += 1
    return counts


def transition_tv(real: pd.DataFrame, synth: pd.DataFrame, id_column: str, column: str) -> float:
    """Total variation between the transition matrices, rows weighted by real frequency."""
    states = sorted({*real[column].dropna().astype(object), *synth[column].dropna().astype(object)}, key=str) + ["__missing__"]
    r, s = (_transitions(d, id_column, column, states) for d in (real, synth))
    weight = r.sum(axis=1) / max(r.sum(), 1)
    rows = r / np.maximum(r.sum(axis=1, keepdims=True), 1)
    srows = s / np.maximum(s.sum(axis=1, keepdims=True), 1)
    return float(np.sum(weight * 0.5 * np.abs(rows - srows).sum(axis=1)))


def entity_summaries(df: pd.DataFrame, id_column: str, time_column: str | None, roles: list[tuple[str, str, str]]) -> pd.DataFrame:
    """One row of numbers per entity (NaN where a summary does not exist)."""
    g = df.groupby(df[id_column], sort=False)
    out = pd.DataFrame({"length": g.size()})
    if time_column is not None:
        t = _times(df, time_column)
        gaps = t.groupby(df[id_column], sort=False).diff()
        gg = gaps.groupby(df[id_column], sort=False)
        out["gap_mean"], out["gap_std"] = np.log1p(gg.mean().clip(lower=0)), np.log1p(gg.std().clip(lower=0))
    for name, role, kind in roles:
        col = df[name]
        if kind in ("categorical", "boolean"):
            values = col.astype(object).where(col.notna(), "__missing__")
            for v in pd.unique(values):
                out[f"{name}={v}"] = (values == v).groupby(df[id_column], sort=False).mean()
            if role == "temporal":
                changes = (values != values.groupby(df[id_column], sort=False).shift()).groupby(df[id_column], sort=False).sum() - 1
                out[f"{name}:changes"] = changes
        else:
            x = col.astype(np.float64) if kind != "datetime" else _times(df.assign(_x=col), "_x")
            gx = x.groupby(df[id_column], sort=False)
            out[f"{name}:mean"] = gx.mean()
            if role == "temporal":
                out[f"{name}:std"], out[f"{name}:first"], out[f"{name}:last"] = gx.std(), gx.first(), gx.last()
            out[f"{name}:missing"] = col.isna().groupby(df[id_column], sort=False).mean()
    return out.reset_index(drop=True)


def detection_auc(real: pd.DataFrame, synth: pd.DataFrame, id_column: str, time_column: str | None,
                  roles: list[tuple[str, str, str]], seed: int = 0) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    a, b = (entity_summaries(d, id_column, time_column, roles) for d in (real, synth))
    x = pd.concat([a, b], ignore_index=True).astype(np.float64)
    y = np.r_[np.zeros(len(a)), np.ones(len(b))]
    folds = int(min(3, len(a), len(b)))
    clf = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    return float(np.mean(cross_val_score(clf, x.to_numpy(), y, cv=folds, scoring="roc_auc")))


def entity_scores(real: pd.DataFrame, synth: pd.DataFrame, id_column: str, time_column: str | None = None,
                  static_columns: list[str] | None = None, seed: int = 0) -> dict[str, Any]:
    """Every entity-level figure of ``synth`` against ``real`` (module docstring)."""
    roles = detect_roles(real, id_column, time_column, static_columns)
    written = synth  # the order the file has: times going back are counted there
    real, synth = (_by_time(d, id_column, time_column) for d in (real, synth))
    lengths = lambda d: d.groupby(d[id_column], sort=False).size().to_numpy()  # noqa: E731
    out: dict[str, Any] = {"entities": [int(real[id_column].nunique()), int(synth[id_column].nunique())]}
    out["length_ks"] = _ks(lengths(real), lengths(synth))
    out["gap_ks"] = _ks(_gaps(real, id_column, time_column), _gaps(synth, id_column, time_column)) if time_column else None
    out["transition_tv"] = {n: transition_tv(real, synth, id_column, n) for n, role, kind in roles
                            if role == "temporal" and kind in ("categorical", "boolean")}
    out["missing_rate_diff"] = {n: float(abs(real[n].isna().mean() - synth[n].isna().mean())) for n, _, _ in roles}
    out["max_missing_rate_diff"] = max(out["missing_rate_diff"].values(), default=0.0)
    static = [n for n, role, _ in roles if role == "static"]
    if static:
        constant = synth.groupby(synth[id_column], sort=False)[static].nunique(dropna=False).le(1).all(axis=1)
        out["static_constant_share"] = float(constant.mean())
    if time_column:
        t = _times(written, time_column)
        back = (t.groupby(written[id_column], sort=False).diff() < 0).groupby(written[id_column], sort=False).any()
        out["decreasing_time_share"] = float(back.mean())
    out["detection_auc"] = detection_auc(real, synth, id_column, time_column, roles, seed)
    return out


def independent_marginals(real: pd.DataFrame, n: int, id_column: str, time_column: str | None = None,
                          static_columns: list[str] | None = None, seed: int = 0) -> pd.DataFrame:
    """``n`` entities, every value drawn independently from its real marginal."""
    rng = np.random.default_rng(seed)
    roles = detect_roles(real, id_column, time_column, static_columns)
    real = _by_time(real, id_column, time_column)
    g = real.groupby(real[id_column], sort=False)
    lengths = rng.choice(g.size().to_numpy(), n)
    rows = np.repeat(np.arange(n), lengths)
    out: dict[str, Any] = {id_column: rows}
    if time_column is not None:
        t = real[time_column]
        starts = g[time_column].min().to_numpy()
        gaps = _gaps(real, id_column, time_column)
        steps = np.concatenate([np.r_[0.0, rng.choice(gaps, k - 1)] if len(gaps) else np.zeros(k) for k in lengths])
        offset = np.concatenate([np.cumsum(steps[a:b]) for a, b in zip(np.r_[0, np.cumsum(lengths)[:-1]], np.cumsum(lengths))])
        begin = rng.choice(starts, n)[rows]
        if pd.api.types.is_numeric_dtype(t):
            out[time_column] = (begin + offset).astype(t.dtype) if t.dtype.kind == "f" else np.rint(begin + offset).astype(t.dtype)
        else:
            out[time_column] = pd.to_datetime(begin) + pd.to_timedelta(offset, unit="s")
    per_entity = g.first()
    for name, role, _ in roles:
        pool = (per_entity[name] if role == "static" else real[name]).to_numpy()
        out[name] = rng.choice(pool, n)[rows] if role == "static" else rng.choice(pool, len(rows))
    frame = pd.DataFrame(out)
    return frame[[c for c in real.columns]].astype({c: real[c].dtype for c in real.columns if c not in (id_column, time_column)}, errors="ignore")
