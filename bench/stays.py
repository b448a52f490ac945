"""A stays-like entity table with known truths, for the entity-table benchmark (#35).

    python bench/stays.py --entities 2000 --out /tmp/stays.csv
    python bench/stays.py --entities 2000 --out /tmp/stays.csv --baseline   # + the independent-marginals scores

One row per observation of a hospital stay: ``stay_id`` (``stay-1000``, ...), ``ts``
(irregular datetimes), static ``sex``, ``age``, ``admission``, temporal ``ward``,
``hr``, ``sbp``, ``lactate`` and ``vent``. What is true by construction (and what a
generator should learn):

* **length by static group**: emergency stays have 6-30 steps (mean 14), elective 3-12
  (mean 6);
* **forward-only states**: ``ward`` goes ER -> WARD -> ICU, never back; an elective
  stay starts on WARD; a stay changes state at most twice;
* **gap by state**: hours between observations are exponential with mean 0.5 (ER),
  4 (WARD), 1 (ICU);
* **missingness by state**: ``lactate`` is missing 60 % of the time in ER, 85 % on
  WARD, 25 % in ICU; ``sbp`` 20 % everywhere, ``hr`` 5 %;
* **values by state and age**: heart rate is higher in ICU (+15) and rises with age
  (+0.1 per year); ``vent`` (ventilated) is True only in ICU (60 %).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

WARD_GAP_HOURS = {"ER": 0.5, "WARD": 4.0, "ICU": 1.0}
LACTATE_MISSING = {"ER": 0.60, "WARD": 0.85, "ICU": 0.25}


def stays(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        sex = rng.choice(["F", "M"])
        age = int(np.clip(rng.normal(62, 16), 18, 95))
        emergency = rng.random() < 0.6
        length = int(np.clip(rng.poisson(14), 6, 30)) if emergency else int(np.clip(rng.poisson(6), 3, 12))
        path = ["ER", "WARD", "ICU"] if emergency else ["WARD", "ICU"]
        cuts = np.sort(rng.choice(np.arange(1, length), size=min(len(path) - 1, length - 1), replace=False))
        if not emergency and rng.random() < 0.7:  # most elective stays never reach ICU
            cuts = np.array([length])
        states = np.array(path)[np.searchsorted(cuts, np.arange(length), side="right").clip(0, len(path) - 1)]
        t = pd.Timestamp("2024-01-01") + pd.Timedelta(hours=float(rng.uniform(0, 24 * 365)))
        for i, state in enumerate(states):
            if i:
                t = t + pd.Timedelta(hours=float(rng.exponential(WARD_GAP_HOURS[state])))
            icu = state == "ICU"
            rows.append({
                "stay_id": f"stay-{1000 + k}", "ts": t.round("s"), "sex": sex, "age": age,
                "admission": "emergency" if emergency else "elective", "ward": state,
                "hr": np.nan if rng.random() < 0.05 else round(float(rng.normal(75 + 15 * icu + 0.1 * (age - 60), 8)), 1),
                "sbp": np.nan if rng.random() < 0.20 else round(float(rng.normal(125 - 10 * icu, 12)), 0),
                "lactate": np.nan if rng.random() < LACTATE_MISSING[state] else round(float(rng.lognormal(0.3 + 0.5 * icu, 0.4)), 2),
                "vent": bool(icu and rng.random() < 0.6),
            })
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--baseline", action="store_true", help="print the independent-marginals baseline's entity scores")
    args = ap.parse_args()
    df = stays(args.entities, args.seed)
    df.to_csv(args.out, index=False)
    print(f"{len(df)} rows, {df['stay_id'].nunique()} stays written to {args.out}")
    if args.baseline:
        from tsgan.metrics.entities import entity_scores, independent_marginals

        naive = independent_marginals(df, args.entities, "stay_id", "ts", seed=args.seed + 1)
        print(json.dumps(entity_scores(df, naive, "stay_id", "ts", seed=args.seed), indent=2, default=float))


if __name__ == "__main__":
    main()
