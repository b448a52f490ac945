"""Conditional DCGAN on scikit-learn's digits (issue #6's must-show numbers).

A classifier trained on real digits (an RBF SVM on the 64 pixels, 75/25 split)
reads the digit of images generated for each requested label; the share it
recognises is the conditional accuracy (target >= 0.90). Writes
bench/results/images-digits.json and a sample grid bench/results/dcgan-digits.png
(row k: ten samples asked to be digit k).

    python bench/images.py --steps 3000 --threads 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--n", type=int, default=200, help="samples per digit")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--param", action="append", help="model parameter key=value (repeatable)")
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    import tsgan
    from tsgan.data.images import digits, save_images

    x, y = digits()
    xtr, xte, ytr, yte = train_test_split(x.reshape(len(x), -1), y, test_size=0.25, random_state=0, stratify=y)
    clf = SVC(gamma="scale").fit(xtr, ytr)
    real_acc = float((clf.predict(xte) == yte).mean())

    params = dict(kv.split("=", 1) for kv in args.param or [])
    t0 = time.perf_counter()
    syn = tsgan.Synthesizer(model="dcgan", steps=args.steps, seed=0, **params).fit("digits", condition_columns=["label"])
    secs = time.perf_counter() - t0
    per_digit = {}
    for k in range(10):
        s = syn.sample(args.n, seed=1, condition=k)
        per_digit[k] = float((clf.predict(s.reshape(len(s), -1)) == k).mean())
    acc = float(np.mean(list(per_digit.values())))
    grid = np.concatenate([syn.sample(10, seed=2, condition=k) for k in range(10)])
    (HERE / "results").mkdir(exist_ok=True)
    save_images(grid, HERE / "results" / "dcgan-digits.png", scale=4)
    out = {
        "command": "python bench/images.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items() if v is not None),
        "real_classifier_accuracy": real_acc, "accuracy": acc, "per_digit": per_digit,
        "steps": syn.train_info_["steps"], "seconds": round(secs, 1), "seconds_per_step": round(secs / syn.train_info_["steps"], 4),
    }
    (HERE / "results" / "images-digits.json").write_text(json.dumps(out, indent=2))
    print(f"conditional DCGAN on digits: accuracy {acc:.3f} (real classifier {real_acc:.3f}), per digit {per_digit}, {secs:.0f} s")


if __name__ == "__main__":
    main()
