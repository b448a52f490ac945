"""Peak memory of `tsgan fit` on a large file (#37): 10 million rows x 10 columns.

    python bench/large_data.py --rows 10000000 --format parquet
    python bench/large_data.py --rows 10000000 --format csv

Writes ``/tmp/large-<rows>.<format>`` (10 random-walk columns and a time index; made
once), then runs ``tsgan fit FILE --model rcgan --steps 20 --holdout 0`` in a child
process and reports its peak resident memory (``ru_maxrss`` of the child), the seconds
it took and what the file weighs. Results go to bench/results/large-<rows>-<format>.json.
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


def make(rows: int, fmt: str) -> Path:
    path = Path(f"/tmp/large-{rows}.{fmt}")
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    cols = {f"x{i}": np.cumsum(rng.normal(size=rows)).astype(np.float64) for i in range(10)}
    df = pd.DataFrame({"t": np.arange(rows), **cols})
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, float_format="%.5f")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    path = make(args.rows, args.format)
    out = Path("/tmp/large-run")
    t = time.perf_counter()
    proc = subprocess.run(["tsgan", "fit", str(path), "--model", "rcgan", "--steps", str(args.steps), "--holdout", "0", "--out", str(out),
                           "--force", "-q", "--threads", "2"], capture_output=True, text=True)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {"rows": args.rows, "columns": 10, "format": args.format, "file_mb": round(path.stat().st_size / 2**20),
              "returncode": proc.returncode, "seconds": round(seconds, 1), "peak_rss_mb": round(peak),
              "tail": (proc.stdout + proc.stderr).strip().splitlines()[-3:]}
    text = json.dumps(result, indent=1)
    print(text)
    (Path(__file__).resolve().parent / "results" / f"large-{args.rows}-{args.format}.json").write_text(text)


if __name__ == "__main__":
    main()
