"""Controllable generation and objectives (issue #5's must-show numbers).

Four parts, each runnable on its own (``--part``), results in
bench/results/controls-<part>.json:

* ``conditional``: a conditional model on the labelled ``sine-bands`` built-in
  (label = frequency band low/mid/high). A classifier trained on real windows
  predicts the band of samples generated for each requested band; the share it
  recognises is the conditional accuracy (target >= 0.90).
* ``infogan``: the same data without labels, InfoGAN with a 3-category code.
  Samples per code are classified by the real-trained classifier; purity is the
  share of each code's samples in its majority band, averaged over codes
  (target >= 0.8); the one-to-one matched accuracy gives every code its own band
  (``tsgan.metrics.code_alignment``). ``--phase-spread 0.5`` draws phases from
  U(0, 0.5) instead of U(0, 2 pi), so the band is the one large factor of
  variation (clear discrete modes); with any phase, a code can split the data by
  phase instead of band and still be perfectly recognisable to Q.
* ``infogan-table``: InfoGAN (a 4-category code) on a table with clear discrete
  modes, four well-separated 2-D Gaussian blobs; a nearest-neighbour classifier
  trained on fresh real rows names each sample's blob; purity and matched accuracy
  as above. Default model ``ctgan``.
* ``objectives``: RCGAN on Sines with minimax and WGAN-GP at growing step
  budgets (same seed, so a longer run extends a shorter one); per budget the
  discriminative score and the critic gap E D(x) - E D(G(z)) over the last 10 %
  of steps. Writes a report (bench/results/objectives-report/) whose loss panel
  compares the two runs, and the loss figure as a PNG.

    python bench/controls.py --part conditional --steps 3000
    python bench/controls.py --part infogan --steps 3000
    python bench/controls.py --part infogan --models timegan --steps 9000 --phase-spread 0.5
    python bench/controls.py --part infogan-table --steps 2000 --seeds 0,1,2
    python bench/controls.py --part objectives --budgets 250,500,1000,2000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BANDS = ["high", "low", "mid"]  # the encoder's (sorted) label order


def spectrum_features(x: np.ndarray) -> np.ndarray:
    """Phase-free features of windows ``(N, T, F)``: |rFFT| per feature, flattened."""
    centred = x - x.mean(axis=1, keepdims=True)
    return np.abs(np.fft.rfft(centred, axis=1)).reshape(len(x), -1)


def band_classifier(seed: int = 0):
    """A classifier of the band trained on real sine-bands windows (fresh data, other seed)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    from tsgan.data.builtin import sine_bands

    df = sine_bands(n=4000, seed=seed + 100)
    x = df[["s0", "s1"]].to_numpy().reshape(-1, 24, 2)
    y = df.groupby("sequence_id")["band"].first().to_numpy()
    xtr, xte, ytr, yte = train_test_split(spectrum_features(x), y, test_size=0.25, random_state=seed)
    clf = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1).fit(xtr, ytr)
    return clf, float((clf.predict(xte) == yte).mean())


def part_conditional(args) -> dict:
    import tsgan

    clf, real_acc = band_classifier()
    out = {"real_holdout_accuracy": real_acc, "models": {}}
    for model in args.models.split(","):
        t0 = time.perf_counter()
        syn = tsgan.Synthesizer(model=model, recipe="paper", steps=args.steps, seed=0, max_minutes=args.minutes)
        syn.fit("sine-bands")  # the built-in conditions on its 'band' column
        secs = time.perf_counter() - t0
        per_band = {}
        for band in BANDS:
            x = syn.sample_array(args.n, seed=1, condition=band)
            per_band[band] = float((clf.predict(spectrum_features(x)) == band).mean())
        acc = float(np.mean(list(per_band.values())))
        out["models"][model] = {"accuracy": acc, "per_band": per_band, "steps": syn.train_info_["steps"], "seconds": round(secs, 1)}
        print(f"conditional {model}: accuracy {acc:.3f} {per_band} ({syn.train_info_['steps']} steps, {secs:.0f} s); real classifier {real_acc:.3f}")
    return out


def infogan_runs(args, model: str, data, fit_kwargs: dict, classify, labels: list, params: dict) -> dict:
    """Train ``model`` with InfoGAN codes once per ``--seeds`` seed; per run, classify
    ``--n`` samples of each code with the real-trained ``classify`` and align codes with
    ``labels`` (``tsgan.metrics.code_alignment``)."""
    import tsgan
    from tsgan.metrics import code_alignment

    runs = []
    for seed in (int(v) for v in args.seeds.split(",")):
        t0 = time.perf_counter()
        syn = tsgan.Synthesizer(model=model, recipe="paper", steps=args.steps, seed=seed, max_minutes=args.minutes, **params)
        syn.fit(data, **fit_kwargs)
        secs = time.perf_counter() - t0
        table = {}
        for code in range(int(params["info_categories"])):
            pred = np.asarray(classify(syn.sample_array(args.n, seed=1, codes=code)))
            table[code] = {b: float((pred == b).mean()) for b in labels}
        align = code_alignment([[row[b] for b in labels] for row in table.values()])
        majority = [labels[i] for i in align["majority"]]
        info = syn.history_["g/info"].dropna()
        runs.append({
            "seed": seed, "purity": align["purity"], "matched_accuracy": align["matched_accuracy"],
            "code_to_label": table, "majority_labels": majority, "distinct_labels": align["distinct"] == len(labels),
            "final_info_loss": float(info.tail(100).mean()), "steps": syn.train_info_["steps"], "seconds": round(secs, 1),
        })
        print(f"infogan {model} seed {seed}: purity {align['purity']:.3f}, one-to-one matched accuracy "
              f"{align['matched_accuracy']:.3f}, majority {majority} ({secs:.0f} s)", flush=True)
    return {
        "params": params, "runs": runs,
        "min_purity": min(r["purity"] for r in runs), "min_matched_accuracy": min(r["matched_accuracy"] for r in runs),
    }


def part_infogan(args) -> dict:
    from tsgan.config import parse_key_values
    from tsgan.data.builtin import sine_bands

    clf, real_acc = band_classifier()
    data = sine_bands(phase_spread=args.phase_spread).drop(columns="band")
    out = {"real_holdout_accuracy": real_acc, "phase_spread": args.phase_spread, "models": {}}
    params = {"info_categories": 3, **parse_key_values(args.param)}
    for model in args.models.split(","):
        out["models"][model] = infogan_runs(
            args, model, data, {"id_column": "sequence_id", "time_column": "step"},
            lambda x: clf.predict(spectrum_features(x)), BANDS, params,
        )
    return out


BLOB_CENTRES = np.array([[-6.0, -6.0], [-6.0, 6.0], [6.0, -6.0], [6.0, 6.0]])


def blobs(n: int, seed: int):
    """Rows of two numeric columns from four well-separated unit Gaussians, with the blob as label."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    label = rng.integers(len(BLOB_CENTRES), size=n)
    xy = BLOB_CENTRES[label] + rng.normal(size=(n, 2))
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}), label


def part_infogan_table(args) -> dict:
    """InfoGAN on a table with clear discrete modes: four Gaussian blobs, a 4-category code."""
    from sklearn.neighbors import KNeighborsClassifier

    from tsgan.config import parse_key_values

    data, _ = blobs(4000, seed=0)
    fresh, fresh_label = blobs(4000, seed=100)
    clf = KNeighborsClassifier(15).fit(fresh.iloc[:3000], fresh_label[:3000])
    real_acc = float((clf.predict(fresh.iloc[3000:]) == fresh_label[3000:]).mean())
    out = {"real_holdout_accuracy": real_acc, "models": {}}
    params = {"info_categories": 4, **parse_key_values(args.param)}
    for model in args.models.split(","):
        out["models"][model] = infogan_runs(args, model, data, {}, lambda df: clf.predict(df[["x", "y"]]), [0, 1, 2, 3], params)
    return out


def part_objectives(args) -> dict:
    import tsgan
    from tsgan.config import parse_key_values
    from tsgan.data import sines, sines_array
    from tsgan.evaluate import plot_figures, run_evaluation
    from tsgan.metrics import discriminative_score, marginal_distance, mmd_rbf

    real = sines_array().astype(np.float32)
    frame = sines()
    budgets = [int(b) for b in args.budgets.split(",")]
    out = {"model": "rcgan", "data": "sines", "params": args.param, "runs": {}}
    final = {}
    for objective in ("minimax", "wgan-gp"):
        rows = []
        for steps in budgets:
            t0 = time.perf_counter()
            params = parse_key_values(args.param)
            syn = tsgan.Synthesizer(model="rcgan", recipe="paper", steps=steps, seed=0, objective=objective, holdout=0, **params)
            syn.fit(frame, id_column="sequence_id", time_column="step")
            secs = time.perf_counter() - t0
            synth = syn.sample_scaled(len(real), seed=1)
            disc = [discriminative_score(real, synth, seed=r) for r in range(args.reps)]
            h = syn.history_
            tail = h[h["step"] > 0.9 * steps]
            ri = np.random.default_rng(0).permutation(len(real))[:2000]
            rows.append({
                "steps": steps, "disc": float(np.mean(disc)), "disc_std": float(np.std(disc)),
                "mmd": float(mmd_rbf(real[ri], synth[:2000])), "marginal_ks": float(marginal_distance(real, synth)["ks"].mean()),
                "critic_gap": float(tail["d/gap"].mean()), "d_loss": float(tail["d/loss"].mean()), "seconds": round(secs, 1),
            })
            print(f"{objective:8} {steps:6d} steps: disc {rows[-1]['disc']:.3f}, MMD {rows[-1]['mmd']:.4f}, KS {rows[-1]['marginal_ks']:.3f}, critic gap {rows[-1]['critic_gap']:.4f} ({secs:.0f} s)")
            final[objective] = (syn, synth)
        out["runs"][objective] = rows
    # the report of #4 with both runs' loss curves, scored on the WGAN-GP run
    syn, synth = final["wgan-gp"]
    histories = {f"{o} ({budgets[-1]} steps)": final[o][0].history_ for o in ("wgan-gp", "minimax")}
    report = RESULTS / "objectives-report"
    run_evaluation(real, synth, [f"s{k}" for k in range(5)], report, ["discriminative", "marginal", "autocorrelation"],
                   reps=1, history=histories, title="RCGAN on Sines: WGAN-GP vs minimax", force=True)
    figs = dict(plot_figures(real[:500], synth[:500], [f"s{k}" for k in range(5)], histories))
    import base64

    (RESULTS / "objectives-losses.png").write_bytes(base64.b64decode(figs["Training losses (runs compared)"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("conditional", "infogan", "infogan-table", "objectives"), required=True)
    ap.add_argument("--models", default=None, help="comma-separated models (conditional, infogan: rcgan; infogan-table: ctgan)")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=None, help="cap per training run")
    ap.add_argument("--n", type=int, default=1000, help="samples per label / code")
    ap.add_argument("--budgets", default="250,500,1000,2000", help="objectives: step budgets")
    ap.add_argument("--reps", type=int, default=2, help="objectives: discriminative-score repeats")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--param", action="append", help="infogan, objectives: model parameter key=value (repeatable)")
    ap.add_argument("--tag", default="", help="suffix of the results file")
    ap.add_argument("--seeds", default="0", help="infogan: comma-separated training seeds, one run each")
    ap.add_argument("--phase-spread", type=float, default=2 * np.pi,
                    help="infogan: phases ~ U(0, this); small values leave the band the one large factor (clear modes)")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    args.models = args.models or ("ctgan" if args.part == "infogan-table" else "rcgan")
    fn = {"conditional": part_conditional, "infogan": part_infogan, "infogan-table": part_infogan_table, "objectives": part_objectives}[args.part]
    t0 = time.perf_counter()
    res = fn(args)
    res["command"] = "python bench/controls.py " + " ".join(
        f"--{k.replace('_', '-')}={w}" for k, v in vars(args).items() if v not in (None, "") and k != "part" for w in (v if isinstance(v, list) else [v])
    ) + f" --part {args.part}"
    res["wall_seconds"] = round(time.perf_counter() - t0, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"controls-{args.part}{args.tag}.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
