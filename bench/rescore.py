"""Rescore a fitted run on fresh sample sets, without retraining.

The discriminative score's post-hoc classifier varies a lot between repeats on one
synthetic set (on Sines, .003 to .074), so a 10-repeat mean still moves by about .01.
This draws ``--sets`` synthetic sets (sampling seeds 0, 1, ...; seed 0 is the set
``bench/reproduce.py`` scores), scores each ``--reps`` times and reports per-set means
and the pooled mean and median. ``--pred N`` adds N predictive-score repeats per set.

    python bench/rescore.py bench/results/fitted/timegan-sines-paper-seed0 --data sines --sets 5 --reps 10 --threads 1

With ``--critic`` it instead asks whether the run's discriminator still tells real
from fake: for RCGAN and C-RNN-GAN (one logit per step) it prints the per-step logits'
spread, the share saturated (|logit| > 5, where the sigmoid's gradient is below .007),
the decision on real windows and on fresh samples, and the critic's sharpness there:
the squared norm of the gradient of its summed logits with respect to each window (the
quantity the R1 penalty, ``--param r1_weight``, holds down).

    python bench/rescore.py /tmp/cr/runs/crnngan-sines-seed0 --data sines --critic

Results: printed, and bench/results/rescore-<run folder name>.json (``critic-`` with
``--critic``), or the file given by ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np


HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path, help="a folder written by Synthesizer.save (e.g. reproduce.py --save-runs)")
    ap.add_argument("--data", choices=("sines", "stocks"), required=True, help="the real windows the run was trained on")
    ap.add_argument("--sets", type=int, default=5, help="synthetic sets (sampling seeds 0 .. sets-1)")
    ap.add_argument("--reps", type=int, default=10, help="scoring repeats per set")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--pred", type=int, default=0, help="also the predictive score, this many repeats per set (5,000 iterations each)")
    ap.add_argument("--critic", action="store_true", help="probe the discriminator instead of rescoring (RCGAN, C-RNN-GAN)")
    ap.add_argument("--out", type=Path, default=None, help="results file (default bench/results/<rescore|critic>-<run folder name>.json)")
    args = ap.parse_args()
    for name in ("sets", "reps"):
        if getattr(args, name) < 1:
            raise SystemExit(f"error: --{name} must be at least 1 (got {getattr(args, name)}): e.g. --{name} 5")
    if args.pred < 0:
        raise SystemExit(f"error: --pred must be 0 or more (got {args.pred}): e.g. --pred 2, or leave it out")
    if args.out is not None and args.out.is_dir():
        raise SystemExit(f"error: --out {args.out} is a folder: pass a file path such as {args.out / 'critic.json'}")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    import tsgan
    from reproduce import load_real, machine
    from tsgan.metrics import discriminative_score, predictive_score

    _, real, to_score_space, _ = load_real(args.data)
    from tsgan.errors import TsganError

    try:
        syn = tsgan.load(args.run)
    except TsganError as e:
        raise SystemExit(f"error: {e}") from None
    command = "python " + shlex.join(sys.argv)  # as typed, --threads included
    if args.critic:
        out = critic_probe(syn, original_windows(args.data))
        out["command"] = command
        write(out, args.out or HERE / "results" / f"critic-{args.run.name}.json")
        return
    t0 = time.perf_counter()
    sets, preds = {}, {}
    for s in range(args.sets):
        synth = to_score_space(syn.sample_array(len(real), seed=s)).astype(np.float32)
        sets[s] = [discriminative_score(real, synth, seed=r) for r in range(args.reps)]
        print(f"set {s}: disc mean {np.mean(sets[s]):.4f}, median {np.median(sets[s]):.4f}, repeats {np.round(sets[s], 3).tolist()}", flush=True)
        if args.pred:
            preds[s] = [predictive_score(real, synth, seed=r) for r in range(args.pred)]
            print(f"set {s}: pred mean {np.mean(preds[s]):.4f}, repeats {np.round(preds[s], 4).tolist()}", flush=True)
    pooled = np.concatenate(list(sets.values()))
    out = {
        "command": command,
        "machine": machine(),
        "trained": {k: syn.train_info_.get(k) for k in ("steps", "seed", "device", "torch", "threads")},  # torch: absent in runs before it was recorded
        "disc": {str(k): v for k, v in sets.items()}, "set_means": [float(np.mean(v)) for v in sets.values()],
        "pooled_mean": float(pooled.mean()), "pooled_std": float(pooled.std()), "pooled_median": float(np.median(pooled)),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(f"pooled over {len(pooled)}: mean {out['pooled_mean']:.4f} ± {out['pooled_std']:.4f}, median {out['pooled_median']:.4f}; "
          f"set means {np.round(out['set_means'], 4).tolist()}")
    if preds:
        pooled_pred = np.concatenate(list(preds.values()))
        out.update(pred={str(k): v for k, v in preds.items()}, pred_mean=float(pooled_pred.mean()), pred_std=float(pooled_pred.std()))
        print(f"pred pooled over {len(pooled_pred)}: mean {out['pred_mean']:.4f} ± {out['pred_std']:.4f}")
    write(out, args.out or HERE / "results" / f"rescore-{args.run.name}.json")


def write(out: dict, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2))
    except OSError as e:
        raise SystemExit(f"error: cannot write {path} ({e.strerror}): pass a writable file path with --out") from None
    print(f"results in {path}")


def original_windows(data: str) -> np.ndarray:
    """The PROTOCOL's real windows in the data's original units (what a run's own
    scaler reads)."""
    from reproduce import load_real, protocol_windows

    frame, real, _, _ = load_real(data)
    if data == "sines":
        return real  # generated in [0, 1]: the scoring space is the original one
    return protocol_windows(frame.to_numpy(dtype=np.float64))


def critic_probe(syn, real: np.ndarray, n: int = 500, seed: int = 0) -> dict:
    """Per-step logits and decisions of a fitted RCGAN or C-RNN-GAN discriminator on
    ``n`` real windows (original units) and ``n`` fresh samples, in eval mode."""
    import torch

    from tsgan.models.layers import plain_rnns

    if syn.model not in ("rcgan", "crnngan") or syn.conditions_ is not None:
        raise SystemExit(f"error: --critic reads unconditional rcgan and crnngan runs (one logit per step), not this {syn.model} run: drop --critic to rescore it")
    module = syn.module_
    critic = module.discriminator
    scaled = syn.codec_.transform(real[:n]).astype(np.float32)
    fake = syn.sample_scaled(n, seed=seed).astype(np.float32)
    module.eval()
    out = {}
    with torch.no_grad():
        for name, x in (("real", scaled), ("fake", fake)):
            x = torch.as_tensor(x, device=module.device)
            logits = critic.out(critic.features(x)).squeeze(-1).float()
            decision = torch.sigmoid(module.adversary.critic(x, None).float()).reshape(len(x), -1).mean(1)
            out[name] = {
                "logit_mean": float(logits.mean()), "logit_std": float(logits.std()),
                "saturated": float((logits.abs() > 5).float().mean()),
                "decision_mean": float(decision.mean()), "decision_std": float(decision.std()),
                "called_real": float((decision > 0.5).float().mean()),
            }
    for name, x in (("real", scaled), ("fake", fake)):
        # the critic's sharpness: |grad_x sum_t logit_t|^2 per window, R1's quantity
        # (a run whose critic's input gradients explode scores badly, README)
        x = torch.as_tensor(x, device=module.device).requires_grad_(True)
        with plain_rnns():
            (grad,) = torch.autograd.grad(module.adversary.critic(x, None).float().sum(), x)
        sq = grad.flatten(1).square().sum(1)
        r = out[name]
        r["grad_sq_median"], r["grad_sq_mean"] = float(sq.median()), float(sq.mean())
        print(f"{name}: per-step logits {r['logit_mean']:+.2f} ± {r['logit_std']:.2f}, saturated {r['saturated']:.2f}; "
              f"decision {r['decision_mean']:.3f} ± {r['decision_std']:.3f}, called real {r['called_real']:.2f}; "
              f"|grad_x|^2 median {r['grad_sq_median']:.3g}, mean {r['grad_sq_mean']:.3g}")
    out["accuracy"] = (out["real"]["called_real"] + 1 - out["fake"]["called_real"]) / 2
    print(f"accuracy {out['accuracy']:.3f} (chance .5)")
    return out


if __name__ == "__main__":
    main()
