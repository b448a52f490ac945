"""Helper for bench/tables.py, run by the Python of a separate environment with the
`ctgan` package (never imported by tsgan): fits CTGAN on a CSV and writes samples.

    /path/to/ctgan-env/bin/python bench/ctgan_run.py --data real.csv --discrete a,b --epochs 300 --out synth.csv
Prints one JSON line: seconds per training step (the difference of a 1-epoch and
an E-epoch fit sharing one fitted data transformer, so set-up cancels), the wall time
a user waits for a fresh E-epoch fit (the transformer's fit plus the E-epoch fit that
reused it: everything else in ``fit`` is in the latter), steps, versions.
"""

import argparse
import json
import os
import time

import pandas as pd
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--discrete", default="")
ap.add_argument("--epochs", type=int, default=300)
ap.add_argument("--batch", type=int, default=500)
ap.add_argument("--out", required=True)
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()
torch.set_num_threads(args.threads)
if args.threads == 1 and hasattr(os, "sched_setaffinity"):
    # ctgan's fit runs on more than one core despite set_num_threads(1) (measured:
    # 14.9 ms per step free, 37.6 ms pinned): pin it, as bench/tables.py pins tsgan
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
import ctgan  # noqa: E402

from ctgan.data_transformer import DataTransformer  # noqa: E402

# Fit ctgan's transformer (a Bayesian GMM per numeric column, seconds of varying
# length) once and reuse it in the second fit, so the difference of the two fits is
# training time only, not the noise of two mixture fits.
_fit, _state, _timing = DataTransformer.fit, {}, {}


def _fit_once(self, raw_data, discrete_columns=()):
    if _state:
        self.__dict__.update(_state)
        return
    t = time.perf_counter()
    _fit(self, raw_data, discrete_columns)
    _timing["transformer_fit"] = time.perf_counter() - t
    _state.update(self.__dict__)


DataTransformer.fit = _fit_once
df = pd.read_csv(args.data)
discrete = [c for c in args.discrete.split(",") if c]
times = {}
for epochs in (1, args.epochs):
    model = ctgan.CTGAN(epochs=epochs, batch_size=args.batch, enable_gpu=False)
    t = time.perf_counter()
    model.fit(df, discrete_columns=discrete)
    times[epochs] = time.perf_counter() - t
steps_per_epoch = max(len(df) // args.batch, 1)
per_step = (times[args.epochs] - times[1]) / ((args.epochs - 1) * steps_per_epoch)
model.sample(len(df)).to_csv(args.out, index=False)
print(json.dumps({"seconds_per_step": per_step, "fit_seconds": _timing["transformer_fit"] + times[args.epochs],
                  "transformer_fit_seconds": _timing["transformer_fit"], "steps": args.epochs * steps_per_epoch,
                  "ctgan": ctgan.__version__, "torch": torch.__version__}))
