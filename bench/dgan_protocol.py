"""DoppelGANger's own fidelity protocol (Lin et al. 2020, section 5.1) on data that ships
inside a dependency (#36):

    python bench/dgan_protocol.py --minutes 5

* **autocorrelation** (the paper's Figure 1 / 6): the mean over entities of each
  entity's autocorrelation at lags 1..20 of its observed values, real against
  synthetic, summarised as the mean squared error over lags; on statsmodels'
  ``fertility`` (World Bank fertility rates: 219 countries x 54 years, 1960-2013, 12 %
  missing; an entity per country);
* **attribute distributions** (the paper's attribute histograms and its Jensen-Shannon
  divergences): KS for numeric attributes and total variation for labels, on the
  built-in ``travel-modes`` (statsmodels ``modechoice``: household income and party
  size per traveller).

Each figure is printed beside the real-vs-real floor (two halves of the entities) and
the independent-marginals baseline. What differs from the paper: its datasets (Wikipedia
web traffic, 550 daily steps; Google cluster traces; FCC broadband) are not in any
dependency; these series are shorter (54 steps; 4 rows per traveller), so lags stop at 20.
Results go to bench/results/dgan-protocol.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

LAGS = 20


def fertility() -> pd.DataFrame:
    from statsmodels.datasets import fertility as data

    d = data.load_pandas().data
    years = [c for c in d.columns if c.isdigit()]
    long = d.melt(id_vars=["Country Code"], value_vars=years, var_name="year", value_name="rate")
    long = long.rename(columns={"Country Code": "country"}).assign(year=lambda x: x["year"].astype(int))
    seen = long.groupby("country")["rate"].transform(lambda v: v.notna().sum())
    return long[seen >= 2].sort_values(["country", "year"]).reset_index(drop=True)


def mean_acf(df: pd.DataFrame, id_col: str, value: str, lags: int = LAGS) -> np.ndarray:
    """Mean over entities of the autocorrelation at lags 1..``lags`` of observed values
    (entities too short for a lag leave it out)."""
    sums, counts = np.zeros(lags), np.zeros(lags)
    for _, g in df.groupby(id_col, sort=False):
        v = g[value].dropna().to_numpy(float)
        v = v - v.mean()
        denom = (v**2).sum()
        if len(v) < 3 or denom == 0:
            continue
        for k in range(1, min(lags, len(v) - 1) + 1):
            sums[k - 1] += (v[:-k] * v[k:]).sum() / denom
            counts[k - 1] += 1
    return sums / np.maximum(counts, 1)


def halves(df: pd.DataFrame, id_col: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = df[id_col].unique()
    a = set(np.random.default_rng(seed).permutation(ids)[: len(ids) // 2])
    return df[df[id_col].isin(a)], df[~df[id_col].isin(a)]


def attribute_gaps(real: pd.DataFrame, synth: pd.DataFrame, id_col: str, columns: list[str]) -> dict[str, float]:
    """KS for numbers, total variation for labels, over one row per entity."""
    from scipy.stats import ks_2samp

    r, s = real.groupby(id_col).first(), synth.groupby(id_col).first()
    out = {}
    for c in columns:
        if pd.api.types.is_numeric_dtype(r[c]) and r[c].nunique() > 10:
            out[c] = float(ks_2samp(r[c].dropna(), s[c].dropna()).statistic)
        else:
            p, q = r[c].value_counts(normalize=True), s[c].value_counts(normalize=True)
            out[c] = float(0.5 * p.sub(q, fill_value=0).abs().sum())
    return out


def main() -> None:
    import tsgan
    from tsgan.data.builtin import travel_modes
    from tsgan.metrics.entities import independent_marginals

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0, help="training clock per dataset")
    args = ap.parse_args()
    result = {}

    fert = fertility()
    syn = tsgan.Synthesizer("doppelganger", max_minutes=args.minutes, holdout=0, threads=1).fit(fert, id_column="country", time_column="year")
    synth = syn.sample_frame(fert["country"].nunique(), seed=0)
    naive = independent_marginals(fert, fert["country"].nunique(), "country", "year", seed=1)
    real_acf = mean_acf(fert, "country", "rate")
    a, b = halves(fert, "country")
    mse = lambda x: float(np.mean((mean_acf(x, "country", "rate") - real_acf) ** 2))  # noqa: E731
    result["fertility_autocorrelation"] = {
        "steps": syn.train_info_["steps"], "lags": LAGS, "real_mean_acf": np.round(real_acf, 3).tolist(),
        "synthetic_mean_acf": np.round(mean_acf(synth, "country", "rate"), 3).tolist(),
        "mse": {"doppelganger": mse(synth), "floor_halves": float(np.mean((mean_acf(a, "country", "rate") - mean_acf(b, "country", "rate")) ** 2)),
                "independent_marginals": mse(naive)},
        "missing_rate": {"real": float(fert["rate"].isna().mean()), "doppelganger": float(synth["rate"].isna().mean())},
    }

    travel = travel_modes()
    syn = tsgan.Synthesizer("doppelganger", max_minutes=args.minutes, holdout=0, threads=1).fit(travel, id_column="traveller")
    synth = syn.sample_frame(travel["traveller"].nunique(), seed=0)
    a, b = halves(travel, "traveller")
    cols = ["hinc", "psize"]
    result["travel_modes_attributes"] = {
        "steps": syn.train_info_["steps"], "doppelganger": attribute_gaps(travel, synth, "traveller", cols),
        "floor_halves": attribute_gaps(a, b, "traveller", cols),
        "independent_marginals": attribute_gaps(travel, independent_marginals(travel, 210, "traveller", None, seed=1), "traveller", cols),
    }
    text = json.dumps(result, indent=1)
    print(text)
    (Path(__file__).resolve().parent / "results" / "dgan-protocol.json").write_text(text)


if __name__ == "__main__":
    main()
