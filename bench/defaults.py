"""Defaults users can trust: `tsgan fit DATA --max-minutes 10` with no tuning flags,
against the same with the defaults of tsgan 0.1 (RCGAN, the paper's settings, 1,000
steps), on three real datasets that ship inside a pip package (aeon 1.6.0's bundled
data, read straight from its wheel; not Sines or Stocks):

* ``basicmotions``: UEA BasicMotions, a smart watch's 3-D accelerometer and gyroscope
  (6 channels) over 80 recordings of 100 steps (train and test sets together), a panel;
* ``daphnet``: Daphnet freezing-of-gait, subject 6 run 2: 9 body-worn accelerometer
  channels, 7,040 rows at 64 Hz, one series (the anomaly label dropped);
* ``uschange``: quarterly US consumption, income, production, savings and
  unemployment changes, 1970-2016 (187 x 5), one series.

Each repeat's score is the protocol's; ``disc_checked_mean`` reads a classifier that
separated the samples and then collapsed as .5 (tsgan.metrics.discriminative_check).
An arm named after a model (e.g. ``timegan``) runs the current code with ``--model``.
The new arm runs the current code (``--max-minutes 10`` alone: the tuned recipe, steps
fitted to the clock); the old arm runs tsgan 0.1 from a git worktree at ``--old-ref``
(default e827cf9) with its defaults. Both are scored by the current code: the
discriminative score (|accuracy - .5| of a post-hoc GRU classifier, 2,000 iterations)
over ``--reps`` repeats on as many samples as real windows, all in the real data's
min-max space.

    pip download aeon==1.6.0 --no-deps -d /tmp/wheels
    python bench/defaults.py --wheel /tmp/wheels/aeon-1.6.0-py3-none-any.whl --datasets basicmotions --arms new,old
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROLES = {"basicmotions": {"id_column": "recording", "time_column": "t"}, "daphnet": {}, "uschange": {"time_column": "Quarter"}}  # the data's own roles


def flags(roles: dict) -> list[str]:
    return [f for k, v in roles.items() for f in (f"--{k.replace('_', '-')}", v)]


def read_ts(text: str) -> list[np.ndarray]:
    """The series of a .ts file (sktime/aeon format): ``(channels, length)`` per case."""
    out, body = [], False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower().startswith("@data"):
            body = True
            continue
        if body:
            *channels, _label = line.split(":")
            out.append(np.array([[float(v) for v in c.split(",")] for c in channels]))
    return out


def prepare(wheel: Path, folder: Path) -> dict[str, Path]:
    """The three datasets as CSVs in ``folder``, read from aeon's wheel."""
    folder.mkdir(parents=True, exist_ok=True)
    z = zipfile.ZipFile(wheel)
    data = "aeon/datasets/data/"
    cases = []
    for part in ("TRAIN", "TEST"):
        cases += read_ts(z.read(f"{data}BasicMotions/BasicMotions_{part}.ts").decode())
    names = ["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]
    motions = pd.concat([pd.DataFrame({"recording": i, "t": np.arange(c.shape[1]), **dict(zip(names, c))}) for i, c in enumerate(cases)])
    daphnet = pd.read_csv(z.open(f"{data}Daphnet_S06R02E0/S06R02E0.csv")).drop(columns="is_anomaly")
    us = pd.read_csv(z.open(f"{data}Uschange/Uschange.csv"), index_col=0)
    us["Quarter"] = pd.PeriodIndex(us["Quarter"].str.replace(" ", "-"), freq="Q").to_timestamp()
    paths = {}
    for name, frame in (("basicmotions", motions), ("daphnet", daphnet), ("uschange", us)):
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


def fit_old(ref_dir: Path, data: Path, run: Path, minutes: float, roles: dict) -> None:
    """tsgan 0.1's `tsgan fit DATA --max-minutes M` (its defaults: rcgan, 1,000 steps)."""
    code = (f"import tsgan, sys; assert tsgan.__file__.startswith({str(ref_dir)!r}), tsgan.__file__; "
            f"s = tsgan.Synthesizer(max_minutes={minutes}); s.fit({str(data)!r}, **{roles!r}); s.save({str(run)!r})")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(ref_dir)}, cwd=ref_dir)


def fit_new(data: Path, run: Path, minutes: float, roles: dict, model: str | None = None) -> None:
    """`tsgan fit DATA --max-minutes M` with this checkout (``model``: with `--model`)."""
    chosen = [] if model is None else ["--model", model]
    subprocess.run([sys.executable, "-m", "tsgan_cli.main", "fit", str(data), "--max-minutes", str(minutes), "--out", str(run), "-q",
                    *chosen, *flags(roles)], check=True)


def score(data: Path, run: Path, reps: int, roles: dict) -> dict:
    import tsgan
    from tsgan.evaluate import load_pair
    from tsgan.metrics.scores import _discriminate

    real, synth, _, _ = load_pair(data, run, **roles)
    n = min(len(real), 10_000)
    rng = np.random.default_rng(0)
    real = real[np.sort(rng.permutation(len(real))[:n])]
    runs = [_discriminate(real, synth[:n], 2000, 128, r) for r in range(reps)]
    scores = [s for s, _ in runs]
    # the protocol's score, and the same with a classifier that separated and then collapsed read as .5
    checked = [0.5 if c else s for s, c in runs]
    info = tsgan.load(run).train_info_
    return {"disc_mean": float(np.mean(scores)), "disc_std": float(np.std(scores)), "disc": scores,
            "disc_checked_mean": float(np.mean(checked)), "collapsed": [c for _, c in runs], "windows": int(len(real)),
            "steps": info["steps"], "planned_steps": info.get("planned_steps"), "train_seconds": info["seconds"],
            "stopped": info["stopped"], "recipe": info.get("recipe"), "clock_fit": info.get("clock_fit")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, required=True, help="aeon's wheel (pip download aeon==1.6.0 --no-deps -d DIR)")
    ap.add_argument("--datasets", default="basicmotions,daphnet,uschange")
    ap.add_argument("--arms", default="new,old")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--old-ref", default="e827cf9")
    ap.add_argument("--work", type=Path, default=Path("/tmp/tsgan-defaults"))
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    if a.threads:
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
        import torch

        torch.set_num_threads(a.threads)
    paths = prepare(a.wheel, a.work / "data")
    old_dir = a.work / f"tsgan-{a.old_ref}"
    if "old" in a.arms and not old_dir.exists():
        subprocess.run(["git", "-C", str(HERE.parent), "worktree", "add", "--detach", str(old_dir), a.old_ref], check=True)
    for name in a.datasets.split(","):
        out = HERE / "results" / f"defaults-{name}.json"
        result = json.loads(out.read_text()) if out.exists() else {}
        for arm in a.arms.split(","):
            run = a.work / "runs" / f"{name}-{arm}"
            subprocess.run(["rm", "-rf", str(run)], check=True)
            t = time.perf_counter()
            if arm == "old":
                fit_old(old_dir, paths[name], run, a.minutes, ROLES[name])
            else:  # "new": the default model; any other arm names a model
                fit_new(paths[name], run, a.minutes, ROLES[name], None if arm == "new" else arm)
            wall = time.perf_counter() - t
            result[arm] = {**score(paths[name], run, a.reps, ROLES[name]), "fit_wall_seconds": round(wall, 1),
                           "command": " ".join(sys.argv), "threads": a.threads}
            print(name, arm, {k: result[arm][k] for k in ("disc_mean", "disc_std", "disc_checked_mean", "steps", "train_seconds", "fit_wall_seconds")}, flush=True)
            out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
