"""Scores and reports for image and table runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TsganError
from ..metrics import frechet_distance, prdc
from ..metrics.embedding import EncoderConfig, embedding_for
from .figures import loss_figure
from .report import _png, cache_dir, write_report

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

    from ..metrics.tabular import _is_numeric, evaluate_table

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
