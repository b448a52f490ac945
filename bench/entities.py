"""tsgan's sequence models on entity tables under a time budget (#35), scored like the peers.

    python bench/stays.py --entities 2000 --out /tmp/stays.csv
    python bench/entities.py --data /tmp/stays.csv --id stay_id --time ts --model timegan --minutes 15 --threads 1
    python bench/entities.py --data travel-modes --id traveller --model rcgan --minutes 15 --threads 1

Fits with ``max_minutes`` (the clock includes the probe), samples as many entities as
the real table has, scores them with :func:`tsgan.metrics.entities.entity_scores`
against the whole real table and prints them beside the independent-marginals
baseline; writes ``bench/results/entities-<name>.json`` and the synthetic table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

import tsgan
from tsgan.data.kinds import Roles, load_data
from tsgan.metrics.entities import entity_scores, independent_marginals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--time", default=None)
    ap.add_argument("--model", default="timegan")
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default=None)
    ap.add_argument("--out", default=None, help="where to write the synthetic table (default /tmp/entities-<name>.csv)")
    args = ap.parse_args()
    name = args.name or f"{Path(args.data).stem}-{args.model}-{args.minutes:g}min"
    real = load_data(args.data, Roles(args.time, args.id))[0]
    t = time.perf_counter()
    syn = tsgan.Synthesizer(model=args.model, max_minutes=args.minutes, threads=args.threads, seed=args.seed)
    syn.fit(args.data, id_column=args.id, time_column=args.time)
    fit_seconds = time.perf_counter() - t
    t = time.perf_counter()
    synth = syn.sample(int(real[args.id].nunique()), seed=args.seed)
    sample_seconds = time.perf_counter() - t
    out = Path(args.out or f"/tmp/entities-{name}.csv")
    synth.to_csv(out, index=False)
    naive = independent_marginals(real, int(real[args.id].nunique()), args.id, args.time, seed=args.seed + 1)
    result = {
        "model": args.model, "data": args.data, "minutes": args.minutes, "threads": args.threads, "seed": args.seed,
        "steps": syn.train_info_["steps"], "stopped": syn.train_info_["stopped"], "fit_seconds": round(fit_seconds, 1),
        "sample_seconds": round(sample_seconds, 1), "synthetic_file": str(out),
        "synthetic": entity_scores(real, synth, args.id, args.time, seed=args.seed),
        "independent_marginals": entity_scores(real, naive, args.id, args.time, seed=args.seed),
    }
    text = json.dumps(result, indent=2, default=float)
    print(text)
    (Path(__file__).resolve().parent / "results" / f"entities-{name}.json").write_text(text)


if __name__ == "__main__":
    main()
