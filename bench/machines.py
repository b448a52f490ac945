"""A long-sequence entity table with known truths, for the DoppelGANger benchmark (#36).

    python bench/machines.py --entities 300 --out /tmp/machines.csv

One row per hourly reading of a machine: ``machine_id`` (``m-100``, ...), ``ts``
(datetimes, hourly with outages), static ``model`` (A / B / C) and ``site``, temporal
``state`` (run / idle / fault), ``temp``, ``load`` and ``vibration``. True by
construction:

* **long and of different lengths**: 500-700 readings (model C: 600-800);
* **a daily cycle**: ``temp`` = 40 (A) / 50 (B) / 60 (C) + 6 sin(2 pi hour / 24) +
  AR(1) noise (0.9), so its autocorrelation peaks again at lag 24;
* **states**: a Markov chain, run -> idle 2 % per hour, idle -> run 10 %, run ->
  fault 0.3 % (0.9 % for model C), fault -> idle 20 %;
* **load by state**: about 70 (run), 5 (idle), 30 (fault), on a weekly cycle while running;
* **missingness by state**: ``vibration`` is missing while idle (the sensor is off)
  and 5 % of other hours; it is 3x higher in fault;
* **gaps**: 1 hour, except 3 % outages of 2-6 hours.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

BASE_TEMP = {"A": 40.0, "B": 50.0, "C": 60.0}
MOVES = {"run": {"idle": 0.02, "fault": 0.003}, "idle": {"run": 0.10}, "fault": {"idle": 0.20}}


def machines(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n):
        model = rng.choice(["A", "B", "C"])
        site = rng.choice(["north", "south"], p=[0.6, 0.4])
        length = int(rng.integers(600, 801) if model == "C" else rng.integers(500, 701))
        gaps = np.where(rng.random(length) < 0.03, rng.integers(2, 7, length), 1)
        gaps[0] = 0
        hours = np.cumsum(gaps)
        t0 = pd.Timestamp("2025-01-01") + pd.Timedelta(hours=int(rng.integers(0, 24 * 60)))
        state, states = "run", []
        for _ in range(length):
            states.append(state)
            moves = dict(MOVES[state])
            if state == "run" and model == "C":
                moves["fault"] = 0.009
            u, acc = rng.random(), 0.0
            for nxt, p in moves.items():
                acc += p
                if u < acc:
                    state = nxt
                    break
        states = np.array(states)
        clock = (t0.hour + hours) % 24
        noise = np.zeros(length)
        for i in range(1, length):
            noise[i] = 0.9 * noise[i - 1] + rng.normal(0, 1.0)
        temp = BASE_TEMP[model] + 6 * np.sin(2 * np.pi * clock / 24) + noise
        week = 10 * np.sin(2 * np.pi * ((t0.day_of_week * 24 + hours) % 168) / 168)
        load = np.select([states == "run", states == "idle"], [70 + week, 5.0], 30.0) + rng.normal(0, 4, length)
        vib = rng.gamma(4.0, 0.5, length) * np.where(states == "fault", 3.0, 1.0)
        vib[(states == "idle") | (rng.random(length) < 0.05)] = np.nan
        parts.append(pd.DataFrame({
            "machine_id": f"m-{100 + k}", "ts": t0 + pd.to_timedelta(hours, unit="h"), "model": model, "site": site,
            "state": states, "temp": np.round(temp, 2), "load": np.round(np.clip(load, 0, 100), 1), "vibration": np.round(vib, 3)}))
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    df = machines(args.entities, args.seed)
    df.to_csv(args.out, index=False)
    print(f"{args.out}: {df['machine_id'].nunique()} machines, {len(df):,} rows, "
          f"{df.groupby('machine_id').size().min()}-{df.groupby('machine_id').size().max()} readings")


if __name__ == "__main__":
    main()
