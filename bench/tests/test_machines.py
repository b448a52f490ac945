"""bench/machines.py and bench/dgan_protocol.py: known truths and a known-answer ACF."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dgan_protocol import mean_acf  # noqa: E402
from machines import machines  # noqa: E402


def test_the_known_truths_hold():
    df = machines(12, seed=0)
    n = df.groupby("machine_id").agg(n=("temp", "size"), model=("model", "first"))
    assert n["n"].min() >= 500 and n["n"].max() <= 800
    assert (n.query("model == 'C'")["n"] >= 600).all()
    assert (df.groupby("machine_id")[["model", "site"]].nunique() == 1).all().all()
    assert df.loc[df["state"] == "idle", "vibration"].isna().all()
    assert df.loc[df["state"] == "run", "load"].mean() > 50 > df.loc[df["state"] == "idle", "load"].mean()
    gaps = df.groupby("machine_id")["ts"].diff().dropna().dt.total_seconds() / 3600
    assert set(gaps.unique()) <= {1, 2, 3, 4, 5, 6} and (gaps == 1).mean() > 0.9


def test_mean_acf_known_answers():
    # x = [1, -1, 1, -1]: lag-1 autocorrelation sum(x_t x_t+1) / sum(x^2) = -3/4, lag 2 = 2/4
    df = pd.DataFrame({"id": [0, 0, 0, 0], "v": [1.0, -1.0, 1.0, -1.0]})
    assert np.allclose(mean_acf(df, "id", "v", lags=2), [-0.75, 0.5])
    # missing values are left out, a constant entity adds nothing
    df2 = pd.concat([df, pd.DataFrame({"id": [1] * 3, "v": [2.0, 2.0, 2.0]}), pd.DataFrame({"id": [2] * 5, "v": [1, -1, np.nan, 1, -1]})])
    assert np.allclose(mean_acf(df2, "id", "v", lags=2), [-0.75, 0.5])
