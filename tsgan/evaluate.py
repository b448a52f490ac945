"""Evaluate synthetic windows against real ones: the score table and an HTML report.

``evaluate_arrays`` computes every score on windows in the real data's [0, 1]
space; ``load_pair`` builds those windows from a real table and a run directory
or a synthetic CSV; ``write_report`` renders a self-contained ``report.html``
(images inline) next to ``metrics.json``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import TsganError
from .metrics import (
    autocorrelation,
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
from .metrics.embedding import EncoderConfig, embedding_for

ALL_METRICS = ["discriminative", "predictive", "fid", "prdc", "correlational", "marginal", "autocorrelation", "mmd"]

MEANINGS = {
    "discriminative": "|accuracy - 0.5| of a GRU classifier telling real from synthetic (0 = indistinguishable)",
    "predictive": "MAE on real data of a next-step predictor trained on synthetic data (lower = more useful)",
    "fid": "Frechet distance between real and synthetic on the learned embedding (0 = same Gaussian)",
    "precision": "share of synthetic records inside the real data's k-NN balls on the embedding (fidelity, 1 is best)",
    "recall": "share of real records inside the synthetic k-NN balls (diversity, 1 is best)",
    "density": "mean number of real balls holding a synthetic record, over k (about 1 when matched)",
    "coverage": "share of real records whose ball holds a synthetic record (1 is best)",
    "correlational": "sum |real - synthetic| cross-feature correlations / 10 (Diffusion-TS; 0 is best)",
    "marginal_ks": "mean per-feature Kolmogorov-Smirnov statistic of values (0 is best)",
    "marginal_wasserstein": "mean per-feature 1-Wasserstein distance of values, scaled units (0 is best)",
    "autocorrelation": "mean |difference| of per-feature autocorrelation over lags (0 is best)",
    "mmd": "unbiased squared MMD, Gaussian kernel, median-heuristic bandwidth, flattened windows (0 is best)",
    "detection_auc": "ROC AUC of a gradient-boosting classifier telling real from synthetic rows, 3-fold CV (0.5 = indistinguishable)",
    "tstr": "train on synthetic, test on real: the target predicted on a real test split, next to training on real (higher is better)",
    "marginal_similarity": "mean per column of 1 - KS (numbers) or 1 - total variation (labels) (1 = identical)",
    "pair_similarity": "mean per column pair of 1 - |correlation difference| / 2 or 1 - total variation of the joint (1 = identical)",
}

REFERENCE = {  # PROTOCOL.md, sequence length 24
    "TimeGAN (paper), Sines": {"discriminative": 0.011, "predictive": 0.093},
    "TimeGAN (paper), Stocks": {"discriminative": 0.102, "predictive": 0.038},
    "Diffusion-TS, Sines": {"discriminative": 0.006, "predictive": 0.093, "fid": 0.006, "correlational": 0.015},
    "Diffusion-TS, Stocks": {"discriminative": 0.067, "predictive": 0.036, "fid": 0.147, "correlational": 0.004},
}


def evaluate_arrays(
    real: np.ndarray,
    synth: np.ndarray,
    metrics: list[str] | None = None,
    reps: int = 1,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    max_mmd: int = 2000,
    encoder: EncoderConfig | None = None,
) -> dict[str, Any]:
    """Every requested score for windows ``(N, T, F)`` in the same [0, 1] space."""
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

    def repeated(fn):
        vals = [fn(seed + r) for r in range(reps)]
        return {"mean": float(np.mean(vals)), "std": float(np.std(vals)), "values": vals}

    if "discriminative" in metrics:
        out["discriminative"] = timed("discriminative", lambda: repeated(lambda s: discriminative_score(real, synth, seed=s)))
    if "predictive" in metrics:
        if real.shape[2] < 2:
            out["predictive"] = {"skipped": "needs at least 2 features"}
        else:
            out["predictive"] = timed("predictive", lambda: repeated(lambda s: predictive_score(real, synth, seed=s)))
    if "fid" in metrics or "prdc" in metrics:
        emb = timed("embedding", lambda: embedding_for(real, cache_dir, encoder))
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


def plot_figures(real: np.ndarray, synth: np.ndarray, columns: list[str], history: pd.DataFrame | None, seed: int = 0) -> list[tuple[str, str]]:
    """(title, base64 PNG) for each figure of the report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import gaussian_kde
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    n = min(1000, len(real), len(synth))
    r, s = real[rng.permutation(len(real))[:n]], synth[rng.permutation(len(synth))[:n]]
    f = real.shape[2]
    figs = []

    def emit(title, fig):
        figs.append((title, _png(fig)))

    style = {"real": dict(color="#1f77b4", label="real"), "synthetic": dict(color="#d62728", label="synthetic")}
    # PCA and t-SNE of windows averaged over features (TimeGAN paper, fig. 3)
    r2, s2 = r.mean(axis=2), s.mean(axis=2)
    pca = PCA(n_components=2).fit(r2)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (name, pts) in zip([axes[0]] * 2, [("real", pca.transform(r2)), ("synthetic", pca.transform(s2))]):
        ax.scatter(pts[:, 0], pts[:, 1], s=6, alpha=0.4, **style[name])
    axes[0].set(title="PCA (fitted on real)", xlabel="PC 1", ylabel="PC 2")
    axes[0].legend()
    emb = TSNE(n_components=2, perplexity=30, init="pca", random_state=seed).fit_transform(np.concatenate([r2, s2]))
    axes[1].scatter(emb[:n, 0], emb[:n, 1], s=6, alpha=0.4, **style["real"])
    axes[1].scatter(emb[n:, 0], emb[n:, 1], s=6, alpha=0.4, **style["synthetic"])
    axes[1].set(title="t-SNE (real and synthetic together)", xlabel="t-SNE 1", ylabel="t-SNE 2")
    axes[1].legend()
    emit("Overlap of real and synthetic windows", fig)

    # traces side by side
    k = min(f, 4)
    fig, axes = plt.subplots(k, 2, figsize=(11, 2.2 * k), sharey="row", squeeze=False)
    for j in range(k):
        for col, (name, data) in enumerate([("real", r), ("synthetic", s)]):
            ax = axes[j, col]
            ax.plot(data[:5, :, j].T, color=style[name]["color"], alpha=0.7)
            ax.set(title=f"{name}: {columns[j]}", xlabel="step", ylabel="value (scaled)")
    fig.tight_layout()
    emit("Five real and five synthetic sequences" + (f" (first {k} of {f} features)" if f > k else ""), fig)

    # marginal densities
    cols = min(f, 6)
    fig, axes = plt.subplots(1, cols, figsize=(3 * cols, 2.8), squeeze=False)
    grid = np.linspace(0, 1, 200)
    for j in range(cols):
        ax = axes[0, j]
        for name, data in [("real", r), ("synthetic", s)]:
            v = data[:, :, j].ravel()
            if np.ptp(v) > 1e-9:
                ax.plot(grid, gaussian_kde(v)(grid), **style[name])
        ax.set(title=columns[j], xlabel="value (scaled)", ylabel="density")
        ax.legend(fontsize=7)
    fig.tight_layout()
    emit("Marginal densities (KDE)", fig)

    # autocorrelation
    ar, as_ = autocorrelation(r), autocorrelation(s)
    fig, axes = plt.subplots(1, cols, figsize=(3 * cols, 2.8), squeeze=False)
    lags = np.arange(1, ar.shape[0] + 1)
    for j in range(cols):
        ax = axes[0, j]
        ax.plot(lags, ar[:, j], **style["real"])
        ax.plot(lags, as_[:, j], **style["synthetic"])
        ax.set(title=columns[j], xlabel="lag", ylabel="autocorrelation", ylim=(-1.05, 1.05))
        ax.legend(fontsize=7)
    fig.tight_layout()
    emit("Autocorrelation per feature", fig)

    # cross-correlation heat maps
    if f > 1:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
        for ax, (name, data) in zip(axes, [("real", r), ("synthetic", s)]):
            c = np.corrcoef(data.reshape(-1, f).T)
            im = ax.imshow(c, vmin=-1, vmax=1, cmap="RdBu_r")
            ax.set_xticks(range(f), columns, rotation=45, ha="right", fontsize=7)
            ax.set_yticks(range(f), columns, fontsize=7)
            ax.set_title(f"{name}: feature correlations")
        fig.colorbar(im, ax=axes, shrink=0.8, label="Pearson correlation")
        emit("Cross-feature correlation", fig)

    loss = loss_figure(history)
    if loss is not None:
        figs.append(loss)
    return figs


def loss_figure(history) -> tuple[str, str] | None:
    """The training-loss figure (title, base64 PNG): one panel per run, e.g. WGAN-GP
    vs minimax on the same data; the critic gap E D(x) - E D(G(z)) in black."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {} if history is None else (dict(history) if isinstance(history, dict) else {"training": history})
    runs = {k: h for k, h in runs.items() if h is not None and len(h) and any(c.endswith("/loss") for c in h.columns)}
    if not runs:
        return None
    fig, axes = plt.subplots(len(runs), 1, figsize=(11, 3.2 * len(runs)), squeeze=False)
    for ax, (label, h) in zip(axes[:, 0], runs.items()):
        window = max(1, len(h) // 100)
        smooth = lambda v: v.rolling(window, min_periods=1).mean()  # noqa: E731
        for c in [c for c in h.columns if c.endswith("/loss")]:
            ax.plot(h["step"], smooth(h[c]), label=c)
        if "d/gap" in h:  # for the WGAN objectives, the critic's estimate of the Wasserstein distance
            ax.plot(h["step"], smooth(h["d/gap"]), label="d/gap = E D(x) - E D(G(z))", color="black", lw=2)
        ax.set(xlabel="training step", ylabel=f"loss (rolling mean of {window})", title=label)
        lo, hi = ax.get_ylim()
        if hi - lo > 100:  # losses of very different sizes (TimeGAN's weighted terms)
            ax.set_yscale("symlog", linthresh=1.0)
        handles = ax.get_legend_handles_labels()
        if "select/disc" in h and h["select/disc"].notna().any():  # checkpoint selection's scores, the kept one ringed
            checks = h.dropna(subset=["select/disc"])
            best = checks.loc[checks["select/disc"].idxmin()]
            twin = ax.twinx()
            line = twin.plot(checks["step"], checks["select/disc"], "o-", color="tab:purple", ms=3, lw=1, label="checkpoint disc score (right)")
            ring = twin.plot(best["step"], best["select/disc"], "o", ms=12, mfc="none", mec="red", mew=2, label="kept checkpoint")
            twin.set(ylabel="discriminative score", ylim=(0, 0.75))  # headroom: the legend sits over the top
            handles = (handles[0] + line + ring, handles[1] + [line[0].get_label(), ring[0].get_label()])
        ax.legend(*handles, fontsize=8, ncol=4, loc="upper right")
    fig.tight_layout()
    return "Training losses" + (" (runs compared)" if len(runs) > 1 else ""), _png(fig)


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def evaluate_images(real: np.ndarray, synth: np.ndarray, cache_dir: str | Path | None = None, encoder: EncoderConfig | None = None) -> dict[str, Any]:
    """FID and precision/recall/density/coverage of images ``(N, C, S, S)`` on the learned image embedding."""
    if real.shape[1:] != synth.shape[1:]:
        raise TsganError(f"real and synthetic images differ in shape: {real.shape[1:]} vs {synth.shape[1:]}")
    if not (np.isfinite(real).all() and np.isfinite(synth).all()):
        raise TsganError("the images contain NaN or infinite pixels: fix them before scoring")
    if min(len(real), len(synth)) < 10:
        raise TsganError(f"scoring needs at least 10 real and 10 synthetic images (got {len(real)} and {len(synth)})")
    t = time.perf_counter()
    emb = embedding_for(real, cache_dir, encoder)
    er, es = emb.embed(real), emb.embed(synth)
    out = {"fid": frechet_distance(er, es), **prdc(er, es)}
    out["embedding"] = {"fingerprint": emb.fingerprint, "dim": emb.config.dim, "kind": "image CNN, contrastive"}
    out["n_real"], out["n_synthetic"] = len(real), len(synth)
    out["seconds"] = {"total": round(time.perf_counter() - t, 2)}
    return out


def run_image_evaluation(real, synth, out_dir, history=None, title="tsgan evaluation", force=False) -> dict[str, Any]:
    """Scores, real and synthetic grids and loss curves into ``metrics.json`` and ``report.html``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    if out_dir.exists() and not force and any(out_dir.iterdir()):
        raise TsganError(f"{out_dir} already exists and is not empty: pass --force or choose another --out")
    scores = evaluate_images(real, synth, cache_dir=cache_dir())
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.6))
    for ax, (name, x) in zip(axes, (("real", real), ("synthetic", synth))):
        pick = x[rng.permutation(len(x))[:64]].transpose(0, 2, 3, 1)
        k = int(np.ceil(np.sqrt(len(pick))))
        s = pick.shape[1]
        grid = np.ones((k * (s + 1), k * (s + 1), pick.shape[3]))
        for i, im in enumerate(pick):
            r, c = divmod(i, k)
            grid[r * (s + 1) : r * (s + 1) + s, c * (s + 1) : c * (s + 1) + s] = im
        ax.imshow(grid.squeeze(-1) if grid.shape[2] == 1 else grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{name} (64 at random)")
        ax.axis("off")
    figs = [("Real and synthetic images", _png(fig))]
    loss = loss_figure(history)
    if loss is not None:
        figs.append(loss)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(scores, indent=2))
    write_report(out_dir, scores, figs, title)
    return scores


def run_table_evaluation(real: pd.DataFrame, synth: pd.DataFrame, out_dir, history=None, target=None, title="tsgan evaluation", force=False) -> dict[str, Any]:
    """Table scores (:mod:`tsgan.metrics.tabular`), per-column marginals and loss curves into a report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .metrics.tabular import _is_numeric, evaluate_table

    out_dir = Path(out_dir)
    if out_dir.exists() and not force and any(out_dir.iterdir()):
        raise TsganError(f"{out_dir} already exists and is not empty: pass --force or choose another --out")
    scores = evaluate_table(real, synth, target, cache_dir=cache_dir())
    cols = list(real.columns)[:12]
    k = int(np.ceil(len(cols) / 4))
    fig, axes = plt.subplots(k, 4, figsize=(13, 2.8 * k), squeeze=False)
    for ax, c in zip(axes.flat, cols):
        if _is_numeric(real[c]):
            lo, hi = np.percentile(real[c].astype(float), [0.5, 99.5])
            bins = np.linspace(lo, hi, 30)
            ax.hist(real[c].astype(float), bins, density=True, alpha=0.5, label="real")
            ax.hist(pd.to_numeric(synth[c], errors="coerce").dropna(), bins, density=True, alpha=0.5, label="synthetic", color="#d62728")
        else:
            pr = real[c].astype(str).value_counts(normalize=True)
            ps = synth[c].astype(str).value_counts(normalize=True).reindex(pr.index).fillna(0)
            idx = np.arange(len(pr))[:12]
            ax.bar(idx - 0.2, pr.to_numpy()[:12], 0.4, label="real")
            ax.bar(idx + 0.2, ps.to_numpy()[:12], 0.4, label="synthetic", color="#d62728")
            ax.set_xticks(idx, [t[:10] for t in pr.index[:12]], rotation=45, ha="right", fontsize=7)
        ax.set_title(f"{c} (similarity {scores['marginal_per_column'][str(c)]:.2f})", fontsize=9)
    for ax in list(axes.flat)[len(cols):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    figs = [("Per-column distributions", _png(fig))]
    loss = loss_figure(history)
    if loss is not None:
        figs.append(loss)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(scores, indent=2, default=float))
    write_report(out_dir, scores, figs, title)
    return scores


def write_report(out_dir: Path, scores: dict[str, Any], figures: list[tuple[str, str]], title: str) -> Path:
    rows = []
    for key, meaning in MEANINGS.items():
        if key not in scores:
            continue
        v = scores[key]
        if isinstance(v, dict) and "tstr" in v:
            cell = f"{v['tstr']:.4f} (real: {v['trtr']:.4f}; {html.escape(str(v['target']))}, {v['task']})"
        elif isinstance(v, dict):
            cell = v.get("skipped") or f"{v['mean']:.4f} ± {v['std']:.4f}"
        else:
            cell = f"{v:.4f}"
        refs = "; ".join(f"{name}: {vals[key]:.3f}" for name, vals in REFERENCE.items() if key in vals) if _unit(scores).startswith("windows") else ""
        rows.append(f"<tr><td>{key}</td><td class=num>{cell}</td><td>{html.escape(meaning)}</td><td>{refs}</td></tr>")
    imgs = "\n".join(f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'>" for t, b in figures)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
{_STYLE}
</head><body><h1>{html.escape(title)}</h1>
<p>{scores['n_real']} real and {scores['n_synthetic']} synthetic {_unit(scores)}.</p>
<table><tr><th>score</th><th>value</th><th>meaning</th><th>published reference (PROTOCOL.md)</th></tr>{''.join(rows)}</table>
{privacy_section(scores["privacy"]) if scores.get("privacy") else ""}
{imgs}</body></html>"""
    path = out_dir / "report.html"
    path.write_text(page)
    return path


def _unit(scores: dict[str, Any]) -> str:
    if "detection_auc" in scores:
        return "rows (FID and PRDC on a contrastive MLP embedding of the encoded rows)"
    if scores.get("embedding", {}).get("kind", "").startswith("image"):
        return "images, pixels in [0, 1]"
    return "windows, scored in the real data's min-max [0, 1] space"


_STYLE = """<style>body{font-family:sans-serif;max-width:1150px;margin:2em auto;color:#222} table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px} td.num{text-align:right;font-family:monospace} img{max-width:100%}
.pass{color:#1a7f37}.warn{color:#9a6700}.fail{color:#cf222e;font-weight:bold}</style>"""


def privacy_section(p: dict[str, Any]) -> str:
    """HTML for the privacy scores: verdict lines, the numbers, the thresholds."""
    from .privacy import summary_lines

    names = ["mia_auc", "dcr_share_closer_to_train", "near_copy_share"]
    items = "".join(
        f"<li class={p['verdicts'][k].replace('/', '')}>{html.escape(line)}</li>" for k, line in zip(names, summary_lines(p))
    ) + "".join(f"<li>{html.escape(line)}</li>" for line in summary_lines(p)[3:])
    split = p.get("split", {})
    how = "whole entities" if split.get("by") == "entity" else f"{len(split.get('blocks', []))} time blocks spread over the series"
    rows = [
        ("records compared (per set)", p["records"]),
        ("DCR synthetic to train, p5 / p50", f"{p['dcr_synthetic_to_train']['p5']:.4f} / {p['dcr_synthetic_to_train']['p50']:.4f}"),
        ("DCR holdout to train (baseline), p5 / p50", f"{p['dcr_holdout_to_train']['p5']:.4f} / {p['dcr_holdout_to_train']['p50']:.4f}"),
        ("NNDR median, synthetic / holdout", f"{p['nndr_synthetic_median']:.3f} / {p['nndr_holdout_median']:.3f}"),
        ("near-copy distance threshold (1st pct of holdout DCR)", f"{p['near_copy_threshold']:.4f}"),
    ]
    table = "".join(f"<tr><td>{html.escape(k)}</td><td class=num>{v}</td></tr>" for k, v in rows)
    th = "; ".join(f"{k}: pass &le; {v['pass_at_most']}, warn &le; {v['warn_at_most']}, else fail" for k, v in p["thresholds"].items())
    return f"""<h2>Privacy</h2><p>Holdout: {split.get('holdout', 0):.0%} of the data ({how}, {split.get('holdout_windows', '?')} windows)
never seen in training is the yardstick. Distances are Euclidean between flattened windows in [0, 1] space.</p>
<ul>{items}</ul><table>{table}</table><p style="font-size:13px">Thresholds (the verdict uses the upper end of the
AUC's 95% interval): {th}.</p>"""


def write_privacy_page(path: Path, p: dict[str, Any], title: str) -> Path:
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>{_STYLE}</head>
<body><h1>{html.escape(title)}</h1>{privacy_section(p)}</body></html>"""
    path.write_text(page)
    return path


def run_evaluation(
    real: np.ndarray,
    synth: np.ndarray,
    columns: list[str],
    out_dir: str | Path,
    metrics: list[str] | None = None,
    reps: int = 1,
    history: pd.DataFrame | None = None,
    title: str = "tsgan evaluation",
    force: bool = False,
    privacy: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Scores + figures; writes ``metrics.json`` and ``report.html`` into ``out_dir``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not force and any(out_dir.iterdir()):
        raise TsganError(f"{out_dir} already exists and is not empty: pass --force or choose another --out")
    scores = evaluate_arrays(real, synth, metrics, reps, cache_dir=cache_dir())
    if privacy is not None:
        scores["privacy"] = privacy
    figures = plot_figures(real, synth, columns, history)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(scores, indent=2))
    write_report(out_dir, scores, figures, title)
    return scores


def cache_dir() -> Path:
    """Where fitted embeddings are kept: $TSGAN_CACHE/embeddings or ~/.cache/tsgan/embeddings."""
    return Path(os.environ.get("TSGAN_CACHE", Path.home() / ".cache" / "tsgan")) / "embeddings"


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
    CSV/Parquet as ``tsgan sample`` writes, or a ``.npy`` array ``(sequences, time,
    features)`` in the real data's units (another tool's output, e.g. TimeGAN's
    ``generated_data``). Condition columns (a conditional run's,
    or ``condition_columns``) are not scored as features.
    """
    from .api import META_FILE, load, load_data
    from .data import MinMaxScaler, Windows, is_npy, read_npy, read_table, to_series

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
    frame, time_column, id_column, condition_columns = load_data(real_source, time_column, id_column, condition_columns)
    if synth_array is None and not target.is_dir():
        steps = synth_frame.groupby("sequence_id").size() if "sequence_id" in synth_frame else None
        seq_len, stride = (int(steps.iloc[0]) if steps is not None and len(steps) else 2), 1
    spec, base, lengths, _ = to_series(frame, seq_len, stride, time_column, id_column, condition_columns)
    scaler = MinMaxScaler().fit(base)
    real = Windows.from_lengths(scaler.transform(base), lengths, seq_len, stride).array()
    if target.is_dir():
        if syn.spec_.columns != spec.columns:
            raise TsganError(
                f"real and synthetic columns differ: the run models {syn.spec_.columns}, the real data has {spec.columns}"
            )
        synth = syn.sample(n or min(len(real), 10_000), seed=seed)
    elif synth_array is not None:
        if synth_array.shape[2] != len(spec.columns):
            raise TsganError(f"the synthetic array has {synth_array.shape[2]} features, the real data {len(spec.columns)} ({', '.join(spec.columns)}): pass matching data")
        synth = synth_array[:n] if n else synth_array
    else:
        synth = windows_from_long(synth_frame, spec.columns)
        if n:
            synth = synth[:n]
    return real, scaler.transform(synth).astype(np.float32), spec.columns, history
