"""Privacy vs utility on Stocks (issue #7's must-show numbers).

RCGAN on Stocks with the default holdout (the final 20 % time block), trained
normally and with DP-SGD at epsilon 10 and 1 (delta 1e-5, per window); for each:
the privacy report (tsgan.privacy) and the discriminative and predictive scores
(PROTOCOL.md, against the training windows). Results: bench/results/privacy.json.

    python bench/privacy.py --steps 1500 --threads 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STOCKS = HERE.parent.parent / "shared" / "data" / "stock_data.csv"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--model", default="rcgan")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--epsilons", default="none,10,1")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--minutes", type=float, default=None)
    ap.add_argument("--tag", default="", help="suffix of the results file")
    ap.add_argument("--param", action="append", help="model parameter key=value (repeatable), the same for every run")
    args = ap.parse_args()
    if not STOCKS.exists():
        raise SystemExit(f"skip: {STOCKS} not found")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    import tsgan
    from tsgan.config import parse_key_values
    from tsgan.metrics import discriminative_score, predictive_score
    from tsgan.privacy import summary_lines

    out = {"model": args.model, "data": "stocks", "steps": args.steps, "params": args.param,
           "command": "python bench/privacy.py " + " ".join(f"--{k} {w}" for k, v in vars(args).items() if v is not None
                                                           for w in (v if isinstance(v, list) else [v])), "runs": {}}
    for eps in args.epsilons.split(","):
        dp = {} if eps == "none" else {"dp_epsilon": float(eps), "dp_delta": 1e-5}
        t0 = time.perf_counter()
        params = parse_key_values(args.param)
        syn = tsgan.Synthesizer(model=args.model, recipe="paper", steps=args.steps, seed=0, max_minutes=args.minutes, **params, **dp)
        syn.fit(str(STOCKS))
        secs = time.perf_counter() - t0
        p = syn.privacy(seed=0)
        train_w = syn._windows[0].array()
        synth = syn.sample_scaled(len(train_w), seed=1)
        disc = [discriminative_score(train_w, synth, seed=r) for r in range(args.reps)]
        pred = [predictive_score(train_w, synth, seed=r) for r in range(args.reps)]
        row = {
            "dp": syn.train_info_.get("dp"), "steps": syn.train_info_["steps"], "seconds": round(secs, 1),
            "disc": [float(np.mean(disc)), float(np.std(disc))], "pred": [float(np.mean(pred)), float(np.std(pred))],
            "privacy": p,
        }
        out["runs"][eps] = row
        print(f"== epsilon {eps}: disc {row['disc'][0]:.3f} ± {row['disc'][1]:.3f}, pred {row['pred'][0]:.3f} ± {row['pred'][1]:.3f} "
              f"({row['steps']} steps, {secs:.0f} s)", flush=True)
        for line in summary_lines(p):
            print("   " + line, flush=True)
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / f"privacy{args.tag}.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
