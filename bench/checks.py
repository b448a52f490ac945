"""Experiments on every checked checkpoint of a run (README, "Benchmarks", RCGAN Sines).

``--select-every`` keeps the best-checked weights (``--select-ensemble K``: the K best);
the post-hoc experiments in the README need the weights of every check. Three steps:

    # tsgan fit, also saving the weights each check scored to CHECKS/check-STEP.pt
    python bench/checks.py fit CHECKS sines --model rcgan --seq-len 24 --seed 2 --steps 20000 --holdout 0 \\
        --select-every 500 --ema 0.999 --lr-decay 0.5 --out RUN -q
    # a run folder from those weights: one check's, the K lowest checks' mixture (what
    # --select-ensemble K keeps), or the uniform average of the checks within W steps of the best
    python bench/checks.py build RUN CHECKS --out DIR --step 9500 | --mixture 5 | --window 1000
    # score every check from step S afresh: R classifiers on as many samples as real windows
    python bench/checks.py score RUN CHECKS --data sines --from 5000 --reps 3 --out FILE

A check scores the weights it would keep (with ``--ema``, the moving average), so
``check-STEP.pt`` of the best check equals the run's ``model.pt``; ``build`` refuses
weights that do not. Score a built folder with ``bench/rescore.py DIR``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

import tsgan
import tsgan.selection
from tsgan.api import _members
from tsgan.errors import TsganError

CHECK = "check-{}.pt"


def fit(checks: Path, cli_args: list[str]) -> None:
    """``tsgan fit CLI_ARGS``, saving the weights of every check to ``checks``."""
    checks.mkdir(parents=True, exist_ok=True)
    check = tsgan.selection.CheckpointSelector.check

    def check_and_save(self, done):
        out = check(self, done)
        torch.save(tsgan.selection.snapshot(self.model), checks / CHECK.format(done))
        return out

    tsgan.selection.CheckpointSelector.check = check_and_save
    from tsgan_cli.main import main

    sys.argv = ["tsgan", "fit", *cli_args]
    try:
        main()
    finally:
        tsgan.selection.CheckpointSelector.check = check


def _check_weights(checks: Path, step: int) -> dict[str, torch.Tensor]:
    path = checks / CHECK.format(step)
    if not path.exists():
        raise TsganError(f"no weights for the check at step {step} in {checks}: pass the folder `checks.py fit` wrote")
    return torch.load(path, map_location="cpu", weights_only=True)


def build(run: Path, checks: Path, out: Path, step: int | None = None, mixture: int | None = None, window: int | None = None) -> tsgan.Synthesizer:
    """A run folder at ``out`` whose weights come from the saved checks (one of ``step``,
    ``mixture``, ``window``)."""
    if sum(x is not None for x in (step, mixture, window)) != 1:
        raise TsganError("build needs one of --step S, --mixture K, --window W")
    syn = tsgan.load(run)
    sel = syn.train_info_.get("selection") or {}
    if "best_step" not in sel:
        raise TsganError(f"{run} has no checks: fit it with --select-every (checks.py fit)")
    if not all(torch.equal(a, syn.module_.state_dict()[k]) for k, a in _check_weights(checks, sel["best_step"]).items()):
        raise TsganError(f"the best check's weights in {checks} are not {run}'s model.pt: pass the checks saved with this run")
    ranked = sorted(sel["scores"], key=lambda r: (r["disc"], r["step"]))  # the selector's order: ties to the earlier check
    if window is not None:
        near = [r["step"] for r in sel["scores"] if abs(r["step"] - sel["best_step"]) <= window]
        states = [_check_weights(checks, s) for s in near]
        weights = {k: torch.stack([s[k].float() for s in states]).mean(0).to(v.dtype) if v.is_floating_point() else v for k, v in states[0].items()}
        built = {"window": window, "averaged_steps": near}
    else:
        members = [step] if step is not None else [r["step"] for r in ranked[:mixture]]
        states = [_check_weights(checks, s) for s in members]
        weights = states[0]
        built = {"steps": members}
    syn.module_.load_state_dict(weights)
    syn.ensemble_ = _members(syn.module_, states[1:]) if mixture and mixture > 1 else None
    syn.select_ensemble = mixture if mixture and mixture > 1 else None
    if syn.select_ensemble:
        sel["kept"] = [{"step": r["step"], "disc": r["disc"]} for r in ranked[:mixture]]
    else:
        sel.pop("kept", None)
    syn.train_info_["built_from_checks"] = built
    syn.save(out, force=True)
    return syn


def score_checks(syn: tsgan.Synthesizer, checks: Path, real: np.ndarray, to_score, start: int = 0, reps: int = 3,
                 sample_seed: int = 7, iterations: int = 2000) -> dict[int, dict]:
    """Every saved check from step ``start``: ``reps`` discriminative scores (classifier
    seeds 100, 101, ...) of ``len(real)`` samples (``sample_seed``) against ``real``."""
    from tsgan.metrics import discriminative_score

    checked = {r["step"]: r["disc"] for r in syn.train_info_["selection"]["scores"]}
    syn.ensemble_ = None  # one check's weights at a time
    out = {}
    for step in sorted(s for s in checked if s >= start and (checks / CHECK.format(s)).exists()):
        syn.module_.load_state_dict(_check_weights(checks, step))
        synth = to_score(syn.sample(len(real), seed=sample_seed)).astype(np.float32)
        scores = [discriminative_score(real, synth, iterations=iterations, seed=100 + r) for r in range(reps)]
        out[step] = {"check": checked[step], "scores": scores, "mean": float(np.mean(scores))}
        print(f"step {step}: its check {checked[step]:.4f}, scored {np.mean(scores):.4f} {np.round(scores, 3).tolist()}", flush=True)
    return out


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "fit":  # everything after CHECKS goes to tsgan fit as typed
        fit(Path(sys.argv[2]), sys.argv[3:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fit", help="checks.py fit CHECKS DATA [tsgan fit options]: tsgan fit, saving every check's weights")
    b = sub.add_parser("build", help="a run folder from saved check weights")
    s = sub.add_parser("score", help="score every saved check afresh")
    for p in (b, s):
        p.add_argument("run", type=Path)
        p.add_argument("checks", type=Path)
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--step", type=int)
    b.add_argument("--mixture", type=int)
    b.add_argument("--window", type=int)
    s.add_argument("--data", choices=("sines", "stocks"), required=True)
    s.add_argument("--from", dest="start", type=int, default=0)
    s.add_argument("--reps", type=int, default=3)
    s.add_argument("--threads", type=int, default=None)
    s.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    try:
        if args.cmd == "build":
            build(args.run, args.checks, args.out, args.step, args.mixture, args.window)
            print(f"built {args.out}")
            return
        if args.threads:
            torch.set_num_threads(args.threads)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from reproduce import load_real

        _, real, to_score, _ = load_real(args.data)
        scored = score_checks(tsgan.load(args.run), args.checks, real, to_score, args.start, args.reps)
    except TsganError as e:
        raise SystemExit(f"error: {e}") from None
    if scored:
        first = min(scored, key=lambda k: (scored[k]["scores"][0], k))
        mean = min(scored, key=lambda k: (scored[k]["mean"], k))
        print(f"lowest first classifier: step {first}; lowest mean of {args.reps}: step {mean}")
    args.out.write_text(json.dumps({"command": "python " + shlex.join(sys.argv), "checks": scored}, indent=1))
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()
