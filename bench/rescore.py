"""Rescore a fitted run on fresh sample sets, without retraining.

The discriminative score's post-hoc classifier varies a lot between repeats on one
synthetic set (on Sines, .003 to .074), so a 10-repeat mean still moves by about .01.
This draws ``--sets`` synthetic sets (sampling seeds 0, 1, ...; seed 0 is the set
``bench/reproduce.py`` scores), scores each ``--reps`` times and reports per-set means
and the pooled mean and median.

    python bench/rescore.py bench/results/fitted/timegan-sines-paper-seed0 --data sines --sets 5 --reps 10 --threads 1

Results: printed, and bench/results/rescore-<run folder name>.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path, help="a folder written by Synthesizer.save (e.g. reproduce.py --save-runs)")
    ap.add_argument("--data", choices=("sines", "stocks"), required=True, help="the real windows the run was trained on")
    ap.add_argument("--sets", type=int, default=5, help="synthetic sets (sampling seeds 0 .. sets-1)")
    ap.add_argument("--reps", type=int, default=10, help="scoring repeats per set")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    import tsgan
    from reproduce import load_real
    from tsgan.metrics import discriminative_score

    _, real, to_score_space, _ = load_real(args.data)
    from tsgan.errors import TsganError

    try:
        syn = tsgan.load(args.run)
    except TsganError as e:
        raise SystemExit(f"error: {e}") from None
    t0 = time.perf_counter()
    sets = {}
    for s in range(args.sets):
        synth = to_score_space(syn.sample(len(real), seed=s)).astype(np.float32)
        sets[s] = [discriminative_score(real, synth, seed=r) for r in range(args.reps)]
        print(f"set {s}: disc mean {np.mean(sets[s]):.4f}, median {np.median(sets[s]):.4f}, repeats {np.round(sets[s], 3).tolist()}", flush=True)
    pooled = np.concatenate(list(sets.values()))
    out = {
        "command": "python bench/rescore.py " + " ".join([str(args.run), f"--data {args.data}", f"--sets {args.sets}", f"--reps {args.reps}"]),
        "disc": {str(k): v for k, v in sets.items()}, "set_means": [float(np.mean(v)) for v in sets.values()],
        "pooled_mean": float(pooled.mean()), "pooled_std": float(pooled.std()), "pooled_median": float(np.median(pooled)),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(f"pooled over {len(pooled)}: mean {out['pooled_mean']:.4f} ± {out['pooled_std']:.4f}, median {out['pooled_median']:.4f}; "
          f"set means {np.round(out['set_means'], 4).tolist()}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"rescore-{args.run.name}.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
