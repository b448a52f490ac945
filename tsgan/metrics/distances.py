"""Distribution distances on embeddings and windows (issue #4's score set, pure functions).

* ``frechet_distance``: FID between Gaussians fitted to two embedding sets
  (Heusel et al. 2017), with scipy's ``sqrtm`` made stable for near-singular
  covariances (a small ridge when the product is not finite, real part kept).
* ``prdc``: precision and recall (Kynkäänniemi et al. 2019), density and coverage
  (Naeem et al. 2020) from k-nearest-neighbour balls around real points.
* ``correlational_score``: Diffusion-TS's lag-0 cross-correlation difference.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from sklearn.metrics import pairwise_distances

from ..errors import TsganError


def frechet_distance(a: np.ndarray, b: np.ndarray, eps: float = 1e-6) -> float:
    """|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) for embeddings ``(N, D)``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise TsganError(f"embeddings must be (N, D) with the same D, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise TsganError("FID needs at least 2 embeddings on each side")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)  # singular products are handled below
        covmean = linalg.sqrtm(s_a @ s_b)
        if not np.isfinite(covmean).all():
            ridge = eps * np.eye(len(s_a))
            covmean = linalg.sqrtm((s_a + ridge) @ (s_b + ridge))
    covmean = np.real(covmean)
    d = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(covmean))
    return max(d, 0.0)


def _kth_neighbour_radius(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point."""
    from sklearn.neighbors import NearestNeighbors

    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return dist[:, k]  # column 0 is the point itself


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5, chunk: int = 1024) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` (both ``(N, D)``).

    Distances are computed ``chunk`` real points at a time, so memory stays
    ``O(chunk * N_fake)`` rather than ``O(N_real * N_fake)``.
    """
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if min(len(real), len(fake)) <= k:
        raise TsganError(f"precision/recall with k={k} needs more than {k} points on each side")
    r_real = _kth_neighbour_radius(real, k)  # (Nr,)
    r_fake = _kth_neighbour_radius(fake, k)  # (Nf,)
    fake_in_some_real = np.zeros(len(fake), dtype=bool)
    fake_ball_count = np.zeros(len(fake), dtype=np.int64)
    real_in_some_fake = np.zeros(len(real), dtype=bool)
    real_covered = np.zeros(len(real), dtype=bool)
    for i in range(0, len(real), chunk):
        d = pairwise_distances(real[i : i + chunk], fake)  # (c, Nf)
        inside = d < r_real[i : i + chunk, None]  # fake j inside real ball i
        fake_in_some_real |= inside.any(axis=0)
        fake_ball_count += inside.sum(axis=0)
        real_in_some_fake[i : i + chunk] = (d < r_fake[None, :]).any(axis=1)
        real_covered[i : i + chunk] = d.min(axis=1) < r_real[i : i + chunk]
    return {
        "precision": float(fake_in_some_real.mean()),
        "recall": float(real_in_some_fake.mean()),
        "density": float(fake_ball_count.mean() / k),
        "coverage": float(real_covered.mean()),
    }


def correlational_score(real: np.ndarray, fake: np.ndarray) -> float:
    """Diffusion-TS's score: sum |C_real - C_fake| / 10 over the lower triangle (with the
    diagonal) of lag-0 cross-feature correlations of windows ``(N, T, F)``."""

    def corr(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        z = (x - x.mean(axis=(0, 1))) / (x.std(axis=(0, 1)) + 1e-12)  # per feature over windows and steps
        c = np.einsum("ntf,ntg->fg", z, z) / (z.shape[0] * z.shape[1])
        return c[np.tril_indices(x.shape[2])]

    return float(np.abs(corr(real) - corr(fake)).sum() / 10)


def marginal_distance(real: np.ndarray, fake: np.ndarray) -> dict[str, np.ndarray]:
    """Per-feature Kolmogorov-Smirnov statistic and 1-Wasserstein distance of the
    pooled values of windows ``(N, T, F)`` (``(F,)`` arrays)."""
    from scipy.stats import ks_2samp, wasserstein_distance

    r = np.asarray(real).reshape(-1, np.shape(real)[-1])
    f = np.asarray(fake).reshape(-1, np.shape(fake)[-1])
    ks = np.array([ks_2samp(r[:, j], f[:, j]).statistic for j in range(r.shape[1])])
    w1 = np.array([wasserstein_distance(r[:, j], f[:, j]) for j in range(r.shape[1])])
    return {"ks": ks, "wasserstein": w1}


def autocorrelation(x: np.ndarray, max_lag: int | None = None) -> np.ndarray:
    """Mean within-window autocorrelation per lag 1..max_lag and feature: ``(max_lag, F)``.

    Each feature is centred and scaled over all windows and steps, so lag k is
    ``E[z_t z_{t+k}]`` averaged over windows and valid t.
    """
    x = np.asarray(x, dtype=np.float64)
    t = x.shape[1]
    max_lag = min(max_lag or t - 1, t - 1)
    z = (x - x.mean(axis=(0, 1))) / (x.std(axis=(0, 1)) + 1e-12)
    return np.stack([(z[:, :-k] * z[:, k:]).mean(axis=(0, 1)) for k in range(1, max_lag + 1)])


def autocorrelation_difference(real: np.ndarray, fake: np.ndarray, max_lag: int | None = None) -> float:
    """Mean absolute difference of the autocorrelation functions (lags x features)."""
    return float(np.abs(autocorrelation(real, max_lag) - autocorrelation(fake, max_lag)).mean())


def mmd_rbf(a: np.ndarray, b: np.ndarray, bandwidth: float | None = None) -> float:
    """Unbiased squared MMD with the Gaussian kernel ``exp(-|x - y|^2 / (2 s^2))``
    (Gretton et al. 2012) on flattened samples; ``s`` defaults to the median
    pairwise distance of the pooled sample (median heuristic)."""
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    if len(a) < 2 or len(b) < 2:
        raise TsganError("MMD needs at least 2 samples on each side")
    if bandwidth is None:
        pooled = np.concatenate([a, b])
        d = pairwise_distances(pooled, pooled)
        bandwidth = float(np.median(d[np.triu_indices(len(pooled), 1)])) or 1.0
    g = 1.0 / (2 * bandwidth**2)
    kaa = np.exp(-g * pairwise_distances(a, a, metric="sqeuclidean"))
    kbb = np.exp(-g * pairwise_distances(b, b, metric="sqeuclidean"))
    kab = np.exp(-g * pairwise_distances(a, b, metric="sqeuclidean"))
    m, n = len(a), len(b)
    return float(
        (kaa.sum() - np.trace(kaa)) / (m * (m - 1)) + (kbb.sum() - np.trace(kbb)) / (n * (n - 1)) - 2 * kab.mean()
    )
