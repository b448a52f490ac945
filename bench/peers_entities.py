"""Peers on the entity-table benchmark (#35): SDV's PARSynthesizer, and the scores.

Each peer runs in its own virtual environment (never a tsgan dependency):

    python -m venv /tmp/sdv && /tmp/sdv/bin/pip install torch==2.13.0 sdv
    python bench/stays.py --entities 2000 --out /tmp/stays.csv
    /tmp/sdv/bin/python bench/peers_entities.py par --data /tmp/stays.csv --minutes 15 --out /tmp/par.csv
    python bench/peers_entities.py score --real /tmp/stays.csv --synth /tmp/par.csv --name par
    python -m venv /tmp/gretel && /tmp/gretel/bin/pip install torch==2.13.0 && /tmp/gretel/bin/pip install --no-deps gretel-synthetics
    /tmp/gretel/bin/pip install pandas numpy scikit-learn   # DGAN's own needs (the full install builds sentencepiece)
    /tmp/gretel/bin/python bench/peers_entities.py dgan --data /tmp/stays.csv --minutes 15 --out /tmp/dgan.csv

``par`` times a 1-epoch and a 3-epoch fit (SDV's fixed preprocessing apart from an
epoch), then trains as many epochs as fit in what is left of ``--minutes`` (the probes
count) and samples as many stays as the real
data has (sampling 2,000 stays takes about 7 minutes on 2 cores, outside the budget).
``score`` prints the entity-level figures of ``tsgan.metrics.entities`` beside
the independent-marginals baseline's and writes them to
``bench/results/entities-<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

ID, TIME = "stay_id", "ts"


def run_par(data: str, minutes: float, out: str, seed: int = 0) -> None:
    import numpy as np
    import torch
    from sdv.metadata import Metadata  # SDV 2.0
    from sdv.sequential import PARSynthesizer

    np.random.seed(seed)
    torch.manual_seed(seed)
    df = pd.read_csv(data, parse_dates=[TIME])
    meta = Metadata.detect_from_dataframes({"stays": df}, infer_keys=None)
    meta.update_column(ID, sdtype="id", regex_format="stay-[0-9]{4}")
    meta.set_sequence_key(ID)
    meta.set_sequence_index(TIME)
    context = ["sex", "age", "admission"]
    def fit(epochs: int):
        t = time.perf_counter()
        model = PARSynthesizer(meta, context_columns=context, epochs=epochs, verbose=False, cuda=False)
        model.fit({"stays": df})  # SDV 2.0 takes a dict of one table
        return model, time.perf_counter() - t

    start = time.perf_counter()
    _, one = fit(1)
    _, three = fit(3)
    per_epoch = max((three - one) / 2, one / 3)  # the probes tell SDV's fixed preprocessing from an epoch
    fixed = max(one - per_epoch, 0.0)
    epochs = max(1, int((minutes * 60 - (time.perf_counter() - start) - fixed) / per_epoch))
    par, _ = fit(epochs)
    fit_seconds = time.perf_counter() - start
    synth = par.sample_sequences(df[ID].nunique())  # SDV 2.0
    synth = synth["stays"] if isinstance(synth, dict) else synth
    synth.to_csv(out, index=False)
    print(json.dumps({"peer": "sdv PARSynthesizer", "epochs": epochs, "seconds_per_epoch": round(per_epoch, 1), "fixed_seconds": round(fixed, 1),
                      "fit_seconds": round(fit_seconds, 1), "rows": len(synth)}))


def run_dgan(data: str, minutes: float, out: str, seed: int = 0, batch_size: int = 100) -> None:
    """gretel-synthetics' DGAN (DoppelGANger) under the same budget. DGAN needs every
    example to have the same length: each stay is padded to the longest (its last row
    repeated, times going on at its median gap) and synthetic stays come back that long.
    It refuses a continuous feature more than half missing: missing values are filled
    within each stay (then by the median) first, so its output has none.
    Statics are DGAN attributes; ward and vent discrete features."""
    import numpy as np
    import torch
    from gretel_synthetics.timeseries_dgan.config import DGANConfig
    from gretel_synthetics.timeseries_dgan.dgan import DGAN

    from dgan import gretel_frame  # bench/dgan.py: padded to the longest, missing values filled, labels as text

    np.random.seed(seed)
    torch.manual_seed(seed)
    df = pd.read_csv(data, parse_dates=[TIME])
    longest = int(df.groupby(ID).size().max())
    padded = gretel_frame(df, ID, TIME, ["ward", "hr", "sbp", "lactate", "vent"], ["sex", "admission", "ward", "vent"], longest)
    attributes, features = ["sex", "age", "admission"], ["ward", "hr", "sbp", "lactate", "vent"]

    def fit(epochs: int):
        t = time.perf_counter()
        model = DGAN(DGANConfig(max_sequence_len=longest, sample_len=longest // 4 if longest % 4 == 0 else 1,
                                batch_size=batch_size, epochs=epochs, cuda=False))
        model.train_dataframe(padded, attribute_columns=attributes, feature_columns=features, example_id_column=ID,
                              time_column=TIME, discrete_columns=["sex", "admission", "ward", "vent"], df_style="long")
        return model, time.perf_counter() - t

    start = time.perf_counter()
    _, one = fit(1)
    _, three = fit(3)
    per_epoch = max((three - one) / 2, one / 3)
    fixed = max(one - per_epoch, 0.0)
    epochs = max(1, int((minutes * 60 - (time.perf_counter() - start) - fixed) / per_epoch))
    model, _ = fit(epochs)
    fit_seconds = time.perf_counter() - start
    t = time.perf_counter()
    synth = model.generate_dataframe(df[ID].nunique())
    sample_seconds = time.perf_counter() - t
    synth["vent"] = synth["vent"].astype(str) == "True"
    synth.to_csv(out, index=False)
    print(json.dumps({"peer": "gretel DGAN", "epochs": epochs, "seconds_per_epoch": round(per_epoch, 1), "fixed_seconds": round(fixed, 1),
                      "fit_seconds": round(fit_seconds, 1), "sample_seconds": round(sample_seconds, 1), "rows": len(synth),
                      "padded_to": longest}))


def score(real: str, synth: str, name: str, seed: int = 0, id_col: str = ID, time_col: str = TIME) -> None:
    from tsgan.metrics.entities import entity_scores, independent_marginals

    r = pd.read_csv(real, parse_dates=[time_col])
    s = pd.read_csv(synth, parse_dates=[time_col])
    naive = independent_marginals(r, r[id_col].nunique(), id_col, time_col, seed=seed + 1)
    result = {"synthetic": entity_scores(r, s, id_col, time_col, seed=seed),
              "independent_marginals": entity_scores(r, naive, id_col, time_col, seed=seed)}
    text = json.dumps(result, indent=2, default=float)
    print(text)
    target = Path(__file__).resolve().parent / "results" / f"entities-{name}.json"
    target.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("par")
    p.add_argument("--data", required=True)
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--out", required=True)
    d = sub.add_parser("dgan")
    d.add_argument("--data", required=True)
    d.add_argument("--minutes", type=float, default=15.0)
    d.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("--real", required=True)
    s.add_argument("--synth", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--id", default=ID, help="the id column (default stay_id)")
    s.add_argument("--time", default=TIME, help="the time column (default ts)")
    args = ap.parse_args()
    if args.cmd == "par":
        run_par(args.data, args.minutes, args.out)
    elif args.cmd == "dgan":
        run_dgan(args.data, args.minutes, args.out)
    else:
        score(args.real, args.synth, args.name, id_col=args.id, time_col=args.time)


if __name__ == "__main__":
    main()
