"""What best of K initialisations (``--n-init K``) scores, computed exactly from full runs.

A best-of-K run pauses K candidate seeds on the check at ``--init-share`` of the checked
phase, keeps the one whose best check so far is lowest, and resumes it; the result is
exactly that seed's uninterrupted run (tests/test_best_of.py). With ``--gate G``
(``--init-gate``) the candidates whose critic level at the pause (their median critic
loss over the last tenth of their stretch, read from each run's ``history.csv``) is
below G times the highest are passed over first. So, given full runs of
seeds s_1 .. s_m with checkpoint selection (their ``tsgan.json`` records every check)
and a fresh score of each (``bench/rescore.py``), the score of best-of-K over any K of
those seeds is the fresh score of the seed it would pick: no training needed. This
prints, for each K and share, the mean over every K-subset of the seeds (each subset is
one best-of-K run, with its seeds in any order; ties go to the first seed), next to
the plain mean over seeds, and the training it costs (``K x share + 1 - share`` runs).

    python bench/best_of.py --run /tmp/b13/s1/run /tmp/b13/rescore-s1.json --run ... --k 2,3 --share 0.5 --gate 0.6

``--sets`` / ``--reps`` score every seed on the first sets and repeats of its rescore
only, so rescores of different sizes compare like for like.
Results: printed, and the file given by ``--out`` (default bench/results/best-of.json).
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tsgan.errors import TsganError
from tsgan.selection import check_gate, choose_candidate, critic_level, pause_point

HERE = Path(__file__).resolve().parent


def seed_record(run: Path, rescore: Path, sets: int | None, reps: int | None, history: bool = False) -> dict:
    """A full run's seed, checks and checked-phase length, with its fresh score (and,
    with ``history``, its per-step history, which the gate reads)."""
    try:
        train = json.loads((run / "tsgan.json").read_text())["train"]
        scored = json.loads(rescore.read_text())
    except (OSError, json.JSONDecodeError, KeyError) as e:
        raise SystemExit(f"error: cannot read the run {run} or its rescore {rescore} ({e}): pass a fitted run folder and its rescore.py JSON")
    sel = train.get("selection") or {}
    if train.get("stopped") != "steps" or not sel.get("scores"):
        raise SystemExit(f"error: {run} is not a finished run with checkpoint selection: fit it to its --steps with --select-every")
    disc = [v[:reps] for _, v in sorted(scored["disc"].items(), key=lambda kv: int(kv[0]))][:sets]
    return {
        "history": pd.read_csv(run / "history.csv") if history and (run / "history.csv").exists() else None, "phase": sel["phase"],
        "seed": train["seed"], "every": sel["every"], "checked_steps": train["phases"][sel["phase"]],
        "checks": {c["step"]: c["disc"] for c in sel["scores"]},
        "score": float(np.mean(np.concatenate(disc))), "repeats": int(sum(map(len, disc))),
        "pred": scored.get("pred_mean"),
    }


def best_of(records: list[dict], k: int, share: float, gate: float | None = None) -> dict:
    """The mean fresh score of best-of-k over every k-subset of ``records``."""
    pause = {id(r): pause_point(r["checked_steps"], share, r["every"]) for r in records}
    best = {id(r): min(v for step, v in r["checks"].items() if step <= pause[id(r)]) for r in records}
    level = {}
    for r in records:
        if gate is not None and r.get("history") is None:
            raise SystemExit(f"error: --gate reads each run's history.csv, and seed {r['seed']}'s run has none: pass full run folders")
        level[id(r)] = critic_level(r["history"], r["phase"], pause[id(r)]) if gate is not None else float("nan")

    def pick(group):
        return group[choose_candidate([best[id(r)] for r in group], [level[id(r)] for r in group], gate)]

    def mean_over_subsets(rs):
        return float(np.mean([pick(group)["score"] for group in itertools.combinations(rs, k)]))

    picked = [pick(group)["score"] for group in itertools.combinations(records, k)]
    # the mean's uncertainty over which seeds were drawn: the jackknife, leaving one seed out
    m = len(records)
    drop_one = [mean_over_subsets(records[:i] + records[i + 1:]) for i in range(m)] if m > k else []
    se = float(np.sqrt((m - 1) / m * np.sum((np.array(drop_one) - np.mean(drop_one)) ** 2))) if drop_one else None
    return {"k": k, "share": share, "gate": gate, "subsets": len(picked), "mean": float(np.mean(picked)), "jackknife_se": se, "median": float(np.median(picked)),
            "share_at_or_under_022": float(np.mean(np.array(picked) <= 0.022)), "cost_runs": k * share + 1 - share,
            "best_check_at_pause": {str(r["seed"]): best[id(r)] for r in records},
            "critic_level_at_pause": {str(r["seed"]): level[id(r)] for r in records} if gate is not None else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", nargs=2, action="append", metavar=("RUN_DIR", "RESCORE_JSON"), required=True,
                    help="a full run with --select-every and its bench/rescore.py result (repeat per seed)")
    ap.add_argument("--k", default="2,3", help="candidates per run, comma-separated (e.g. 2,3)")
    ap.add_argument("--share", default="0.5", help="--init-share values, comma-separated (e.g. 0.3,0.5)")
    ap.add_argument("--gate", default="none", help="--init-gate values, comma-separated, 'none' for no gate (e.g. none,0.6)")
    ap.add_argument("--sets", type=int, default=None, help="score on each rescore's first N sample sets only")
    ap.add_argument("--reps", type=int, default=None, help="score on each set's first N repeats only")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "best-of.json")
    args = ap.parse_args()
    try:
        ks = [int(v) for v in args.k.split(",")]
        shares = [float(v) for v in args.share.split(",")]
        gates = [None if v.strip() == "none" else float(v) for v in args.gate.split(",")]
    except ValueError:
        raise SystemExit(f"error: --k, --share and --gate take comma-separated numbers (got {args.k!r}, {args.share!r}, {args.gate!r}): "
                         "e.g. --k 2,3 --share 0.5 --gate none,0.6") from None
    try:
        for g in gates:
            check_gate(g)
    except TsganError as e:
        raise SystemExit(f"error: {e}") from None
    gated = any(g is not None for g in gates)
    records = [seed_record(Path(r), Path(s), args.sets, args.reps, history=gated) for r, s in args.run]
    if len({r["seed"] for r in records}) != len(records):
        raise SystemExit("error: two runs have the same seed: pass each seed's run once")
    if any(not 1 <= k <= len(records) for k in ks) or any(not 0 < s < 1 for s in shares):
        raise SystemExit(f"error: --k must lie in 1..{len(records)} (the runs given) and --share between 0 and 1")
    scores = np.array([r["score"] for r in records])
    one_se = float(scores.std(ddof=1) / np.sqrt(len(scores))) if len(scores) > 1 else None
    print("seed  score  " + "  ".join(f"best check to {s:.0%}" for s in shares))
    rows = [best_of(records, k, s, g) for k in ks for s in shares for g in gates]
    for r in records:
        print(f"{r['seed']:>4}  {r['score']:.3f}  " + "  ".join(f"{best_of([r], 1, s)['best_check_at_pause'][str(r['seed'])]:>17.3f}" for s in shares))
    print(f"one seed each: mean {scores.mean():.4f}" + ("" if one_se is None else f" ± {one_se:.4f}") + f", median {np.median(scores):.4f}, {np.mean(scores <= 0.022):.0%} at or under .022 "
          f"({len(records)} seeds, {records[0]['repeats']} scoring repeats each)")
    for row in rows:
        se = "" if row["jackknife_se"] is None else f" ± {row['jackknife_se']:.4f} (jackknife over seeds)"
        gated = "" if row["gate"] is None else f", gate {row['gate']}"
        print(f"best of {row['k']} at share {row['share']}{gated}: mean {row['mean']:.4f}{se}, median {row['median']:.4f}, "
              f"{row['share_at_or_under_022']:.0%} at or under .022 over {row['subsets']} subsets; costs {row['cost_runs']:.2f} runs")
    out = {"command": "python " + shlex.join(sys.argv), "seeds": records, "one_seed_mean": float(scores.mean()), "one_seed_se": one_se,
           "one_seed_median": float(np.median(scores)), "best_of": rows}
    for r in out["seeds"]:
        del r["history"]
        r["checks"] = {str(k): v for k, v in r["checks"].items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()
