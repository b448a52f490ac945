"""Reproduce PROTOCOL.md's table: TimeGAN, RCGAN and C-RNN-GAN on Sines and Stocks.

Each (model, dataset) run trains in its own subprocess (so its peak memory is its
own), samples as many windows as the real set, and scores them with the
discriminative and predictive scores over ``--reps`` scoring repeats (the released
TimeGAN code averages 10: ``--metric_iteration 10``). ``--param key=value`` sets a
model parameter in every run; ``--save-runs DIR`` keeps each fitted run
(``tsgan.load``) so it can be sampled and rescored later.

    python bench/reproduce.py --budget quick                 # minutes per run on a CPU
    python bench/reproduce.py --budget quick --minutes 4 --models timegan
    python bench/reproduce.py --budget paper --device cuda   # 50,000 steps per phase

Results: printed table + bench/results/reproduce-<budget>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STOCKS = HERE.parent.parent / "shared" / "data" / "stock_data.csv"

PUBLISHED = {  # PROTOCOL.md, sequence length 24: (disc, pred) means
    ("timegan", "sines"): (".011 ± .008", ".093 ± .019"),
    ("timegan", "stocks"): (".102 ± .021", ".038 ± .001"),
    ("rcgan", "sines"): (".022 ± .008", ".097 ± .001"),
    ("rcgan", "stocks"): (".196 ± .027", ".040 ± .001"),
    ("crnngan", "sines"): (".229 ± .040", ".127 ± .004"),
    ("crnngan", "stocks"): (".399 ± .028", ".038 ± .000"),
    ("real", "sines"): ("", ".094 ± .001"),
    ("real", "stocks"): ("", ".036 ± .001"),
}

# steps are all phases together (TimeGAN has three equal phases)
BUDGETS = {
    # quick: what about 10-15 minutes of one CPU thread buys per model; RCGAN stays at
    # 3,000 steps: on Sines it scored worse at length (disc .157 at 3,000, .312 at 10,000,
    # .288 at 20,000, .189 at 50,000), on Stocks better at 10,000 (.371 vs .490)
    "quick": {"timegan": 15_000, "rcgan": 3000, "crnngan": 3000},
    "paper": {"timegan": 150_000, "rcgan": 50_000, "crnngan": 50_000},
}


def load_real(dataset: str):
    """The training frame, the PROTOCOL's real windows, and the map from original
    units to the scoring space (identity for Sines, the whole-file min-max for Stocks)."""
    import pandas as pd

    from tsgan.data import MinMaxScaler, sines, sines_array

    if dataset == "sines":
        return sines(), sines_array(), (lambda x: x), {"id_column": "sequence_id", "time_column": "step"}
    if not STOCKS.exists():
        raise SystemExit(f"skip: {STOCKS} not found")
    df = pd.read_csv(STOCKS)
    scaler = MinMaxScaler().fit(df.to_numpy())
    return df, protocol_windows(scaler.transform(df.to_numpy()).astype(np.float32)), scaler.transform, {}


def protocol_windows(x: np.ndarray, seq_len: int = 24) -> np.ndarray:
    """PROTOCOL's Stocks windows of rows ``x``: len - 24 of them, as the paper's code,
    in the benchmark's fixed shuffled order."""
    windows = np.stack([x[i : i + seq_len] for i in range(len(x) - seq_len)])
    return windows[np.random.default_rng(0).permutation(len(windows))]


def run_one(model: str, dataset: str, steps: int, minutes: float | None, reps: int, device: str, seed: int, precision: str = "32",
            params: dict | None = None, save_dir: Path | None = None, select_every: int | None = None,
            ema: float | None = None, lr_decay: float | None = None) -> dict:
    import torch

    import tsgan
    from tsgan.metrics import discriminative_score, predictive_score

    frame, real, to_score_space, roles = load_real(dataset)
    row = {"model": model, "dataset": dataset, "seed": seed, "precision": precision, **({"params": params} if params else {})}
    if model == "real":
        synth = real
        row.update(steps=0, train_seconds=0.0, samples_per_second=None)
    else:
        syn = tsgan.Synthesizer(  # PROTOCOL: all data
            model=model, recipe="paper", seq_len=24, seed=seed, steps=steps, max_minutes=minutes, device=device, holdout=0, precision=precision,
            **{k: v for k, v in (("select_every", select_every), ("ema", ema), ("lr_decay", lr_decay)) if v}, **(params or {}),
        )
        syn.fit(frame, **roles)
        if save_dir is not None:  # the fitted run, to sample and rescore later (tsgan.load)
            syn.save(save_dir / f"{model}-{dataset}-seed{seed}", force=True)
        t = time.perf_counter()
        synth = syn.sample_array(len(real), seed=seed)  # original units, like the paper's renormalised output
        sample_s = time.perf_counter() - t
        synth = to_score_space(synth).astype(np.float32)
        row.update(
            steps=syn.train_info_["steps"],
            stopped=syn.train_info_["stopped"],
            train_seconds=syn.train_info_["seconds"],
            samples_per_second=round(len(real) / sample_s),
            # each loss over its last 100 logged values (a phase's or a paused update's loss stops being logged)
            final_losses={k: round(float(c.dropna().tail(100).mean()), 4) for k, c in syn.history_.filter(like="/loss").items() if c.notna().any()},
            **{k: syn.train_info_[k] for k in ("selection", "ema") if k in syn.train_info_},
        )
    disc = [discriminative_score(real, synth, seed=seed + r) for r in range(reps)] if model != "real" else []
    pred = [predictive_score(real, synth, seed=seed + r) for r in range(reps)]
    row.update(
        disc=disc, pred=pred,
        disc_mean=float(np.mean(disc)) if disc else None, disc_std=float(np.std(disc)) if disc else None,
        pred_mean=float(np.mean(pred)), pred_std=float(np.std(pred)),
        peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        device=str(device if device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")),
        threads=torch.get_num_threads(),
    )
    return row


def fmt(mean, std):
    return "" if mean is None else f"{mean:.3f} ± {std:.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", choices=list(BUDGETS), default="quick")
    p.add_argument("--models", nargs="+", default=["timegan", "rcgan", "crnngan"])
    p.add_argument("--datasets", nargs="+", default=["sines", "stocks"])
    p.add_argument("--steps", type=int, default=None, help="override the budget's training steps (all models)")
    p.add_argument("--minutes", type=float, default=None, help="wall-clock cap per training run (quick default: 20)")
    p.add_argument("--reps", type=int, default=3, help="scoring repeats")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch threads per run")
    p.add_argument("--precision", default="32", help="training precision: 32 or bf16 (mixed)")
    p.add_argument("--param", action="append", default=[], help="model parameter key=value for every model run (repeatable)")
    p.add_argument("--no-real", action="store_true", help="skip the 'original data' predictive baseline")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--save-runs", type=Path, default=None, help="save each fitted run under this folder (tsgan.load)")
    p.add_argument("--select-every", type=int, default=None,
                   help="score the generator every N steps of its last phase and keep the best checkpoint (tsgan.training.selection)")
    p.add_argument("--ema", type=float, default=None, help="sample from a moving average of the last phase's weights (tsgan.training.averaging)")
    p.add_argument("--lr-decay", type=float, default=None, help="decay every learning rate linearly over this share of the last phase")
    p.add_argument("--single", nargs=3, metavar=("MODEL", "DATASET", "STEPS"), help=argparse.SUPPRESS)
    a = p.parse_args()

    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    if a.single:
        from tsgan.config import parse_key_values

        model, dataset, steps = a.single
        params = parse_key_values(a.param)
        print(json.dumps(run_one(model, dataset, int(steps), a.minutes, a.reps, a.device, a.seed, a.precision, params, a.save_runs,
                                 a.select_every, a.ema, a.lr_decay)))
        return

    minutes = a.minutes if a.minutes is not None else (20.0 if a.budget == "quick" else None)
    out = a.out or HERE / "results" / f"reproduce-{a.budget}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    runs = [(m, d) for d in a.datasets for m in (a.models + ([] if a.no_real else ["real"]))]
    rows = []
    for model, dataset in runs:
        steps = a.steps if a.steps is not None else BUDGETS[a.budget].get(model, 0)
        cmd = [sys.executable, __file__, "--single", model, dataset, str(steps), "--reps", str(a.reps),
               "--device", a.device, "--seed", str(a.seed), "--precision", a.precision]
        if minutes:
            cmd += ["--minutes", str(minutes)]
        if a.threads:
            cmd += ["--threads", str(a.threads)]
        cmd += [f"--param={kv}" for kv in a.param]
        if a.save_runs:
            cmd += ["--save-runs", str(a.save_runs)]
        if a.select_every:
            cmd += ["--select-every", str(a.select_every)]
        if a.ema:
            cmd += ["--ema", str(a.ema)]
        if a.lr_decay:
            cmd += ["--lr-decay", str(a.lr_decay)]
        print(f"running {model} on {dataset} ...", file=sys.stderr, flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"{model}/{dataset} failed", file=sys.stderr)
            continue
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
        out.write_text(json.dumps({"budget": a.budget, "minutes_cap": minutes, "machine": machine(), "command": " ".join(sys.argv), "rows": rows}, indent=2))

    header = f"{'model':9} {'data':7} {'disc':>15} {'paper disc':>13} {'pred':>15} {'paper pred':>13} {'steps':>7} {'train s':>8} {'samples/s':>10} {'peak MiB':>9}"
    print(header)
    for r in rows:
        pub = PUBLISHED.get((r["model"], r["dataset"]), ("", ""))
        print(
            f"{r['model']:9} {r['dataset']:7} {fmt(r['disc_mean'], r['disc_std']):>15} {pub[0]:>13} "
            f"{fmt(r['pred_mean'], r['pred_std']):>15} {pub[1]:>13} {r['steps']:>7} {r['train_seconds']:>8.0f} "
            f"{r['samples_per_second'] or '':>10} {r['peak_rss_mib']:>9}"
        )
    print(f"machine: {machine()}; seed {a.seed}; results in {out}")


def machine() -> str:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.machine()}, {os.cpu_count()} cores, {gpu}, torch {torch.__version__}"


if __name__ == "__main__":
    main()
