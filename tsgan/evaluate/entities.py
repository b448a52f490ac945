"""Entity tables scored against the real one, each score read against two references.

Real entities are split in two halves, A and B (by entity, at random). Every score
compares a table with half A:

* **synthetic** vs A: what the report is about;
* **floor**: real half B vs A, "as good as real data" at this sample size;
* **naive**: independent marginals vs A (:func:`tsgan.metrics.entities.independent_marginals`,
  every value drawn from its own real marginal), "no better than shuffling".

Where the synthetic score lies between them (0 at the floor, 1 at the naive baseline)
gives the verdict. A score whose naive baseline sits at the floor cannot tell
shuffled data from real on this data: it is marked uninformative, not shown as good.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.entities import detect_roles
from ..metrics.entities import _by_time, _gaps, _times, entity_scores, independent_marginals
from .figures import plain_text

LOWER_IS_BETTER = ("length_ks", "gap_ks", "transition_tv", "max_missing_rate_diff", "detection_auc")
MIN_SPREAD = 0.02  # naive - floor below this: the score cannot tell shuffled data from real here

MEANINGS = {
    "detection_auc": "ROC AUC of a gradient-boosting classifier telling real from synthetic entities by their summaries "
                     "(length, gaps, statics, per-column means, spreads, first/last values, missing rates, category shares)",
    "length_ks": "Kolmogorov-Smirnov statistic of entity lengths",
    "gap_ks": "Kolmogorov-Smirnov statistic of the gaps between consecutive times",
    "transition_tv": "total variation between step-to-step transition matrices of a temporal categorical column",
    "max_missing_rate_diff": "largest |real - synthetic| share of missing values over the columns",
    "static_constant_share": "share of synthetic entities whose static columns hold one value (must be 1)",
    "decreasing_time_share": "share of synthetic entities whose times ever go back (must be 0)",
}


def flat_scores(s: dict[str, Any]) -> dict[str, float]:
    """The comparable figures of :func:`entity_scores` (one per transition column)."""
    out = {k: s[k] for k in ("detection_auc", "length_ks", "gap_ks", "max_missing_rate_diff") if s.get(k) is not None}
    out.update({f"transition_tv[{c}]": v for c, v in s.get("transition_tv", {}).items()})
    return {k: float(v) for k, v in out.items()}


def verdict(value: float, floor: float, naive: float, higher_is_better: bool = False) -> dict[str, Any]:
    """Where ``value`` lies between ``floor`` (0) and ``naive`` (1), in words; for a
    higher-is-better score the naive baseline lies below the floor and the same
    position holds."""
    spread = naive - floor
    gain = -spread if higher_is_better else spread  # how much worse shuffled data scores than real data
    if not np.isfinite(spread) or gain < MIN_SPREAD:  # e.g. a marginal: shuffling keeps it
        worse = floor - value if higher_is_better else value - floor
        tol = max(MIN_SPREAD, 0.5 * abs(floor))
        if worse <= tol:
            return {"position": None, "verdict": "uninformative",
                    "text": "matches real, but so does shuffled data: cannot rank generators here"}
        if worse <= 3 * tol:
            return {"position": 0.5, "verdict": "fair", "text": "near real (shuffled data matches it exactly)"}
        return {"position": 1.5, "verdict": "fail", "text": "differs from real (shuffled data matches it)"}
    pos = max(0.0, (value - floor) / spread)  # better than the floor is as good as real
    if pos <= 0.25:
        word, text = "good", "as good as real data"
    elif pos <= 0.6:
        word, text = "fair", "between real data and shuffling, nearer real"
    elif pos <= 1.0:
        word, text = "poor", "near the naive baseline"
    else:
        word, text = "fail", "worse than drawing every value independently"
    return {"position": round(float(pos), 3), "verdict": word, "text": text}


def evaluate_entities(real: pd.DataFrame, synth: pd.DataFrame, id_column: str, time_column: str | None,
                      static_columns: list[str] | None = None, seed: int = 0) -> dict[str, Any]:
    """Scores of ``synth`` with their floor, naive baseline and verdicts (module docstring)."""
    ids = pd.unique(real[id_column])
    order = np.random.default_rng(seed).permutation(len(ids))
    half_a = real[real[id_column].isin(ids[order[: len(ids) // 2]])]
    half_b = real[real[id_column].isin(ids[order[len(ids) // 2 :]])]
    n = half_b[id_column].nunique()
    naive = independent_marginals(half_a, n, id_column, time_column, static_columns, seed=seed + 1)
    synth_ids = pd.unique(synth[id_column])[:n]
    synth = synth[synth[id_column].isin(synth_ids)]
    got = {name: entity_scores(half_a, table, id_column, time_column, static_columns, seed)
           for name, table in (("synthetic", synth), ("floor", half_b), ("naive", naive))}
    flat = {name: flat_scores(s) for name, s in got.items()}
    rows = {}
    for key, value in flat["synthetic"].items():
        f, b = flat["floor"].get(key, np.nan), flat["naive"].get(key, np.nan)
        rows[key] = {"synthetic": value, "floor": f, "naive": b, **verdict(value, f, b)}
    s = got["synthetic"]
    checks = {k: s[k] for k in ("static_constant_share", "decreasing_time_share") if k in s}
    rated = [r["position"] for r in rows.values() if r["position"] is not None]
    overall = verdict(float(np.mean(rated)), 0.0, 1.0) if rated else {"verdict": "uninformative", "text": "no score can tell here"}
    return {"n_real": int(half_a[id_column].nunique()), "n_synthetic": int(synth[id_column].nunique()), "scores": rows,
            "checks": checks, "missing_rate_diff": s["missing_rate_diff"], "overall": overall,
            "note": "every score compares with one half of the real entities; floor = the other half, naive = independent marginals"}


def score_lines(result: dict[str, Any]) -> list[str]:
    """The terminal's lines: each score with its floor, naive baseline and verdict."""
    lines = [f"{'score':28} {'synthetic':>9} {'floor':>7} {'naive':>7}  verdict"]
    for key, r in result["scores"].items():
        lines.append(f"{key:28} {r['synthetic']:9.4f} {r['floor']:7.4f} {r['naive']:7.4f}  {r['text']}")
    for key, v in result["checks"].items():
        ok = v == (1.0 if key == "static_constant_share" else 0.0)
        lines.append(f"{key:28} {v:9.4f}  {'ok' if ok else 'FAILED'}")
    lines.append(f"overall: {result['overall']['text']} (0 = real-vs-real floor, 1 = independent marginals)")
    return lines


# ---------------------------------------------------------------------- figures
def entity_figures(real: pd.DataFrame, synth: pd.DataFrame, id_column: str, time_column: str | None,
                   roles: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Real-vs-synthetic figures: lengths, gaps, statics, category shares and transitions,
    missing rates (overall and by category), temporal marginals and lag-1 autocorrelation
    on observed values, static-temporal association."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .report import _png

    figs: list[tuple[str, str]] = []
    real, synth = (_by_time(d, id_column, time_column) for d in (real, synth))
    pair = (("real", real, "tab:blue"), ("synthetic", synth, "tab:orange"))

    def hist(ax, values, title, log=False):
        data = [np.asarray(v, dtype=float) for v in values]
        data = [np.log1p(np.maximum(v, 0)) if log else v for v in data]
        both = np.concatenate([d for d in data if len(d)]) if any(len(d) for d in data) else np.zeros(1)
        bins = np.histogram_bin_edges(both[np.isfinite(both)], bins=30)
        for (label, _, color), d in zip(pair, data):
            ax.hist(d[np.isfinite(d)], bins=bins, alpha=0.5, density=True, label=label, color=color)
        ax.set_title(plain_text(title), fontsize=9)
        ax.legend(fontsize=7)

    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    hist(axes[0], [d.groupby(id_column, sort=False).size() for _, d, _ in pair], "entity length (steps)")
    if time_column:
        hist(axes[1], [_gaps(d, id_column, time_column) for _, d, _ in pair], "gap between steps, log(1 + seconds or units)", log=True)
    else:
        axes[1].axis("off")
    figs.append(("Lengths and gaps", _png(fig)))

    static = [(n, k) for n, r, k in roles if r == "static"]
    temporal = [(n, k) for n, r, k in roles if r == "temporal"]
    for title, cols, per_entity in (("Static attributes", static, True), ("Temporal columns: values where observed", temporal, False)):
        if not cols:
            continue
        k = len(cols)
        fig, axes = plt.subplots(1, k, figsize=(3.2 * k, 2.8), squeeze=False)
        for ax, (name, kind) in zip(axes[0], cols):
            tables = [d.groupby(id_column, sort=False)[name].first() if per_entity else d[name] for _, d, _ in pair]
            if kind in ("categorical", "boolean"):
                shares = pd.DataFrame({label: t.astype(object).where(t.notna(), "(missing)").value_counts(normalize=True)
                                       for (label, _, _), t in zip(pair, tables)}).fillna(0)
                shares.index = [plain_text(str(i)) for i in shares.index]
                shares.plot.bar(ax=ax, color=["tab:blue", "tab:orange"], legend=False, fontsize=7)
                ax.set_title(plain_text(name), fontsize=9)
            else:
                hist(ax, [pd.to_numeric(t, errors="coerce").dropna() if kind != "datetime" else _times(t.to_frame(), name)
                          for t in tables], name)
        fig.tight_layout()
        figs.append((title, _png(fig)))

    cats = [n for n, k in temporal if k in ("categorical", "boolean")]
    for name in cats:
        states = sorted(real[name].dropna().astype(object).unique(), key=str)
        fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
        for ax, (label, d, _) in zip(axes, pair):
            s = d[name].astype(object)
            nxt = s.groupby(d[id_column], sort=False).shift(-1)
            m = pd.crosstab(s, nxt, normalize="index").reindex(index=states, columns=states).fillna(0)
            ax.imshow(m.to_numpy(), vmin=0, vmax=1, cmap="Blues")
            ax.set_xticks(range(len(states)), [plain_text(str(x)) for x in states], fontsize=7, rotation=90)
            ax.set_yticks(range(len(states)), [plain_text(str(x)) for x in states], fontsize=7)
            ax.set_title(plain_text(f"{label}: {name} from (row) to (column)"), fontsize=9)
            for (i, j), v in np.ndenumerate(m.to_numpy()):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6)
        fig.tight_layout()
        figs.append((f"Transitions of {name}", _png(fig)))

    names = [n for n, _, _ in roles]
    miss = pd.DataFrame({label: d[names].isna().mean() for label, d, _ in pair})
    if miss.to_numpy().any():
        groups = [n for n, k in static + temporal if k in ("categorical", "boolean")][:2]
        fig, axes = plt.subplots(1, 1 + len(groups), figsize=(4 + 4 * len(groups), 3), squeeze=False)
        miss.plot.bar(ax=axes[0][0], color=["tab:blue", "tab:orange"], fontsize=7)
        axes[0][0].set_title("share missing per column", fontsize=9)
        for ax, g in zip(axes[0][1:], groups):
            cols = [n for n in names if n != g and real[n].isna().any()]
            if not cols:
                ax.axis("off")
                continue
            by = pd.DataFrame({f"{label} {c}": d[c].isna().groupby(d[g].astype(object)).mean() for label, d, _ in pair for c in cols[:3]})
            by.index = [plain_text(str(i)) for i in by.index]
            by.plot.bar(ax=ax, fontsize=7)
            ax.set_title(plain_text(f"share missing by {g}"), fontsize=9)
            ax.legend(fontsize=6)
        fig.tight_layout()
        figs.append(("Missing values", _png(fig)))

    numeric = [n for n, k in temporal if k == "numeric"]
    if numeric:
        fig, ax = plt.subplots(figsize=(6, 3))
        lag1 = {label: [_lag1(d, id_column, c) for c in numeric] for label, d, _ in pair}
        pd.DataFrame(lag1, index=[plain_text(c) for c in numeric]).plot.bar(ax=ax, color=["tab:blue", "tab:orange"], fontsize=7)
        ax.set_title("lag-1 autocorrelation within entities (observed values)", fontsize=9)
        figs.append(("Autocorrelation", _png(fig)))
    by_static = [n for n, k in static if k in ("categorical", "boolean")]
    if by_static and numeric:
        g = by_static[0]
        fig, ax = plt.subplots(figsize=(7, 3))
        means = pd.DataFrame({f"{label}": d.groupby(d[g].astype(object))[numeric[0]].mean() for label, d, _ in pair})
        means.loc["(length)"] = np.nan
        lengths = pd.DataFrame({label: d.groupby(id_column, sort=False).agg(group=(g, "first"), n=(g, "size")).groupby("group")["n"].mean()
                                for label, d, _ in pair})
        ax2 = ax.twinx()
        lengths.plot.bar(ax=ax2, color=["tab:blue", "tab:orange"], alpha=0.3, legend=False, position=1, width=0.3)
        means.drop(index="(length)").plot(ax=ax, marker="o", color=["tab:blue", "tab:orange"], fontsize=7)
        ax.set_title(plain_text(f"mean {numeric[0]} (lines) and mean length (bars) by {g}"), fontsize=9)
        figs.append(("Static attributes and temporal behaviour", _png(fig)))
    return figs


def _lag1(df: pd.DataFrame, id_column: str, column: str) -> float:
    x = pd.to_numeric(df[column], errors="coerce")
    prev = x.groupby(df[id_column], sort=False).shift()
    ok = x.notna() & prev.notna()
    return float(np.corrcoef(x[ok], prev[ok])[0, 1]) if ok.sum() > 2 and x[ok].std() > 0 and prev[ok].std() > 0 else float("nan")


def run_entity_evaluation(real: pd.DataFrame, synth: pd.DataFrame, id_column: str, time_column: str | None, out_dir: Path,
                          static_columns: list[str] | None = None, seed: int = 0, title: str = "tsgan evaluation",
                          privacy: dict | None = None, force: bool = False) -> dict[str, Any]:
    """Scores, ``metrics.json`` and ``report.html`` into ``out_dir``."""
    from .report import write_entity_report

    result = evaluate_entities(real, synth, id_column, time_column, static_columns, seed)
    roles = detect_roles(real, id_column, time_column, static_columns)
    figures = entity_figures(real, synth, id_column, time_column, roles)
    out_dir.mkdir(parents=True, exist_ok=True)
    if privacy is not None:
        result["privacy"] = privacy
    (out_dir / "metrics.json").write_text(json.dumps(result, indent=2, default=float))
    write_entity_report(out_dir, result, figures, title)
    return result
