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
``--repeats R`` fits each side R times, alternating, and reports medians, with the step
ratio paired within each repeat (this machine's speed drifts 20-40 % between runs).

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
from statistics import median

import pandas as pd

HERE = Path(__file__).resolve().parent
TARGETS = {"breast-cancer": "diagnosis", "affairs": "rate_marriage"}
# A second TSTR target where the first is barely learnable from real data (affairs'
# rate_marriage: macro F1 .233 training on real rows, near chance for five classes):
# the column real data predicts best (years married: R^2 .908 on real rows).
EXTRA_TARGETS = {"affairs": ["yrs_married"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctgan-python", default="/tmp/ctgan-env/bin/python")
    ap.add_argument("--datasets", default="breast-cancer,affairs")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--precision", default="32,bf16", help="tsgan's training precisions to run (comma list of 32, bf16)")
    ap.add_argument("--repeats", type=int, default=1, help="fits per library, alternating; medians and per-run ratios reported")
    ap.add_argument("--tag", default="", help="suffix of the results file")
    args = ap.parse_args()
    if not Path(args.ctgan_python).exists():
        raise SystemExit(f"skip: no ctgan environment at {args.ctgan_python} (see the docstring)")
    import torch

    torch.set_num_threads(1)
    if hasattr(os, "sched_setaffinity"):  # one core each, the same core for both
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import tsgan
    from tsgan.data.kinds import load_data
    from tsgan.data.tabular import TableTransformer
    from tsgan.metrics.tabular import evaluate_table, tstr

    results = {"command": "python bench/tables.py " + " ".join(sys.argv[1:]), "repeats": args.repeats, "datasets": {}}
    labels = ["ctgan"] + [f"tsgan-{p}" for p in args.precision.split(",")]
    for name in args.datasets.split(","):
        real = load_data(name)[0]
        discrete = [c["name"] for c in TableTransformer().fit(real).columns_ if c["kind"] == "categorical"]
        steps = args.epochs * max(len(real) // args.batch, 1)
        row = {"rows": len(real), "columns": real.shape[1], "discrete": discrete, "epochs": args.epochs, "steps": steps,
               "runs": {label: [] for label in labels}}
        # Repeats alternate the two libraries, so drifts in the machine's speed hit both;
        # tsgan's repeat r uses seed r (ctgan draws its own, unseeded).
        for r in range(args.repeats):
            synth, info = run_ctgan(args, real, discrete)
            row["runs"]["ctgan"].append(info)
            synths = {"ctgan": synth}
            for label in labels[1:]:
                t = time.perf_counter()
                # every row, like ctgan (table runs keep no holdout anyway; explicit for the comparison)
                syn = tsgan.Synthesizer(model="ctgan", steps=steps, batch_size=args.batch, seed=r, holdout=0,
                                        precision=label.removeprefix("tsgan-")).fit(real)
                h = syn.history_
                row["runs"][label].append({
                    "seconds_per_step": float((h["seconds"].iloc[-1] - h["seconds"].iloc[0]) / max(len(h) - 1, 1)),
                    "fit_seconds": round(time.perf_counter() - t, 2), "steps": int(len(h)),
                })
                synths[label] = syn.sample(len(real), seed=1000 + r)
            for label, synth in synths.items():
                scores = evaluate_table(real, synth[real.columns], target=TARGETS.get(name))
                scores["tstr_extra"] = {t: tstr(real, synth[real.columns], target=t) for t in EXTRA_TARGETS.get(name, [])}
                scores.pop("marginal_per_column")
                row["runs"][label][-1]["scores"] = scores
            for label in labels:
                print(f"{name:14} {label:10} #{r}: {describe(row['runs'][label][-1], steps)}", flush=True)
        row["summary"] = summarise(row["runs"])
        results["datasets"][name] = row
        for label, s in row["summary"].items():
            print(f"{name:14} {label:10} median of {args.repeats}: {s['ms_per_step']:6.1f} ms/step"
                  + (f" ({s['step_ratio']:.2f}x ctgan, per run {', '.join(f'{x:.2f}' for x in s['step_ratios'])})" if "step_ratio" in s else "")
                  + f", fit {s['fit_seconds']:6.1f} s" + (f" ({s['fit_ratio']:.2f}x)" if "fit_ratio" in s else "")
                  + f", detection AUC {s['detection_auc']:.3f}, TSTR {s['tstr']:.3f} (per run {', '.join(f'{x:.3f}' for x in s['tstrs'])})"
                  + "".join(f", TSTR[{t}] {v:.3f} (per run {', '.join(f'{x:.3f}' for x in s['extra'][t])})" for t, v in s["extra_median"].items())
                  + f", marginal {s['marginal_similarity']:.3f}, pairs {s['pair_similarity']:.3f}", flush=True)
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / f"tables{args.tag}.json").write_text(json.dumps(results, indent=2, default=float))


def run_ctgan(args, real: pd.DataFrame, discrete: list[str]) -> tuple[pd.DataFrame, dict]:
    """One fit of the `ctgan` package in its own environment: its samples and timings."""
    with tempfile.TemporaryDirectory() as tmp:
        real.to_csv(Path(tmp) / "real.csv", index=False)
        proc = subprocess.run(
            [args.ctgan_python, str(HERE / "ctgan_run.py"), "--data", str(Path(tmp) / "real.csv"), "--discrete", ",".join(discrete),
             "--epochs", str(args.epochs), "--batch", str(args.batch), "--out", str(Path(tmp) / "ctgan.csv")],
            capture_output=True, text=True,
        )
        if proc.returncode:
            raise SystemExit(proc.stderr[-2000:])
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        synth = pd.read_csv(Path(tmp) / "ctgan.csv")
    return synth.astype({c: real[c].dtype for c in real.columns if c not in discrete}, errors="ignore"), info


def describe(run: dict, steps: int) -> str:
    s = run["scores"]
    return (f"{run['seconds_per_step'] * 1000:6.1f} ms/step, fit {run['fit_seconds']:6.1f} s ({run['fit_seconds'] / steps * 1000:5.1f} ms/step), "
            f"detection AUC {s['detection_auc']:.3f}, TSTR {s['tstr']['tstr']:.3f} (real {s['tstr']['trtr']:.3f}), "
            + "".join(f"TSTR[{t}] {v['tstr']:.3f} (real {v['trtr']:.3f}), " for t, v in s.get("tstr_extra", {}).items())
            + f"marginal {s['marginal_similarity']:.3f}, pairs {s['pair_similarity']:.3f}")


def summarise(runs: dict[str, list[dict]]) -> dict[str, dict]:
    """Medians over the repeats; speed ratios to ctgan paired run by run (the same repeat)."""
    base = runs["ctgan"]
    out = {}
    for label, rs in runs.items():
        s = {
            "ms_per_step": median(r["seconds_per_step"] * 1000 for r in rs),
            "fit_seconds": median(r["fit_seconds"] for r in rs),
            "detection_auc": median(r["scores"]["detection_auc"] for r in rs),
            "tstrs": [r["scores"]["tstr"]["tstr"] for r in rs],
            "marginal_similarity": median(r["scores"]["marginal_similarity"] for r in rs),
            "pair_similarity": median(r["scores"]["pair_similarity"] for r in rs),
        }
        s["tstr"] = median(s["tstrs"])
        s["extra"] = {t: [r["scores"]["tstr_extra"][t]["tstr"] for r in rs] for t in rs[0]["scores"].get("tstr_extra", {})}
        s["extra_median"] = {t: median(v) for t, v in s["extra"].items()}
        if label != "ctgan":
            s["step_ratios"] = [r["seconds_per_step"] / b["seconds_per_step"] for r, b in zip(rs, base)]
            s["step_ratio"] = median(s["step_ratios"])
            s["fit_ratio"] = median(r["fit_seconds"] / b["fit_seconds"] for r, b in zip(rs, base))
        out[label] = s
    return out

if __name__ == "__main__":
    main()
