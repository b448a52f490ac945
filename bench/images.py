"""DCGAN on scikit-learn's digits: conditional (issue #6) and InfoGAN (issue #5).

A classifier trained on real digits (an RBF SVM on the 64 pixels, 75/25 split)
reads the digit of generated images.

* ``--part conditional``: images generated for each requested label; the share the
  classifier recognises is the conditional accuracy (target >= 0.90). Writes
  bench/results/images-digits.json and a sample grid bench/results/dcgan-digits.png
  (row k: ten samples asked to be digit k).
* ``--part infogan``: no labels; a 10-category InfoGAN code. Per code, the share of
  its samples in its majority digit (purity, averaged over codes; target >= 0.8), how
  many distinct digits the codes pick, and the accuracy when each code is matched to
  its own digit (Hungarian matching: two codes cannot claim one digit). Writes bench/results/images-infogan.json
  and bench/results/dcgan-infogan.png (row k: ten samples of code k).

    python bench/images.py --steps 3000 --threads 1
    python bench/images.py --part infogan --steps 6000 --threads 1
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
    ap.add_argument("--part", choices=("conditional", "infogan"), default="conditional")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--n", type=int, default=200, help="samples per digit")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    ap.add_argument("--tag", default="", help="suffix of the InfoGAN results file")
    ap.add_argument("--param", action="append", help="model parameter key=value (repeatable)")
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    import tsgan
    from tsgan.config import parse_key_values
    from tsgan.data.images import digits, save_images

    x, y = digits()
    xtr, xte, ytr, yte = train_test_split(x.reshape(len(x), -1), y, test_size=0.25, random_state=0, stratify=y)
    clf = SVC(gamma="scale").fit(xtr, ytr)
    real_acc = float((clf.predict(xte) == yte).mean())

    params = parse_key_values(args.param)
    if args.part == "infogan":
        return infogan(args, clf, real_acc, params)
    t0 = time.perf_counter()
    syn = tsgan.Synthesizer(model="dcgan", recipe="paper", steps=args.steps, seed=0, **params).fit("digits", condition_columns=["label"])
    secs = time.perf_counter() - t0
    per_digit = {}
    for k in range(10):
        s = syn.sample_array(args.n, seed=1, condition=k)
        per_digit[k] = float((clf.predict(s.reshape(len(s), -1)) == k).mean())
    acc = float(np.mean(list(per_digit.values())))
    grid = np.concatenate([syn.sample_array(10, seed=2, condition=k) for k in range(10)])
    (HERE / "results").mkdir(exist_ok=True)
    save_images(grid, HERE / "results" / "dcgan-digits.png", scale=4)
    out = {
        "command": "python bench/images.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items() if v is not None),
        "real_classifier_accuracy": real_acc, "accuracy": acc, "per_digit": per_digit,
        "steps": syn.train_info_["steps"], "seconds": round(secs, 1), "seconds_per_step": round(secs / syn.train_info_["steps"], 4),
    }
    (HERE / "results" / "images-digits.json").write_text(json.dumps(out, indent=2))
    print(f"conditional DCGAN on digits: accuracy {acc:.3f} (real classifier {real_acc:.3f}), per digit {per_digit}, {secs:.0f} s")


def infogan(args, clf, real_acc: float, params: dict) -> None:
    import tsgan
    from tsgan.data.images import save_images
    from tsgan.metrics import code_alignment

    params = {"info_categories": 10, **params}
    t0 = time.perf_counter()
    syn = tsgan.Synthesizer(model="dcgan", recipe="paper", steps=args.steps, seed=args.seed, **params).fit("digits")
    secs = time.perf_counter() - t0
    table = {}
    for code in range(int(params["info_categories"])):
        s = syn.sample_array(args.n, seed=1, codes=code)
        pred = clf.predict(s.reshape(len(s), -1))
        table[code] = {d: float((pred == d).mean()) for d in range(10)}
    # purity, and one code per digit (Hungarian matching): purity's stricter sibling,
    # which a generator that gives two codes the same digit cannot game
    align = code_alignment([[row[d] for d in range(10)] for row in table.values()])
    purity, matched, majority = align["purity"], align["matched_accuracy"], align["majority"]
    grid = np.concatenate([syn.sample_array(10, seed=2, codes=code) for code in table])
    (HERE / "results").mkdir(exist_ok=True)
    save_images(grid, HERE / "results" / f"dcgan-infogan{args.tag}.png", scale=4)
    out = {
        "command": "python bench/images.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items() if v is not None),
        "params": params, "real_classifier_accuracy": real_acc, "purity": purity, "matched_accuracy": matched, "majority_digit": majority,
        "distinct_digits": len(set(majority)), "code_to_digit": table,
        "steps": syn.train_info_["steps"], "seconds": round(secs, 1),
    }
    (HERE / "results" / f"images-infogan{args.tag}.json").write_text(json.dumps(out, indent=2))
    print(f"InfoGAN DCGAN on digits: purity {purity:.3f}, one-to-one matched accuracy {matched:.3f}, majority digits {majority} ({len(set(majority))} distinct), {secs:.0f} s")


if __name__ == "__main__":
    main()
