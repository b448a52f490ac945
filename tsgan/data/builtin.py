"""Built-in datasets: generated (``sines``) or shipped inside a dependency (statsmodels).

Each loader returns a DataFrame plus the column roles, so ``tsgan fit NAME`` needs
no other flags. The catalogue is documented in ``datasets/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd


def sines(n: int = 10_000, seq_len: int = 24, dim: int = 5, seed: int = 0) -> pd.DataFrame:
    """The TimeGAN benchmark's Sines: per sequence and feature ``freq, phase ~ U(0, 0.1)``,
    ``x_j = sin(freq * j + phase)``, rescaled by ``(x + 1) / 2``. Long format."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0, 0.1, size=(n, 1, dim))
    phase = rng.uniform(0, 0.1, size=(n, 1, dim))
    j = np.arange(seq_len)[None, :, None]
    x = (np.sin(freq * j + phase) + 1) / 2  # (n, T, dim)
    df = pd.DataFrame(x.reshape(n * seq_len, dim), columns=[f"s{k}" for k in range(dim)])
    df.insert(0, "step", np.tile(np.arange(seq_len), n))
    df.insert(0, "sequence_id", np.repeat(np.arange(n), seq_len))
    return df


def sines_array(n: int = 10_000, seq_len: int = 24, dim: int = 5, seed: int = 0) -> np.ndarray:
    """Sines as an array ``(n, seq_len, dim)``."""
    df = sines(n, seq_len, dim, seed)
    return df.drop(columns=["sequence_id", "step"]).to_numpy().reshape(n, seq_len, dim)


BANDS = {"low": (0.05, 0.15), "mid": (0.25, 0.35), "high": (0.55, 0.65)}


def sine_bands(n: int = 3000, seq_len: int = 24, dim: int = 2, seed: int = 0, phase_spread: float = 2 * np.pi) -> pd.DataFrame:
    """A labelled sequence dataset: sines whose frequency band is the label.

    Per sequence a band is drawn uniformly from ``BANDS`` (radians per step: low
    about 0.1, mid 0.3, high 0.6); per feature ``freq ~ U(band)``, ``phase ~ U(0, phase_spread)``
    (default 2 pi: any phase), ``x_j = (sin(freq j + phase) + 1) / 2``. Long format with
    a ``band`` column. A small ``phase_spread`` leaves the band the one large factor of
    variation: clear discrete modes.
    """
    rng = np.random.default_rng(seed)
    names = list(BANDS)
    label = rng.integers(len(names), size=n)
    lo = np.array([BANDS[b][0] for b in names])[label][:, None, None]
    hi = np.array([BANDS[b][1] for b in names])[label][:, None, None]
    freq = lo + (hi - lo) * rng.uniform(size=(n, 1, dim))
    phase = rng.uniform(0, phase_spread, size=(n, 1, dim))
    j = np.arange(seq_len)[None, :, None]
    x = (np.sin(freq * j + phase) + 1) / 2
    df = pd.DataFrame(x.reshape(n * seq_len, dim), columns=[f"s{k}" for k in range(dim)])
    df.insert(0, "band", np.repeat(np.asarray(names, dtype=object)[label], seq_len))
    df.insert(0, "step", np.tile(np.arange(seq_len), n))
    df.insert(0, "sequence_id", np.repeat(np.arange(n), seq_len))
    return df


def macrodata() -> pd.DataFrame:
    """US quarterly macroeconomic series 1959-2009 (statsmodels), with a date column."""
    from statsmodels.datasets import macrodata as m

    df = m.load_pandas().data
    date = pd.PeriodIndex.from_fields(year=df["year"].astype(int), quarter=df["quarter"].astype(int), freq="Q")
    out = df.drop(columns=["year", "quarter"])
    out.insert(0, "date", date.to_timestamp())
    return out


def sunspots() -> pd.DataFrame:
    """Yearly sunspot activity 1700-2008 (statsmodels): one feature, a YEAR time column."""
    from statsmodels.datasets import sunspots as s

    df = s.load_pandas().data
    df["YEAR"] = df["YEAR"].astype(int)
    return df


def co2() -> pd.DataFrame:
    """Weekly Mauna Loa CO2 1958-2001 (statsmodels), gaps filled by time interpolation."""
    from statsmodels.datasets import co2 as c

    df = c.load_pandas().data.interpolate(method="time")
    df = df.rename_axis("date").reset_index()
    return df


def affairs() -> pd.DataFrame:
    """A mixed-type table: statsmodels' ``fair`` survey (6,366 rows), coded columns as labels."""
    from statsmodels.datasets import fair

    df = fair.load_pandas().data
    occupations = {1: "student", 2: "farming/unskilled", 3: "white collar", 4: "teacher/nurse/writer", 5: "manager", 6: "professional"}
    out = pd.DataFrame({
        "rate_marriage": df["rate_marriage"].astype(int).map({1: "very poor", 2: "poor", 3: "fair", 4: "good", 5: "very good"}),
        "age": df["age"], "yrs_married": df["yrs_married"], "children": df["children"],
        "religious": df["religious"].astype(int).map({1: "not", 2: "mildly", 3: "fairly", 4: "strongly"}),
        "educ": df["educ"].astype(int),
        "occupation": df["occupation"].astype(int).map(occupations),
        "occupation_husb": df["occupation_husb"].astype(int).map(occupations),
        "affairs": df["affairs"],
    })
    return out


def breast_cancer() -> pd.DataFrame:
    """scikit-learn's breast cancer table (569 rows, 30 numeric features, a diagnosis label)."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer(as_frame=True)
    out = d.data.copy()
    out["diagnosis"] = np.where(d.target == 1, "benign", "malignant")
    return out


def digits_table() -> pd.DataFrame:
    """scikit-learn's 8x8 digits as a table (64 pixel columns 0-16 and the label); image
    models read ``digits`` as images instead."""
    from sklearn.datasets import load_digits

    d = load_digits(as_frame=True)
    out = d.data.astype(int)
    out["label"] = d.target.astype(str)
    return out


def travel_modes() -> pd.DataFrame:
    """statsmodels' ``modechoice`` (Greene, Econometric Analysis; Hensher & Greene): 210
    travellers between Sydney and Melbourne, one row per travel mode each traveller could
    take (air, train, bus, car, in that order). Static: household income ``hinc``
    (thousands of AUD) and party size ``psize``; per mode: whether it was ``chosen``,
    terminal waiting time ``ttme`` (minutes; 0 for car), in-vehicle cost ``invc``,
    in-vehicle time ``invt`` and generalised cost ``gc``. An entity table without a time
    column (rows in order), with a categorical, a boolean and static columns."""
    from statsmodels.datasets import modechoice

    d = modechoice.load_pandas().data
    return pd.DataFrame({
        "traveller": d["individual"].astype(int),
        "mode": d["mode"].astype(int).map({1: "air", 2: "train", 3: "bus", 4: "car"}),
        "chosen": d["choice"].astype(int).astype(bool),
        "ttme": d["ttme"].astype(int), "invc": d["invc"].astype(int), "invt": d["invt"].astype(int), "gc": d["gc"].astype(int),
        "hinc": d["hinc"].astype(int), "psize": d["psize"].astype(int),
    })


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    load: Callable[[], pd.DataFrame]
    description: str
    time_column: str | None = None
    id_column: str | None = None
    condition_columns: tuple[str, ...] = ()  # used unless the caller names its own
    entities: bool = False  # an entity table: sequence models learn whole entities unless given seq_len


BUILTINS: dict[str, BuiltinDataset] = {
    d.name: d
    for d in [
        BuiltinDataset("sines", sines, "10,000 sine sequences, 24 steps x 5 features (TimeGAN benchmark)", "step", "sequence_id"),
        BuiltinDataset(
            "sine-bands", sine_bands, "3,000 labelled sine sequences, 24 steps x 2, label 'band' = low/mid/high frequency",
            "step", "sequence_id", ("band",),
        ),
        BuiltinDataset("affairs", affairs, "mixed-type table: 6,366 survey rows, 4 categorical + 5 numeric columns (statsmodels fair)"),
        BuiltinDataset("breast-cancer", breast_cancer, "table: 569 rows, 30 numeric features + diagnosis label (scikit-learn)"),
        BuiltinDataset("digits", digits_table, "images (dcgan): 1,797 handwritten digits 8x8, label 0-9 (scikit-learn); a 65-column table otherwise"),
        BuiltinDataset("travel-modes", travel_modes, "entity table: 210 travellers x 4 travel modes, static income and party "
                       "size, mode, chosen (statsmodels modechoice)", None, "traveller", entities=True),
        BuiltinDataset("macrodata", macrodata, "US macroeconomic quarterly series 1959-2009, 203 rows x 12 (statsmodels)", "date"),
        BuiltinDataset("sunspots", sunspots, "yearly sunspot numbers 1700-2008, 309 rows x 1 (statsmodels)", "YEAR"),
        BuiltinDataset("co2", co2, "weekly Mauna Loa CO2 1958-2001, 2,284 rows x 1 (statsmodels)", "date"),
    ]
}


def is_builtin(data) -> bool:
    """``data`` names a built-in dataset (and no file of that name exists)."""
    from pathlib import Path

    return isinstance(data, str) and data in BUILTINS and not Path(data).exists()
