"""What the discriminative score sees on Sines (README, "RCGAN Sines: what the classifier sees").

Scores real Sines (``sines_array()``) against a second draw altered one way, and reads
the runs given for the same statistic:

- ``floor``: an unaltered second draw (``sines_array(seed=1)``);
- ``noise SIGMA``: the second draw plus N(0, SIGMA) on every value (rougher series);
- ``copula RHO``: Sines whose five frequencies per window are drawn through a Gaussian
  copula of correlation RHO (coupled features; phases independent);
- ``--runs DIR ...``: each fitted run's samples, their roughness and coupling.

    python bench/diagnose_sines.py --noise 0.0008,0.002 --copula 0.15,0.4 --reps 5 --threads 1 --runs /tmp/cf/runs/s3/run

Roughness is the mean absolute second difference over steps; coupling the mean
|correlation| between features at the last step. Results: printed, and ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm

from tsgan.data import sines_array


def copula_sines(rho: float, n: int = 10_000, seq_len: int = 24, dim: int = 5, seed: int = 5) -> np.ndarray:
    """PROTOCOL Sines, except that each window's frequencies ``0.1 * Phi(z)`` come from
    ``z ~ N(0, C)`` with unit variances and correlation ``rho``: uniform marginals, coupled."""
    rng = np.random.default_rng(seed)
    cov = np.full((dim, dim), rho) + (1 - rho) * np.eye(dim)
    freq = 0.1 * norm.cdf(rng.multivariate_normal(np.zeros(dim), cov, size=n))
    phase = rng.uniform(0, 0.1, (n, dim))
    j = np.arange(seq_len)[None, :, None]
    return ((np.sin(freq[:, None, :] * j + phase[:, None, :]) + 1) / 2).astype(np.float32)


def roughness(x: np.ndarray) -> float:
    return float(np.abs(np.diff(x, 2, axis=1)).mean())


def coupling(x: np.ndarray, step: int = -1) -> float:
    """Mean |correlation| between distinct features at one step (the last by default)."""
    c = np.corrcoef(x[:, step].T)
    d = len(c)
    return float((np.abs(c) - np.eye(d)).sum() / (d * (d - 1)))


def coupling_all_steps(x: np.ndarray) -> float:
    """``coupling`` averaged over every step."""
    return float(np.mean([coupling(x, t) for t in range(x.shape[1])]))


def numbers(text: str, flag: str, example: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v]
    except ValueError:
        raise SystemExit(f"error: {flag} takes comma-separated numbers (got {text!r}): e.g. {flag} {example}") from None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--noise", default="", help="comma-separated sigmas")
    ap.add_argument("--copula", default="", help="comma-separated correlations in [0, 1)")
    ap.add_argument("--runs", nargs="*", type=Path, default=[], help="fitted Sines runs to read")
    ap.add_argument("--reps", type=int, default=5, help="classifiers per score (0: the statistics only)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import torch

    import tsgan
    from tsgan.errors import TsganError
    from tsgan.metrics import discriminative_score

    if args.threads:
        torch.set_num_threads(args.threads)
    sigmas, rhos = numbers(args.noise, "--noise", "0.0008,0.002"), numbers(args.copula, "--copula", "0.15,0.4")
    if args.reps < 0:
        raise SystemExit(f"error: --reps takes a count >= 0 (got {args.reps}): e.g. --reps 5, or --reps 0 for the statistics only")
    if any(s < 0 for s in sigmas) or any(not 0 <= r < 1 for r in rhos):
        raise SystemExit("error: --noise takes sigmas >= 0 and --copula correlations in [0, 1): e.g. --noise 0.002 --copula 0.15")
    real = sines_array()
    other = sines_array(seed=1)
    cases = {"floor": other}
    for s in sigmas:
        cases[f"noise {s}"] = (other + np.random.default_rng(0).normal(0, s, other.shape)).astype(np.float32)
    for r in rhos:
        cases[f"copula {r}"] = copula_sines(r)
    for run in args.runs:
        try:
            cases[f"run {run}"] = tsgan.load(run).sample_array(len(real), seed=0).astype(np.float32)
        except TsganError as e:
            raise SystemExit(f"error: {e}") from None
    def stats(x: np.ndarray) -> dict:
        return {"roughness": roughness(x), "coupling": coupling(x), "coupling_all_steps": coupling_all_steps(x)}

    def line(d: dict) -> str:
        return f"roughness {d['roughness']:.5f}, coupling {d['coupling']:.3f} (every step: {d['coupling_all_steps']:.3f})"

    out = {"command": "python " + shlex.join(sys.argv), "real": stats(real)}
    print(f"real: {line(out['real'])}")
    for name, x in cases.items():
        scores = [discriminative_score(real, x, seed=r) for r in range(args.reps)]
        out[name] = {**stats(x), "disc": float(np.mean(scores)) if scores else None, "repeats": scores}
        print(f"{name}: {line(out[name])}" + (f", disc {out[name]['disc']:.4f}" if scores else ""), flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))
        print(f"results in {args.out}")


if __name__ == "__main__":
    main()
