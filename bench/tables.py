"""tsgan's CTGAN side by side with the `ctgan` package (issue #6's must-show numbers).

Same data, epochs and batch size; both on one CPU thread, pinned to one core. For each table: seconds
per training step (tsgan: from the loop's own clock; ctgan: the difference of a
1-epoch and an E-epoch fit), the wall time of a whole fit (data transformer fit,
transform, training: what a user waits; also per step), and the quality of as many synthetic rows as real
ones, scored by tsgan.metrics.tabular (detection AUC, 0.5 best; TSTR on a real
test split; marginal and pair similarity). ctgan runs in its own environment:

    python -m venv /tmp/ctgan-env && /tmp/ctgan-env/bin/pip install torch==2.13.0 ctgan
    python bench/tables.py --ctgan-python /tmp/ctgan-env/bin/python --epochs 300

tsgan runs once per ``--precision`` (default both float32 and bf16 mixed precision).

Results: bench/results/tables.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
TARGETS = {"breast-cancer": "diagnosis", "affairs": "rate_marriage"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctgan-python", default="/tmp/ctgan-env/bin/python")
    ap.add_argument("--datasets", default="breast-cancer,affairs")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--precision", default="32,bf16", help="tsgan's training precisions to run (comma list of 32, bf16)")
    ap.add_argument("--tag", default="", help="suffix of the results file")
    args = ap.parse_args()
    if not Path(args.ctgan_python).exists():
        raise SystemExit(f"skip: no ctgan environment at {args.ctgan_python} (see the docstring)")
    import torch

    torch.set_num_threads(1)
    if hasattr(os, "sched_setaffinity"):  # one core each, the same core for both
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import tsgan
    from tsgan.api import load_data
    from tsgan.data.tabular import TableTransformer
    from tsgan.metrics.tabular import evaluate_table

    results = {"command": "python bench/tables.py " + " ".join(sys.argv[1:]), "datasets": {}}
    for name in args.datasets.split(","):
        real = load_data(name)[0]
        discrete = [c["name"] for c in TableTransformer().fit(real).columns_ if c["kind"] == "categorical"]
        steps = args.epochs * max(len(real) // args.batch, 1)
        row = {"rows": len(real), "columns": real.shape[1], "discrete": discrete, "epochs": args.epochs, "steps": steps}
        with tempfile.TemporaryDirectory() as tmp:
            real.to_csv(Path(tmp) / "real.csv", index=False)
            proc = subprocess.run(
                [args.ctgan_python, str(HERE / "ctgan_run.py"), "--data", str(Path(tmp) / "real.csv"), "--discrete", ",".join(discrete),
                 "--epochs", str(args.epochs), "--batch", str(args.batch), "--out", str(Path(tmp) / "ctgan.csv")],
                capture_output=True, text=True,
            )
            if proc.returncode:
                raise SystemExit(proc.stderr[-2000:])
            row["ctgan"] = json.loads(proc.stdout.strip().splitlines()[-1])
            ctgan_synth = pd.read_csv(Path(tmp) / "ctgan.csv")
        ctgan_synth = ctgan_synth.astype({c: real[c].dtype for c in real.columns if c not in discrete}, errors="ignore")
        synths = {"ctgan": ctgan_synth}
        for precision in args.precision.split(","):
            label = f"tsgan-{precision}"
            t = time.perf_counter()
            # every row, like ctgan (table runs keep no holdout anyway; explicit for the comparison)
            syn = tsgan.Synthesizer(model="ctgan", steps=steps, batch_size=args.batch, seed=0, holdout=0, precision=precision).fit(real)
            h = syn.history_
            row[label] = {
                "seconds_per_step": float((h["seconds"].iloc[-1] - h["seconds"].iloc[0]) / max(len(h) - 1, 1)),
                "fit_seconds": round(time.perf_counter() - t, 2), "steps": int(len(h)),
            }
            row[f"speedup-{precision}"] = row["ctgan"]["seconds_per_step"] / row[label]["seconds_per_step"]
            row[f"fit-speedup-{precision}"] = row["ctgan"]["fit_seconds"] / row[label]["fit_seconds"]
            synths[label] = syn.sample(len(real), seed=1)
        for label, synth in synths.items():
            scores = evaluate_table(real, synth[real.columns], target=TARGETS.get(name))
            scores.pop("marginal_per_column")
            row[label]["scores"] = scores
        results["datasets"][name] = row
        for label in synths:
            s = row[label]["scores"]
            print(f"{name:14} {label:10}: {row[label]['seconds_per_step'] * 1000:6.1f} ms/step, fit {row[label]['fit_seconds']:6.1f} s "
                  f"({row[label]['fit_seconds'] / steps * 1000:5.1f} ms/step), detection AUC {s['detection_auc']:.3f}, "
                  f"TSTR {s['tstr']['tstr']:.3f} (real {s['tstr']['trtr']:.3f}), marginal {s['marginal_similarity']:.3f}, pairs {s['pair_similarity']:.3f}", flush=True)
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / f"tables{args.tag}.json").write_text(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
