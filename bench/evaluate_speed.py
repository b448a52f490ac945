"""Time and memory of the full score set: 10,000 vs 10,000 windows of 24 x 6, one repeat.

    python bench/evaluate_speed.py               # target: <= 5 minutes, peak memory <= 2 GiB on 2 cores

Real: Sines with 6 features; synthetic: an independent Sines draw with small noise.
Includes fitting the learned embedding (not cached: a fresh cache directory).
Writes bench/results/evaluate_speed.json.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tsgan.data import sines_array
from tsgan.evaluate import evaluate_arrays


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    real = sines_array(n, 24, 6, seed=0)
    synth = np.clip(sines_array(n, 24, 6, seed=1) + np.random.default_rng(2).normal(0, 0.01, (n, 24, 6)), 0, 1)
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        scores = evaluate_arrays(real, synth, reps=1, cache_dir=cache)
    total = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "windows": [n, 24, 6],
        "total_seconds": round(total, 1),
        "peak_rss_mib": round(peak, 1),
        "seconds_per_metric": scores["seconds"],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "targets": {"total_seconds": 300, "peak_rss_mib": 2048},
        "scores": {k: v for k, v in scores.items() if k not in ("seconds", "marginal_per_feature")},
    }
    path = Path(__file__).resolve().parent / "results" / "evaluate_speed.json"
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: out[k] for k in ("total_seconds", "peak_rss_mib", "seconds_per_metric")}, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
