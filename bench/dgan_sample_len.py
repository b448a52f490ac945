"""DoppelGANger's ``sample_len`` on long entities: speed and quality (#36).

    python bench/machines.py --entities 300 --out /tmp/machines.csv
    python bench/dgan_sample_len.py --data /tmp/machines.csv --sample-len 8 --minutes 4
    python bench/dgan_sample_len.py --data /tmp/machines.csv --sample-len 16 --minutes 4   # beside the first

One fit of ``--minutes`` on the machines table (one thread, no holdout), then 300
sampled machines scored by ``tsgan.metrics.entities`` (detection AUC, length KS, gap KS,
state transitions, missing rates). Prints one JSON line and writes
bench/results/dgan-sample-len-<S>.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    import tsgan
    from tsgan.metrics.entities import entity_scores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--sample-len", type=int, required=True)
    ap.add_argument("--minutes", type=float, default=4.0)
    args = ap.parse_args()
    real = pd.read_csv(args.data, parse_dates=["ts"])
    syn = tsgan.Synthesizer("doppelganger", max_minutes=args.minutes, holdout=0, threads=1, sample_len=args.sample_len)
    syn.fit(real, id_column="machine_id", time_column="ts")
    t = time.perf_counter()
    synth = syn.sample_frame(real["machine_id"].nunique(), seed=0)
    sample_seconds = time.perf_counter() - t
    s = entity_scores(real, synth, "machine_id", "ts")
    info = syn.train_info_
    result = {"sample_len": args.sample_len, "rnn_steps": syn.module_.rnn_steps, "steps": info["steps"],
              "seconds_per_step": round(info["seconds"] / max(info["steps"], 1), 4), "sample_seconds": round(sample_seconds, 2),
              "detection_auc": s["detection_auc"], "length_ks": s["length_ks"], "gap_ks": s["gap_ks"],
              "state_tv": s["transition_tv"]["state"], "max_missing_rate_diff": s["max_missing_rate_diff"]}
    print(json.dumps(result))
    (Path(__file__).resolve().parent / "results" / f"dgan-sample-len-{args.sample_len}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
