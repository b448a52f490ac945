"""Figures of real against synthetic windows and the run's loss curves, as PNG."""

from __future__ import annotations

from ..metrics import autocorrelation

import numpy as np
import pandas as pd

from .report import _png

def plain_text(text) -> str:
    """``text`` as matplotlib shows it literally: ``$`` would start mathtext (and a lone one raises)."""
    return str(text).replace("$", r"\$")


def plot_figures(real: np.ndarray, synth: np.ndarray, columns: list[str], history: pd.DataFrame | None, seed: int = 0) -> list[tuple[str, str]]:
    """(title, base64 PNG) for each figure of the report."""
    import matplotlib

    columns = [plain_text(c) for c in columns]  # "$x$" in a column name is a name, not mathtext
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
        ax.set(xlabel="training step", ylabel=f"loss (rolling mean of {window})", title=plain_text(label))
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
