"""Checkpoint selection: keep the generator's best weights seen during training.

A GAN's samples do not improve steadily: the post-hoc discriminative score of an
RCGAN on Sines went .157 -> .312 -> .288 -> .189 at 3,000 / 10,000 / 20,000 /
50,000 steps. :class:`CheckpointSelector` scores the generator every ``every``
steps of the last training phase (the adversarial one) with the PROTOCOL's
discriminative score against the *training* windows (the privacy holdout stays
unseen), keeps a copy of the weights with the lowest score, and restores them at
the end. Each check draws the same noise and trains the classifier from the same
seed, so checkpoints differ only by the generator. A post-hoc classifier now and
then fails to train and scores a near 0 whatever the samples (an RCGAN checkpoint on
Stocks scored .034 that way; three fresh classifiers gave it .48), so a checkpoint
that would become the best is scored again by a second classifier (another seed) and
counts with the larger of the two scores.

The score used to select is optimistic for the checkpoint it picks (the lowest of
several noisy estimates); score the restored model afresh (new samples, new
classifier seeds) to report it, as ``bench/reproduce.py`` does.

With ``keep=K`` the selector also keeps the weights of the K checkpoints with the
lowest checks (the best first), from which ``Synthesizer(select_ensemble=K)`` samples
an equal mixture: the self-ensemble of GAN checkpoints of Wang et al. ("Ensembles of
Generative Adversarial Networks", NIPS 2016 workshop). One check is a noisy estimate
(two classifiers on the same RCGAN samples of Sines read .073 and .133), so the
lowest check alone is partly luck. On RCGAN Sines a mixture of five scored better on
six of ten runs, and worse on one by much: the mean did not move (README, "Benchmarks").
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

from .averaging import WeightAverage, snapshot
from .data.windows import Windows
from .errors import TsganError
from .metrics.scores import discriminative_score

SELECT_WINDOWS = 2000  # real windows (and as many samples) each check scores
SEED_OFFSET = 1_000_003  # the checks' noise and classifier seeds: apart from a benchmark's scoring seeds (seed + repeat)


def pause_point(checked_steps: int, share: float, every: int) -> int:
    """Where a best-of-n candidate pauses (steps into the checked phase): the last check
    at or before ``share`` of that phase's ``checked_steps``."""
    into = int(share * checked_steps) // every * every
    if into < every:
        raise TsganError(
            f"--init-share {share} of the {checked_steps} checked steps holds no check every {every}: "
            "raise --init-share or --steps, or lower --select-every"
        )
    return into


CRITIC_TAIL = 0.1  # the gate of best-of-n reads a candidate's critic over the last tenth of its checked steps


def critic_level(history: Any, phase: str, steps: int | None = None) -> float:
    """A best-of-n candidate's critic level: the median critic loss (``d/loss``) over the
    last ``CRITIC_TAIL`` of the first ``steps`` steps it trained in ``phase`` (all of
    them by default). A critic far below its rivals' level is winning its game. NaN
    where the history logs no critic loss."""
    rows = history[history["phase"] == phase]
    if steps is not None:
        rows = rows.iloc[:steps]
    if "d/loss" not in rows or rows.empty:
        return float("nan")
    tail = rows["d/loss"].iloc[-max(1, int(round(CRITIC_TAIL * len(rows)))):]
    return float(tail.median())


def choose_candidate(best_checks: list[float], critic_levels: list[float], gate: float | None) -> int:
    """Which best-of-n candidate goes on: the lowest best check, among the candidates
    whose critic level is at least ``gate`` times the highest (with no gate, or a level
    that could not be read, every candidate). Ties go to the first."""
    eligible = list(range(len(best_checks)))
    known = [v for v in critic_levels if not np.isnan(v)]
    if gate is not None and known:
        top = max(known)
        eligible = [i for i in eligible if np.isnan(critic_levels[i]) or critic_levels[i] >= gate * top]
    return min(eligible, key=lambda i: best_checks[i])


def check_gate(gate: float | None) -> float | None:
    if gate is not None and not 0 < gate <= 1:
        raise TsganError(f"--init-gate must be in (0, 1] (got {gate}): e.g. --init-gate 0.6")
    return gate


def check_every(every: int) -> int:
    if every < 1:
        raise TsganError(f"--select-every must be a positive number of steps (got {every})")
    return every


def check_ensemble(k: int | None) -> int | None:
    if k is not None and k < 2:
        raise TsganError(f"--select-ensemble must be at least 2 checkpoints (got {k}): e.g. --select-ensemble 5")
    return k


class CheckpointSelector:
    """``train(..., monitors=[selector])``; then ``selector.restore()``.

    ``windows``: the scaled training windows, of which ``n`` are scored (with their
    per-step conditions for a conditional model: samples are drawn with them);
    ``phase``: the phase whose steps are checked (the schedule's last);
    ``average``: with weight averaging, the averaged weights are scored and kept;
    ``keep``: also keep the weights of the ``keep`` lowest checks (:meth:`kept_states`).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        windows: Windows,
        every: int,
        phase: str,
        seed: int = 0,
        n: int = SELECT_WINDOWS,
        iterations: int = 2000,
        average: WeightAverage | None = None,
        keep: int | None = None,
    ):
        check_every(every)
        chosen = windows.subset(np.sort(np.random.default_rng(seed).permutation(len(windows))[:n]))
        self.real, self.cond = chosen.array(), chosen.cond_array()
        self.model, self.every, self.phase, self.seed, self.iterations = model, every, phase, seed, iterations
        self.average, self.keep = average, check_ensemble(keep)
        # {"step": steps into the phase, "disc": the score it counts with[, "classifiers": both scores of a candidate]}
        self.scores: list[dict[str, float]] = []
        # the `keep` (without keep: 1) lowest checks as (score, step, weights), lowest first (ties: the earlier check)
        self.kept: list[tuple[float, int, dict[str, torch.Tensor]]] = []
        self._before_closing: tuple[list, list] | None = None  # the record before a check made only because training stopped

    @property
    def best(self) -> tuple[float, int, dict[str, torch.Tensor]] | None:
        """The lowest check so far as (score, step, weights); None before the first."""
        return self.kept[0] if self.kept else None

    def __call__(self, phase: str, done: int, last: bool) -> dict[str, float] | None:
        """Score at every ``every``-th step of the phase and at its last; the score is
        logged in the run's history as ``select/disc``."""
        if phase != self.phase or not (done % self.every == 0 or last):
            return None
        self._before_closing = None if done % self.every == 0 else (list(self.scores), list(self.kept))
        with self.average.swapped() if self.average is not None else nullcontext():
            return self.check(done)

    def check(self, done: int) -> dict[str, float]:
        """Score the weights now in the model; keep a copy if they are the best so far."""
        score = self.score()
        record: dict[str, Any] = {"step": done}
        if self.best is None or score < self.best[0]:  # a candidate: confirm it with a second classifier
            both = [score, self.score(second=True)]
            record["classifiers"] = [round(s, 4) for s in both]
            score = max(both)
        record["disc"] = round(score, 4)
        self.scores.append(record)
        keep = self.keep or 1
        if len(self.kept) < keep or score < self.kept[-1][0]:
            self.kept = sorted([*self.kept, (score, done, snapshot(self.model))], key=lambda k: (k[0], k[1]))[:keep]
        return {"select/disc": score}

    def state_dict(self) -> dict:
        """What a resumed run needs (tsgan.train's ``resume``): the scores so far and the
        kept copies, without the check made because training stopped early (a run that
        had not stopped would not have made it)."""
        scores, kept = self._before_closing or (self.scores, self.kept)
        return {"scores": scores, "kept": [{"disc": d, "step": k, "state": w} for d, k, w in kept]}

    def load_state_dict(self, state: dict) -> None:
        self.scores = list(state["scores"])
        kept = state.get("kept") or ([state["best"]] if state.get("best") else [])  # "best" alone: a checkpoint from before keep
        self.kept = [(k["disc"], k["step"], k["state"]) for k in kept]

    @torch.no_grad()
    def samples(self) -> np.ndarray:
        """As many samples as real windows, from the same noise at every check."""
        dev = next(self.model.parameters()).device
        rng = torch.Generator(device=dev).manual_seed(self.seed + SEED_OFFSET)
        cond = None if self.cond is None else torch.as_tensor(self.cond, device=dev)
        was_training = self.model.training
        self.model.eval()
        try:
            x = self.model.generate(len(self.real), rng, cond)
        finally:
            self.model.train(was_training)
        return x.float().cpu().numpy()

    def score(self, second: bool = False) -> float:
        """The discriminative score of this checkpoint's samples (``second``: by a
        classifier with another seed)."""
        with torch.random.fork_rng(devices=[]):  # the training run's global RNG stays untouched
            seed = self.seed + SEED_OFFSET + (1 if second else 0)
            return discriminative_score(self.real, self.samples(), iterations=self.iterations, seed=seed)

    def restore(self) -> dict[str, Any]:
        """Load the best weights into the model; the selection's record (for train_info).

        If training stopped before the checked phase, the weights stay as trained and
        the record says so."""
        if self.best is None:
            return {"every": self.every, "phase": self.phase, "scores": [],
                    "note": f"never checked: training stopped before its '{self.phase}' phase; the last weights are kept"}
        score, done, state = self.best
        self.model.load_state_dict(state)
        record = {"every": self.every, "phase": self.phase, "best_step": done, "best_disc": round(score, 4), "scores": self.scores}
        if self.keep:
            record["kept"] = [{"step": k, "disc": round(d, 4)} for d, k, _ in self.kept]
        return record

    def kept_states(self) -> list[dict[str, torch.Tensor]]:
        """The weights of the ``keep`` lowest checks, the best (:meth:`restore`'s) first."""
        return [w for _, _, w in self.kept]
