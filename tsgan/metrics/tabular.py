"""Scores for synthetic tables (mixed numeric and categorical columns), on DataFrames.

* ``detection_auc``: ROC AUC of a gradient-boosting classifier telling real from
  synthetic rows (one-hot categories, standardised numbers), 3-fold
  cross-validated; 0.5 is indistinguishable, 1 is trivially told apart. Trees see
  broken dependencies between columns, which a logistic detector (SDMetrics'
  LogisticDetection) misses when every marginal is right.
* ``tstr``: train on synthetic, test on real (Esteban et al. 2017's TSTR; CTGAN's
  machine-learning efficacy): a gradient-boosting model predicts ``target`` and is
  scored on a real test split, next to the same model trained on real data (TRTR).
  Classification: macro F1; regression: R^2.
* ``marginal_similarity``: per column 1 - KS statistic (numeric) or 1 - total
  variation distance (categorical); 1 is identical.
* ``fid``, ``precision``, ``recall``, ``density``, ``coverage``: on a contrastive MLP
  embedding of the encoded rows (:mod:`tsgan.metrics.embedding`), as for sequences;
* ``pair_similarity``: per column pair 1 - |corr_real - corr_synth| / 2 for two
  numeric columns, else 1 - total variation distance of the joint distribution
  after binning numbers into 10 real-data quantile bins; 1 is identical.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TsganError


def _is_numeric(s: pd.Series) -> bool:
    """Numbers, as TableTransformer sees them: numeric, not bool, not an integer column of at most 10 values."""
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    return not (pd.api.types.is_integer_dtype(s) and s.nunique() <= 10)


def _check(real: pd.DataFrame, synth: pd.DataFrame) -> None:
    if list(real.columns) != list(synth.columns):
        raise TsganError(f"real and synthetic columns differ: {list(real.columns)} vs {list(synth.columns)}")
    if len(real) < 10 or len(synth) < 10:
        raise TsganError(f"scoring needs at least 10 real and 10 synthetic rows (got {len(real)} and {len(synth)})")


def _design(real: pd.DataFrame, synth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One design matrix for both tables: standardised numbers (by real), one-hot labels."""
    both = pd.concat([real, synth], ignore_index=True)
    cols = []
    for c in both.columns:
        s = both[c]
        if _is_numeric(real[c]):
            v = pd.to_numeric(s, errors="coerce").astype(float)
            mu, sd = real[c].astype(float).mean(), real[c].astype(float).std() or 1.0
            cols.append(((v - mu) / sd).fillna(0).to_frame(c))
        else:
            cols.append(pd.get_dummies(s.astype(str), prefix=str(c), dtype=float))
    x = pd.concat(cols, axis=1).to_numpy(dtype=np.float64)
    return x[: len(real)], x[len(real) :]


def detection_auc(real: pd.DataFrame, synth: pd.DataFrame, seed: int = 0) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    _check(real, synth)
    xr, xs = _design(real, synth)
    x = np.vstack([xr, xs])
    y = np.r_[np.zeros(len(xr)), np.ones(len(xs))]
    from sklearn.metrics import roc_auc_score

    p = cross_val_predict(HistGradientBoostingClassifier(random_state=seed), x, y, cv=StratifiedKFold(3, shuffle=True, random_state=seed), method="predict_proba")[:, 1]
    return float(roc_auc_score(y, p))


def tstr(real: pd.DataFrame, synth: pd.DataFrame, target: str, seed: int = 0, test_size: float = 0.3) -> dict[str, Any]:
    """TSTR and TRTR scores for predicting ``target`` on a held-out real split."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import f1_score, r2_score
    from sklearn.model_selection import train_test_split

    _check(real, synth)
    if target not in real.columns:
        raise TsganError(f"--target '{target}' is not a column: choose one of {', '.join(map(str, real.columns))}")
    features = [c for c in real.columns if c != target]
    if not features:
        raise TsganError("TSTR needs at least one column besides the target")
    xr, xs = _design(real[features], synth[features])
    regression = _is_numeric(real[target])
    yr, ys = real[target].to_numpy(), synth[target].to_numpy()
    if not regression:
        yr, ys = yr.astype(str), ys.astype(str)
    tr, te = train_test_split(np.arange(len(real)), test_size=test_size, random_state=seed)
    make = (lambda: HistGradientBoostingRegressor(random_state=seed)) if regression else (lambda: HistGradientBoostingClassifier(random_state=seed))
    score = (lambda y, p: float(r2_score(y, p))) if regression else (lambda y, p: float(f1_score(y, p, average="macro")))
    out = {"target": target, "task": "regression (R^2)" if regression else "classification (macro F1)"}
    out["trtr"] = score(yr[te], make().fit(xr[tr], yr[tr]).predict(xr[te]))
    if not regression and len(set(ys)) < 2:
        out["tstr"] = 0.0  # a synthetic table with one class cannot train a classifier
    else:
        out["tstr"] = score(yr[te], make().fit(xs, ys).predict(xr[te]))
    return out


def _binned(real: pd.Series, synth: pd.Series) -> tuple[pd.Series, pd.Series]:
    if _is_numeric(real):
        edges = np.unique(np.quantile(real.astype(float), np.linspace(0, 1, 11)))
        edges[0], edges[-1] = -np.inf, np.inf
        return pd.cut(real.astype(float), edges).astype(str), pd.cut(pd.to_numeric(synth, errors="coerce"), edges).astype(str)
    return real.astype(str), synth.astype(str)


def _tvd(a: pd.Series, b: pd.Series) -> float:
    pa, pb = a.value_counts(normalize=True), b.value_counts(normalize=True)
    return float(0.5 * pa.subtract(pb, fill_value=0).abs().sum())


def marginal_similarity(real: pd.DataFrame, synth: pd.DataFrame) -> dict[str, float]:
    from scipy.stats import ks_2samp

    _check(real, synth)
    out = {}
    for c in real.columns:
        if _is_numeric(real[c]):
            out[str(c)] = 1.0 - float(ks_2samp(real[c].astype(float), pd.to_numeric(synth[c], errors="coerce").dropna()).statistic)
        else:
            out[str(c)] = 1.0 - _tvd(real[c].astype(str), synth[c].astype(str))
    return out


def pair_similarity(real: pd.DataFrame, synth: pd.DataFrame, max_pairs: int = 500) -> float:
    _check(real, synth)
    scores = []
    for a, b in list(combinations(real.columns, 2))[:max_pairs]:
        if _is_numeric(real[a]) and _is_numeric(real[b]):
            cr = real[[a, b]].astype(float).corr().iloc[0, 1]
            cs = synth[[a, b]].apply(pd.to_numeric, errors="coerce").astype(float).corr().iloc[0, 1]
            scores.append(1 - abs(np.nan_to_num(cr) - np.nan_to_num(cs)) / 2)
        else:
            ra, sa = _binned(real[a], synth[a])
            rb, sb = _binned(real[b], synth[b])
            scores.append(1 - _tvd(ra + "|" + rb, sa + "|" + sb))
    return float(np.mean(scores)) if scores else 1.0


def embedding_scores(real: pd.DataFrame, synth: pd.DataFrame, cache_dir=None) -> dict[str, Any]:
    """FID and precision/recall/density/coverage on a contrastive MLP embedding of the rows."""
    from .distances import frechet_distance, prdc
    from .embedding import embedding_for

    xr, xs = _design(real, synth)
    emb = embedding_for(xr.astype(np.float32), cache_dir)
    er, es = emb.embed(xr), emb.embed(xs)
    return {"fid": frechet_distance(er, es), **prdc(er, es), "embedding": {"fingerprint": emb.fingerprint, "dim": emb.config.dim, "kind": "table MLP, contrastive"}}


def evaluate_table(real: pd.DataFrame, synth: pd.DataFrame, target: str | None = None, seed: int = 0, cache_dir=None) -> dict[str, Any]:
    """Every table score; ``target`` defaults to the last categorical column (else the last column)."""
    _check(real, synth)
    if target is None:
        cats = [c for c in real.columns if not _is_numeric(real[c])]
        target = cats[-1] if cats else real.columns[-1]
    marg = marginal_similarity(real, synth)
    return {
        "detection_auc": detection_auc(real, synth, seed),
        "tstr": tstr(real, synth, target, seed),
        "marginal_similarity": float(np.mean(list(marg.values()))),
        "marginal_per_column": marg,
        "pair_similarity": pair_similarity(real, synth),
        **embedding_scores(real, synth, cache_dir),
        "n_real": len(real),
        "n_synthetic": len(synth),
    }
