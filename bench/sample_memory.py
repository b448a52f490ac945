"""Peak memory and time of `tsgan sample -n N` on a small run: memory must stay flat in N.

    python bench/sample_memory.py                 # -n 10 and -n 10,000,000, .npy and .csv
    python bench/sample_memory.py --n 1000000 --formats npy

Each command runs in its own process; its peak resident memory is the child's
``ru_maxrss``. The run is an RCGAN fitted for 50 steps on a 400-row series of two
columns with --seq-len 8, so a sample is 16 numbers and 10,000,000 of them are 1.28 GB
as float64.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = "import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)"


def measured(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak MB) of ``cmd`` in a fresh process."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, *cmd], capture_output=True, text=True, check=True)
    return time.perf_counter() - t, int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--formats", default="npy,csv")
    args = ap.parse_args()
    exe = shutil.which("tsgan")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rng = np.random.default_rng(0)
        t = np.arange(400)
        pd.DataFrame({"a": np.sin(t / 5) + rng.normal(0, 0.1, 400), "b": rng.normal(size=400)}).to_csv(tmp / "s.csv", index=False)
        subprocess.run([exe, "fit", str(tmp / "s.csv"), "--model", "rcgan", "--steps", "50", "--seq-len", "8", "--out", str(tmp / "run"),
                        "-q", "-p", "hidden_g=16", "-p", "hidden_d=16"], check=True, capture_output=True)
        rows = []
        for fmt in args.formats.split(","):
            for n in (10, args.n):
                target = tmp / f"s{n}.{fmt}"
                secs, mb = measured([exe, "sample", str(tmp / "run"), "-n", str(n), "--out", str(target)])
                rows.append({"format": fmt, "n": n, "seconds": round(secs, 1), "peak_mb": round(mb), "file_mb": round(target.stat().st_size / 1e6)})
                print(json.dumps(rows[-1]), flush=True)
                target.unlink()


if __name__ == "__main__":
    main()
