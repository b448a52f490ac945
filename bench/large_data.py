"""Peak memory and seconds per step of `tsgan fit` on a large panel (#37).

    python bench/large_data.py --rows 10000000 --format parquet
    python bench/large_data.py --rows 100000 --format parquet
    python bench/large_data.py --rows 10000000 --format csv

Writes ``/tmp/large-<rows>.<format>`` once: an ``id`` column (entities of ``--per-entity``
rows, 1,000 by default: 10,000 entities in 10 million rows, 100 in 100,000), a per-entity
step ``t`` and 10 random-walk columns. Then runs ``tsgan fit FILE --id-column id
--time-column t --seq-len 24 --model rcgan --steps N --holdout 0`` in a child process
(two threads) and reports its peak resident memory (``ru_maxrss`` of the child), the
training seconds per step (from the run's tsgan.json), the windows it trains on and what
they would weigh as copies (the loop samples them as indices into one float32 array of the
rows). Results go to bench/results/large-<rows>-<format>.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make(rows: int, fmt: str, per_entity: int) -> Path:
    path = Path(f"/tmp/large-{rows}.{fmt}")
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    ids = np.arange(rows) // per_entity
    t = np.arange(rows) % per_entity
    cols = {f"x{i}": np.cumsum(rng.normal(size=rows)).astype(np.float64) for i in range(10)}
    df = pd.DataFrame({"id": [f"e{i}" for i in ids] if rows <= 200_000 else pd.Categorical.from_codes(ids, [f"e{i}" for i in range(ids.max() + 1)]),
                       "t": t, **cols})
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, float_format="%.5f")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--per-entity", type=int, default=1000)
    ap.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    path = make(args.rows, args.format, args.per_entity)
    out = Path(f"/tmp/large-run-{args.rows}")
    t = time.perf_counter()
    proc = subprocess.run(["tsgan", "fit", str(path), "--id-column", "id", "--time-column", "t", "--seq-len", "24", "--model", "rcgan",
                           "--steps", str(args.steps), "--holdout", "0", "--out", str(out), "--force", "-q", "--threads", "2"],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    meta = json.loads((out / "tsgan.json").read_text()) if proc.returncode == 0 else {}
    train = meta.get("train", {})
    entities = args.rows // args.per_entity
    windows = entities * (args.per_entity - 24 + 1)
    result = {"rows": args.rows, "columns": 10, "entities": entities, "format": args.format,
              "file_mb": round(path.stat().st_size / 2**20), "returncode": proc.returncode, "seconds": round(seconds, 1),
              "train_seconds_per_step": round(train["seconds"] / train["steps"], 4) if train.get("steps") else None,
              "peak_rss_mb": round(peak), "base_float32_mb": round(args.rows * 10 * 4 / 2**20),
              "windows": windows, "windows_as_copies_mb": round(windows * 24 * 10 * 4 / 2**20),
              "tail": (proc.stdout + proc.stderr).strip().splitlines()[-3:]}
    text = json.dumps(result, indent=1)
    print(text)
    (Path(__file__).resolve().parent / "results" / f"large-{args.rows}-{args.format}.json").write_text(text)


if __name__ == "__main__":
    main()
