"""bench/stays.py: the stays generator's known truths hold."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from stays import LACTATE_MISSING, stays  # noqa: E402


def test_the_known_truths_hold():
    df = stays(300, seed=0)
    order = {"ER": 0, "WARD": 1, "ICU": 2}
    steps = df["ward"].map(order).groupby(df["stay_id"]).diff().dropna()
    assert (steps >= 0).all()  # forward only
    assert (df.groupby("stay_id")["ts"].diff().dropna() >= np.timedelta64(0, "s")).all()
    lengths = df.groupby("stay_id").agg(n=("ward", "size"), adm=("admission", "first"))
    assert lengths.query("adm == 'emergency'")["n"].mean() > 2 * lengths.query("adm == 'elective'")["n"].mean()
    rates = df.groupby("ward")["lactate"].apply(lambda s: s.isna().mean())
    assert all(abs(rates[w] - p) < 0.06 for w, p in LACTATE_MISSING.items())
    assert not df.loc[df["ward"] != "ICU", "vent"].any()
    assert (df.groupby("stay_id")[["sex", "age", "admission"]].nunique() == 1).all().all()
