"""One process against two (torchrun, gloo) on the CPU, same global batch (#37).

    python bench/ddp.py                      # TimeGAN on sines, CTGAN on affairs
    python bench/ddp.py --steps 300 --models timegan
    python bench/ddp.py --models timegan,ctgan --batch 2000 --steps 200 --no-score   # more work per process

For each model: ``tsgan fit DATA --model M --steps N --param batch_size=B --threads 1``
(one process, one thread), the same with ``--threads 2`` (one process, two threads), and
``torchrun --nproc-per-node 2 --no-python tsgan fit ... --threads 1`` (two processes of
one thread, B / 2 each). Throughput = steps x global batch / training seconds (the runs'
tsgan.json); scaling efficiency = two processes' throughput / (2 x one process's). Each
run is scored with ``tsgan evaluate DATA RUN`` (sequences: discriminative and predictive
scores; tables: the table scores), and the loss curves of the one- and two-process runs
are drawn side by side (bench/results/ddp-<model>.png). Results:
bench/results/ddp-<model>.json.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
SETUPS = {"timegan": ("sines", 128, "discriminative,predictive"), "ctgan": ("affairs", 500, None)}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fit(model: str, data: str, steps: int, batch: int, out: Path, procs: int, threads: int) -> dict:
    args = ["tsgan", "fit", data, "--model", model, "--steps", str(steps), "--param", f"batch_size={batch}", "--threads", str(threads),
            "--seed", "0", "--out", str(out), "--force", "-q"]
    if procs > 1:
        args = ["torchrun", "--nproc-per-node", str(procs), "--master-port", str(_port()), "--no-python", *args]
    subprocess.run(args, check=True, capture_output=True, text=True)
    train = json.loads((out / "tsgan.json").read_text())["train"]
    return {"processes": procs, "threads_per_process": threads, "steps": train["steps"], "train_seconds": train["seconds"],
            "windows_per_second": round(train["steps"] * batch / train["seconds"], 1),
            "peak_memory_mb": train.get("peak_memory_mb"), "distributed": train.get("distributed")}


def score(data: str, run: Path, metrics: str | None) -> dict:
    out = run / "eval"
    args = ["tsgan", "evaluate", data, str(run), "--out", str(out)] + (["--metrics", metrics] if metrics else [])
    subprocess.run(args, check=True, capture_output=True, text=True)
    m = json.loads((out / "metrics.json").read_text())
    return {k: v for k, v in m.items() if isinstance(v, (int, float)) or (isinstance(v, dict) and "mean" in v)}


def curves(model: str, runs: dict[str, Path]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = {name: pd.read_csv(run / "history.csv") for name, run in runs.items()}
    cols = [c for c in next(iter(hist.values())).columns if c.endswith("/loss")]
    fig, axes = plt.subplots(1, len(cols), figsize=(4 * len(cols), 3), squeeze=False)
    for ax, col in zip(axes[0], cols):
        for name, h in hist.items():
            rows = h[h[col].notna()]
            ax.plot(rows["step"], rows[col].rolling(20, min_periods=1).mean(), label=name)
        ax.set_title(f"{model} {col} (rolling mean of 20)")
        ax.set_xlabel("step")
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(RESULTS / f"ddp-{model}.png", dpi=80)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="timegan,ctgan")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--work", default="/tmp/ddp-bench")
    ap.add_argument("--batch", type=int, help="global batch (default: the model's setup)")
    ap.add_argument("--no-score", action="store_true", help="throughput only (no evaluation, no curves)")
    args = ap.parse_args()
    for model in args.models.split(","):
        data, batch, metrics = SETUPS[model]
        batch = args.batch or batch
        work = Path(args.work)
        runs = {"1 process": work / f"{model}-1", "1 process, 2 threads": work / f"{model}-1t2", "2 processes": work / f"{model}-2"}
        result = {"model": model, "data": data, "global_batch": batch, "steps": args.steps, "runs": {}}
        for (name, run), (procs, threads) in zip(runs.items(), ((1, 1), (1, 2), (2, 1))):
            r = fit(model, data, args.steps, batch, run, procs, threads)
            if not args.no_score:
                r["scores"] = score(data, run, metrics)
            result["runs"][name] = r
            print(name, json.dumps(r), flush=True)
        one, two = result["runs"]["1 process"], result["runs"]["2 processes"]
        result["scaling_efficiency"] = round(two["windows_per_second"] / (2 * one["windows_per_second"]), 3)
        result["speedup_two_processes"] = round(two["windows_per_second"] / one["windows_per_second"], 3)
        if not args.no_score:
            curves(model, {k: runs[k] for k in ("1 process", "2 processes")})
        name = f"ddp-{model}" + (f"-batch{batch}" if args.batch else "")
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1))
        print(json.dumps({k: result[k] for k in ("model", "scaling_efficiency", "speedup_two_processes")}))


if __name__ == "__main__":
    main()
