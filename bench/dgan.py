"""tsgan's DoppelGANger beside gretel-synthetics' DGAN (#36): speed, memory, quality.

Same data, same batch size (100), same epochs, same ``sample_len``, one thread each:

    python bench/stays.py --entities 2000 --out /tmp/stays.csv
    python bench/machines.py --entities 300 --out /tmp/machines.csv
    python bench/dgan.py tsgan  --data /tmp/stays.csv --id stay_id --time ts --epochs 340 --out /tmp/dg-stays.csv
    /tmp/gretel/bin/python bench/dgan.py gretel --data /tmp/stays.csv --id stay_id --time ts --epochs 340 --out /tmp/gr-stays.csv
    python bench/peers_entities.py score --real /tmp/stays.csv --synth /tmp/dg-stays.csv --name dgan-tsgan-stays
    python bench/dgan.py conditional --data /tmp/stays.csv --id stay_id --time ts --run /tmp/dg-run --attribute admission
    python bench/dgan.py speed --data /tmp/stays.csv --id stay_id --time ts --epochs 40 --sample-len 1 --repeats 3 --out /tmp/speed

(``/tmp/gretel``: see bench/peers_entities.py.) Each run prints one JSON line: seconds
per training step (the full fit less a 2-epoch fit, after a warm-up one, so fixed
preprocessing cancels; ``probe_seconds_per_step`` from 2- and 6-epoch fits), seconds per 1,000 sampled entities (written as a DataFrame), the process's
peak resident memory, then the full fit's figures.

gretel's DGAN takes fixed-length examples only, and refuses continuous features more
than half missing: for it every entity is padded to the longest (its last row
repeated, the times going on at its median gap) and missing values are filled within
the entity, then by the median. tsgan reads the table as it is (its holdout is off
here, so both learn from every entity).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time

import numpy as np
import pandas as pd


def roles(df: pd.DataFrame, id_col: str, time_col: str) -> tuple[list[str], list[str], list[str]]:
    """Static columns, temporal columns and the label (discrete) columns among them."""
    others = [c for c in df.columns if c not in (id_col, time_col)]
    static = [c for c in others if (df.groupby(id_col)[c].nunique(dropna=False) <= 1).all()]
    temporal = [c for c in others if c not in static]
    discrete = [c for c in others if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])]
    return static, temporal, discrete


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fit, epochs: int, per_epoch: int):
    """``fit(epochs) -> (model, seconds)`` timed: a warm-up fit, 2- and 6-epoch probes,
    then the full fit. Returns the model, its seconds, seconds per step (the full fit
    less the 2-epoch one) and the probes' seconds per step."""
    fit(1)  # warm-up (first calls, allocator)
    _, two = fit(2)
    _, six = fit(6)
    probe = (six - two) / (4 * per_epoch)
    model, seconds = fit(epochs)
    step = (seconds - two) / ((epochs - 2) * per_epoch) if epochs > 6 else probe
    return model, seconds, step, probe


def run_tsgan(args) -> None:
    import torch

    import tsgan

    torch.set_num_threads(1)
    df = pd.read_csv(args.data)
    n = df[args.id].nunique()
    per_epoch = math.ceil(n / args.batch_size)

    def fit(epochs: int, seed: int = 0):
        syn = tsgan.Synthesizer("doppelganger", steps=epochs * per_epoch, batch_size=args.batch_size, holdout=0, threads=1,
                                seed=seed, sample_len=args.sample_len)
        t = time.perf_counter()
        syn.fit(df, id_column=args.id, time_column=args.time)
        return syn, time.perf_counter() - t

    syn, fit_seconds, step, probe = timed(fit, args.epochs, per_epoch)
    t = time.perf_counter()
    syn.sample_frame(1000, seed=1)
    per_1000 = time.perf_counter() - t
    out = syn.sample_frame(n, seed=0)
    out.to_csv(args.out, index=False)
    if args.save:
        syn.save(args.save, force=True)
    print(json.dumps({"tool": "tsgan doppelganger", "entities": n, "epochs": args.epochs, "steps": args.epochs * per_epoch,
                      "sample_len": syn.module_.sample_len, "seconds_per_step": round(step, 4), "probe_seconds_per_step": round(probe, 4),
                      "seconds_per_1000_entities": round(per_1000, 2), "fit_seconds": round(fit_seconds, 1),
                      "peak_mb": round(_peak_mb()), "rows": len(out)}))


def run_conditional(args) -> None:
    """For each value of ``--attribute``: 600 entities sampled with it; the share that
    carry it and, per group, the mean length and the mean of each numeric temporal
    column beside the real per-group means (relative gap)."""
    import tsgan

    df = pd.read_csv(args.data)
    syn = tsgan.load(args.run)
    static, temporal, discrete = roles(df, args.id, args.time)
    numeric = [c for c in temporal if c not in discrete]
    rows = {}
    for value in sorted(df[args.attribute].dropna().unique()):
        out = syn.sample_frame(600, seed=1, condition={args.attribute: value})
        real = df[df[args.attribute] == value]
        share = float((out.groupby(args.id)[args.attribute].first() == value).mean())
        figures = {"length": (out.groupby(args.id).size().mean(), real.groupby(args.id).size().mean())}
        figures.update({c: (out[c].mean(), real[c].mean()) for c in numeric})
        rows[str(value)] = {"share_carrying": share, **{k: {"synthetic": round(float(a), 3), "real": round(float(b), 3),
                                                            "gap": round(float(abs(a - b) / abs(b)), 3)} for k, (a, b) in figures.items()}}
    print(json.dumps({"attribute": args.attribute, "groups": rows}, indent=1))


def gretel_frame(df: pd.DataFrame, id_col: str, time_col: str, temporal: list[str], discrete: list[str], length: int) -> pd.DataFrame:
    """Every entity padded to ``length`` rows, missing values filled, labels as text."""
    df = df.assign(**{time_col: pd.to_datetime(df[time_col])}).sort_values([id_col, time_col], kind="stable")
    parts = []
    for _, g in df.groupby(id_col, sort=False):
        extra = length - len(g)
        if extra:
            gap = g[time_col].diff().median() if len(g) > 1 else pd.Timedelta(hours=1)
            pad = pd.concat([g.iloc[[-1]]] * extra, ignore_index=True)
            pad[time_col] = g[time_col].iloc[-1] + gap * np.arange(1, extra + 1)
            g = pd.concat([g, pad], ignore_index=True)
        parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    for c in discrete:
        out[c] = out[c].astype(str)
    for c in temporal:
        if c not in discrete:
            out[c] = out.groupby(id_col)[c].transform(lambda v: v.ffill().bfill()).fillna(out[c].median())
    return out


def run_gretel(args) -> None:
    import torch
    from gretel_synthetics.timeseries_dgan.config import DGANConfig
    from gretel_synthetics.timeseries_dgan.dgan import DGAN

    torch.set_num_threads(1)
    np.random.seed(0)
    torch.manual_seed(0)
    df = pd.read_csv(args.data)
    n = df[args.id].nunique()
    static, temporal, discrete = roles(df, args.id, args.time)
    longest = int(df.groupby(args.id).size().max())
    sample_len = args.sample_len or max(1, math.ceil(longest / 50))  # tsgan's default choice
    length = math.ceil(longest / sample_len) * sample_len
    padded = gretel_frame(df, args.id, args.time, temporal, discrete, length)
    per_epoch = math.ceil(n / args.batch_size)

    def fit(epochs: int):
        t = time.perf_counter()
        model = DGAN(DGANConfig(max_sequence_len=length, sample_len=sample_len, batch_size=args.batch_size, epochs=epochs, cuda=False))
        model.train_dataframe(padded, attribute_columns=static, feature_columns=temporal, example_id_column=args.id,
                              time_column=args.time, discrete_columns=discrete, df_style="long")
        return model, time.perf_counter() - t

    model, fit_seconds, step, probe = timed(fit, args.epochs, per_epoch)
    t = time.perf_counter()
    model.generate_dataframe(1000)
    per_1000 = time.perf_counter() - t
    out = model.generate_dataframe(n)
    for c in discrete:
        if pd.api.types.is_bool_dtype(df[c]):
            out[c] = out[c].astype(str) == "True"
    out.to_csv(args.out, index=False)
    print(json.dumps({"tool": "gretel DGAN", "entities": n, "epochs": args.epochs, "steps": args.epochs * per_epoch,
                      "sample_len": sample_len, "padded_to": length, "seconds_per_step": round(step, 4), "probe_seconds_per_step": round(probe, 4),
                      "seconds_per_1000_entities": round(per_1000, 2), "fit_seconds": round(fit_seconds, 1),
                      "peak_mb": round(_peak_mb()), "rows": len(out)}))


def run_speed(args) -> None:
    """tsgan and gretel alternately, each alone on the machine (one thread), ``--repeats``
    times: the median seconds per step and per 1,000 sampled entities of each, and
    their ratios. (Two runs side by side share the memory bus, and the one that ends
    first leaves the other alone for its last minutes: alone and alternating is the
    fairer clock on a 2-core machine.)"""
    import statistics
    import subprocess
    import sys

    runs: dict[str, list[dict]] = {"tsgan": [], "gretel": []}
    for i in range(args.repeats):
        for tool, python in (("tsgan", sys.executable), ("gretel", args.gretel_python)):
            cmd = [python, __file__, tool, "--data", args.data, "--id", args.id, "--time", args.time, "--epochs", str(args.epochs),
                   "--batch-size", str(args.batch_size), "--sample-len", str(args.sample_len), "--out", f"{args.out}-{tool}-{i}.csv"]
            line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            runs[tool].append(json.loads(line))
            print(line, flush=True)
    med = {tool: {k: statistics.median(r[k] for r in rs) for k in ("seconds_per_step", "seconds_per_1000_entities", "peak_mb")}
           for tool, rs in runs.items()}
    print(json.dumps({"data": args.data, "epochs": args.epochs, "repeats": args.repeats, "median": med,
                      "ratio_step": round(med["tsgan"]["seconds_per_step"] / med["gretel"]["seconds_per_step"], 3),
                      "ratio_sampling": round(med["tsgan"]["seconds_per_1000_entities"] / med["gretel"]["seconds_per_1000_entities"], 3),
                      "each_step": {t: [r["seconds_per_step"] for r in rs] for t, rs in runs.items()}}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tool", choices=("tsgan", "gretel", "conditional", "speed"))
    ap.add_argument("--data", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--time", required=True)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--sample-len", type=int, default=0, help="0: tsgan's choice, at most 50 RNN steps")
    ap.add_argument("--out", help="the synthetic table (tsgan, gretel)")
    ap.add_argument("--save", help="tsgan: save the run here")
    ap.add_argument("--run", help="conditional: a saved tsgan run")
    ap.add_argument("--attribute", help="conditional: a static label column")
    ap.add_argument("--repeats", type=int, default=3, help="speed: runs of each tool, alternating")
    ap.add_argument("--gretel-python", default="/tmp/gretel/bin/python", help="speed: the interpreter of gretel's environment")
    args = ap.parse_args()
    {"tsgan": run_tsgan, "gretel": run_gretel, "conditional": run_conditional, "speed": run_speed}[args.tool](args)


if __name__ == "__main__":
    main()
