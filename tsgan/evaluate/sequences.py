"""Scores of synthetic windows against real ones, and the report that shows them.

``evaluate_arrays`` computes every score on windows in the real data's [0, 1]
space; ``load_pair`` builds those windows from a real table and a run directory or a
synthetic file; ``run_evaluation`` writes ``metrics.json`` and ``report.html``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TsganError
from ..metrics import (
    autocorrelation_difference,
    check_pair,
    correlational_score,
    discriminative_score,
    frechet_distance,
    marginal_distance,
    mmd_rbf,
    prdc,
    predictive_score,
)
from ..metrics.embedding import EncoderConfig, embedding_for
from .figures import plot_figures
from .report import cache_dir, write_report

DEFAULT_WINDOW = 24  # windows cut from a synthetic file in the real data's own format
ALL_METRICS = ["discriminative", "predictive", "fid", "prdc", "correlational", "marginal", "autocorrelation", "mmd"]


def evaluate_arrays(
    real: np.ndarray,
    synth: np.ndarray,
    metrics: list[str] | None = None,
    reps: int = 3,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    max_mmd: int = 2000,
    encoder: EncoderConfig | None = None,
    embedding: Any = None,
) -> dict[str, Any]:
    """Every requested score for windows ``(N, T, F)`` in the same [0, 1] space.
    ``embedding``: a fitted embedding to use for FID and PRDC (default: the one for ``real``)."""
    metrics = metrics or ALL_METRICS
    unknown = sorted(set(metrics) - set(ALL_METRICS))
    if unknown:
        raise TsganError(f"unknown metric '{unknown[0]}': choose from {', '.join(ALL_METRICS)}")
    real, synth = check_pair(real, synth, min_windows=10)
    out: dict[str, Any] = {}
    timings: dict[str, float] = {}

    def timed(name, fn):
        t = time.perf_counter()
        value = fn()
        timings[name] = round(time.perf_counter() - t, 2)
        return value

    def repeated(fn):  # classifier-based scores move with the classifier's seed: their spread is part of the answer
        vals = [float(fn(seed + r)) for r in range(reps)]
        return {"mean": float(np.mean(vals)), "std": float(np.std(vals, ddof=1)) if reps > 1 else None, "values": vals}

    if "discriminative" in metrics:
        out["discriminative"] = timed("discriminative", lambda: repeated(lambda s: discriminative_score(real, synth, seed=s)))
    if "predictive" in metrics:
        if real.shape[2] < 2:
            out["predictive"] = {"skipped": "needs at least 2 features"}
        else:
            out["predictive"] = timed("predictive", lambda: repeated(lambda s: predictive_score(real, synth, seed=s)))
    if "fid" in metrics or "prdc" in metrics:
        emb = embedding if embedding is not None else timed("embedding", lambda: embedding_for(real, cache_dir, encoder))
        er, es = emb.embed(real), emb.embed(synth)
        out["embedding"] = {"fingerprint": emb.fingerprint, "dim": emb.config.dim}
        if "fid" in metrics:
            out["fid"] = timed("fid", lambda: frechet_distance(er, es))
        if "prdc" in metrics:
            out.update(timed("prdc", lambda: prdc(er, es)))
    if "correlational" in metrics:
        out["correlational"] = timed("correlational", lambda: correlational_score(real, synth))
    if "marginal" in metrics:
        m = timed("marginal", lambda: marginal_distance(real, synth))
        out["marginal_ks"], out["marginal_wasserstein"] = float(m["ks"].mean()), float(m["wasserstein"].mean())
        out["marginal_per_feature"] = {k: v.tolist() for k, v in m.items()}
    if "autocorrelation" in metrics:
        out["autocorrelation"] = timed("autocorrelation", lambda: autocorrelation_difference(real, synth))
    if "mmd" in metrics:
        rng = np.random.default_rng(seed)
        ri = rng.permutation(len(real))[:max_mmd]
        si = rng.permutation(len(synth))[:max_mmd]
        out["mmd"] = timed("mmd", lambda: mmd_rbf(real[ri], synth[si]))
    from ..privacy import copy_check

    out["copies"] = timed("copies", lambda: copy_check(real, synth, seed=seed))  # a copy scores perfectly on everything else
    out["n_real"], out["n_synthetic"] = len(real), len(synth)
    out["seconds"] = timings
    return out


def windows_from_long(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Windows ``(N, T, F)`` from a long synthetic table (sequence_id, step, columns)."""
    need = {"sequence_id", "step"}
    if not need <= set(frame.columns):
        raise TsganError("the synthetic file needs columns sequence_id and step (as `tsgan sample` writes)")
    missing = [c for c in columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in columns and c not in need]
    if missing or extra:
        raise TsganError(
            f"real and synthetic columns differ (missing in synthetic: {missing or 'none'}; extra: {extra or 'none'}): "
            "evaluate against the data the model was fitted on"
        )
    values = frame[columns]
    if not np.isfinite(values.to_numpy(dtype=np.float64)).all():
        raise TsganError("the synthetic file has NaN or infinite values: re-sample it")
    frame = frame.sort_values(["sequence_id", "step"])
    lengths = frame.groupby("sequence_id").size()
    if lengths.nunique() != 1:
        raise TsganError("synthetic sequences have different lengths: every sequence_id needs the same number of steps")
    t = int(lengths.iloc[0])
    return frame[columns].to_numpy(dtype=np.float64).reshape(-1, t, len(columns))


def run_evaluation(
    real: np.ndarray,
    synth: np.ndarray,
    columns: list[str],
    out_dir: str | Path,
    metrics: list[str] | None = None,
    reps: int = 3,
    history: pd.DataFrame | None = None,
    title: str = "tsgan evaluation",
    force: bool = False,
    privacy: dict[str, Any] | None = None,
    references: bool = True,
    published: bool = False,
) -> dict[str, Any]:
    """Scores + figures; writes ``metrics.json`` and ``report.html`` into ``out_dir``.
    ``references``: each score also for a real-vs-real floor and a naive baseline, with
    a verdict (:func:`reference_scores`); ``published``: show the papers' Sines/Stocks rows."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not force and any(out_dir.iterdir()):
        raise TsganError(f"{out_dir} already exists and is not empty: pass --force or choose another --out")
    scores = evaluate_arrays(real, synth, metrics, reps, cache_dir=cache_dir())
    if references:
        scores.update(reference_scores(real, scores, metrics, reps))
    if privacy is not None:
        scores["privacy"] = privacy
    figures = plot_figures(real, synth, columns, history)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(scores, indent=2))
    write_report(out_dir, scores, figures, title, published)
    return scores


REFERENCED = ("discriminative", "predictive", "fid", "precision", "recall", "coverage", "correlational", "marginal_ks",
              "autocorrelation", "mmd")


def naive_windows(real: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` windows whose every value is drawn independently from its feature's real
    values (all windows and steps): the marginals kept, all structure in time and
    across features lost."""
    rng = np.random.default_rng(seed)
    flat = real.reshape(-1, real.shape[2])
    idx = rng.integers(len(flat), size=(n, real.shape[1], real.shape[2]))
    return flat[idx, np.arange(real.shape[2])[None, None, :]].astype(real.dtype)


def reference_scores(real: np.ndarray, scores: dict[str, Any], metrics: list[str] | None, reps: int, seed: int = 0) -> dict[str, Any]:
    """The same scores for two references on the same data: ``floor`` (one random half
    of the real windows against the other: as good as real data) and ``naive`` (the
    first half against :func:`naive_windows`: no better than shuffling), and a verdict
    per score placing it between them (:func:`tsgan.evaluate.entities.verdict`). The
    references take one repeat each and the embedding of the synthetic scores."""
    from .entities import verdict

    order = np.random.default_rng(seed).permutation(len(real))
    a, b = real[order[: len(real) // 2]], real[order[len(real) // 2 :]]
    metrics = [m for m in (metrics or ALL_METRICS)]
    emb = embedding_for(real, cache_dir()) if {"fid", "prdc"} & set(metrics) else None  # the synthetic scores' own (cached)
    floor = evaluate_arrays(a, b, metrics, 1, seed=seed, embedding=emb)
    naive = evaluate_arrays(a, naive_windows(real, len(b), seed + 1), metrics, 1, seed=seed, embedding=emb)

    def value(d, key):
        v = d.get(key)
        return v["mean"] if isinstance(v, dict) and "mean" in v else v if isinstance(v, (int, float)) else None

    refs, verdicts = {"floor": {}, "naive": {}}, {}
    for key in REFERENCED:
        got, f, nv = value(scores, key), value(floor, key), value(naive, key)
        if got is None or f is None or nv is None:
            continue
        refs["floor"][key], refs["naive"][key] = f, nv
        verdicts[key] = verdict(got, f, nv, higher_is_better=key in ("precision", "recall", "coverage"))
    rated = [v["position"] for v in verdicts.values() if v["position"] is not None]
    overall = verdict(float(np.mean(rated)), 0.0, 1.0) if rated else {"verdict": "uninformative", "text": "no score can tell here"}
    return {"references": refs, "verdicts": verdicts, "overall": overall}


def load_pair(
    real_source: str | Path | pd.DataFrame,
    target: str | Path,
    n: int | None = None,
    seed: int = 0,
    time_column: str | None = None,
    id_column: str | None = None,
    condition_columns: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str], pd.DataFrame | None]:
    """Real and synthetic windows in the real data's min-max space, the columns, the run's history.

    ``target`` is a run directory (samples are drawn from it), a long synthetic
    CSV/Parquet as ``tsgan sample`` writes, a table in the real data's own format (its
    windows of 24 steps are scored), or a ``.npy`` array ``(sequences, time,
    features)`` in the real data's units (another tool's output, e.g. TimeGAN's
    ``generated_data``). Condition columns (a conditional run's,
    or ``condition_columns``) are not scored as features.
    """
    from .. import load
    from ..data.kinds import Roles, load_data
    from ..rundir import META_FILE
    from ..data import MinMaxScaler, Windows, is_npy, read_npy, read_table, to_series

    target = Path(target)
    history = synth_array = None
    if is_npy(target):
        synth_array = read_npy(target)
        if synth_array.ndim != 3 or not np.issubdtype(synth_array.dtype, np.number):
            raise TsganError(f"{target} holds {synth_array.dtype} of shape {synth_array.shape}: a synthetic array must be numbers, (sequences, time, features)")
        seq_len, stride = synth_array.shape[1], 1
    elif target.is_dir():
        syn = load(target)
        seq_len, stride = syn.spec_.seq_len, syn.spec_.stride
        time_column = time_column or syn.spec_.time_column
        id_column = id_column or syn.spec_.id_column
        condition_columns = condition_columns or syn.spec_.condition_columns or None
        history = syn.history_
    elif target.exists():
        synth_frame = read_table(target)
    else:
        raise TsganError(f"{target} not found: pass a run directory (with {META_FILE}) or a synthetic CSV")
    frame, roles = load_data(real_source, Roles(time_column, id_column, condition_columns))
    time_column, id_column, condition_columns = roles.time_column, roles.id_column, roles.condition_columns
    own_format = synth_array is None and not target.is_dir() and not {"sequence_id", "step"} <= set(synth_frame.columns)
    if synth_array is None and not target.is_dir():
        steps = synth_frame.groupby("sequence_id").size() if "sequence_id" in synth_frame else None
        seq_len, stride = (int(steps.iloc[0]) if steps is not None and len(steps) else DEFAULT_WINDOW), 1
    spec, base, lengths, _ = to_series(frame, seq_len, stride, time_column, id_column, condition_columns)
    scaler = MinMaxScaler().fit(base)
    real = Windows.from_lengths(scaler.transform(base), lengths, seq_len, stride).array()
    if target.is_dir():
        if syn.spec_.columns != spec.columns:
            raise TsganError(
                f"real and synthetic columns differ: the run models {syn.spec_.columns}, the real data has {spec.columns}"
            )
        synth = syn.sample_array(n or min(len(real), 10_000), seed=seed)
    elif synth_array is not None:
        if synth_array.shape[2] != len(spec.columns):
            raise TsganError(f"the synthetic array has {synth_array.shape[2]} features, the real data {len(spec.columns)} ({', '.join(spec.columns)}): pass matching data")
        synth = synth_array[:n] if n else synth_array
    elif own_format:  # a table in the real data's own format (another tool's output, a split of the real data)
        other = to_series(synth_frame, seq_len, stride, time_column, id_column, condition_columns)
        if other.spec.columns != spec.columns:
            raise TsganError(f"real and synthetic columns differ: the real data has {spec.columns}, the synthetic file {other.spec.columns}")
        synth = Windows.from_lengths(other.base, other.lengths, seq_len, stride).array()
        if n:
            synth = synth[:n]
    else:
        synth = windows_from_long(synth_frame, spec.columns)
        if n:
            synth = synth[:n]
    return real, scaler.transform(synth).astype(np.float32), spec.columns, history
