"""Checkpoint selection: keep the generator's best weights seen during training.

A GAN's samples do not improve steadily: the post-hoc discriminative score of one
run wanders up and down from one checkpoint to the next. :class:`CheckpointSelector`
scores the generator every ``every`` steps of the last training phase with the
discriminative score (docs/evaluation.md) against the *training* windows (the privacy
holdout stays unseen), keeps a copy of the weights with the lowest score, and restores
them at the end. Each check draws the same noise and trains the classifier from the
same seed, so checkpoints differ only by the generator. A post-hoc classifier now and
then fails to train and scores near 0 whatever the samples, so a checkpoint that
would become the best is scored again by a second classifier (another seed) and
counts with the larger of the two scores; a classifier that told the samples apart
and then collapsed reads .5 (:func:`tsgan.metrics.scores.discriminative_check`).

The score used to select is optimistic for the checkpoint it picks (the lowest of
several noisy estimates): score the restored model afresh (new samples, new
classifier seeds) to report it.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

from ..data.windows import Windows
from ..errors import TsganError
from ..metrics.scores import discriminative_check
from ..torch_utils import snapshot
from .averaging import WeightAverage
from .callbacks import Callback

SELECT_WINDOWS = 2000  # real windows (and as many samples) each check scores
CHECK_ITERATIONS = 2000  # training iterations of each check's classifier
SEED_OFFSET = 1_000_003  # the checks' noise and classifier seeds: apart from a benchmark's scoring seeds (seed + repeat)


def check_every(every: int) -> int:
    if every < 1:
        raise TsganError(f"select_every must be a positive number of steps (got {every}): e.g. --param select_every=500")
    return every


class CheckpointSelector(Callback):
    """``train(..., callbacks=[average, selector])``; then ``selector.restore()``.

    ``windows``: the scaled training windows, of which ``n`` are scored (with their
    per-step conditions for a conditional model: samples are drawn with them);
    ``phase``: the phase whose steps are checked (the schedule's last);
    ``average``: with weight averaging, the averaged weights are scored and kept
    (it must come before the selector in the callbacks, so the average is updated first).
    """

    name = "selection"

    def __init__(
        self,
        model: torch.nn.Module,
        windows: Windows,
        every: int,
        phase: str,
        seed: int = 0,
        n: int = SELECT_WINDOWS,
        iterations: int | None = None,
        average: WeightAverage | None = None,
    ):
        check_every(every)
        chosen = windows.subset(np.sort(np.random.default_rng(seed).permutation(len(windows))[:n]))
        self.real, self.cond = chosen.array(), chosen.cond_array()
        self.model, self.every, self.phase, self.seed = model, every, phase, seed
        self.iterations = iterations or CHECK_ITERATIONS
        self.average = average
        # {"step": steps into the phase, "disc": the score it counts with[, "classifiers": both scores of a candidate]}
        self.scores: list[dict[str, float]] = []
        # the lowest check as (score, step, weights) (ties: the earlier check); None before the first
        self.best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        self._before_closing: tuple[list, Any] | None = None  # the record before a check made only because training stopped

    def after_step(self, run, phase: str, done: int, last: bool) -> dict[str, float] | None:
        """Score at every ``every``-th step of the phase and at its last (when a check came
        before); the score is logged in the run's history as ``select/disc``."""
        # at the phase's end too, once there is a check to compare with
        if phase != self.phase or not (done % self.every == 0 or (last and done > self.every)):
            return None
        self._before_closing = None if done % self.every == 0 else (list(self.scores), self.best)
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
        if self.best is None or score < self.best[0]:
            self.best = (score, done, snapshot(self.model))
        return {"select/disc": score}

    def state_dict(self) -> dict:
        """What a resumed run needs (``train(..., resume=...)``): the scores so far and
        the best copy, without the check made because training stopped early (a run
        that had not stopped would not have made it)."""
        scores, best = self._before_closing or (self.scores, self.best)
        return {"scores": scores, "kept": [] if best is None else [{"disc": best[0], "step": best[1], "state": best[2]}]}

    def load_state_dict(self, state: dict) -> None:
        self.scores = list(state["scores"])
        kept = state.get("kept") or ([state["best"]] if state.get("best") else [])  # format 1 kept K; the first is the best
        self.best = (kept[0]["disc"], kept[0]["step"], kept[0]["state"]) if kept else None

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
            return discriminative_check(self.real, self.samples(), iterations=self.iterations, seed=seed)

    def restore(self) -> dict[str, Any]:
        """Load the best weights into the model; the selection's record (for train_info).

        If training stopped before the checked phase, the weights stay as trained and
        the record says so."""
        if self.best is None:
            return {"every": self.every, "phase": self.phase, "scores": [],
                    "note": f"no checkpoint was checked: training ended before the first check of its '{self.phase}' "
                            f"phase (every {self.every} steps); the last weights are kept"}
        score, done, state = self.best
        self.model.load_state_dict(state)
        return {"every": self.every, "phase": self.phase, "best_step": done, "best_disc": round(score, 4), "scores": self.scores}
