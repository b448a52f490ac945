"""Score a target (a run directory, a synthetic file or array) against the real data,
whatever its data kind, and the lines a terminal shows of the scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import TsganError

SEQUENCE_KEYS = ("discriminative", "predictive", "fid", "precision", "recall", "correlational", "marginal_ks", "autocorrelation", "mmd")


def _sequences(real, target: Path, out_dir: Path, n, seed, force, metrics=None, reps=1, roles=(None, None, None),
               compare=None, privacy=False, **_) -> list[str]:
    import tsgan

    from .sequences import load_pair, run_evaluation

    r, s, columns, history = load_pair(real, target, n, seed, *roles)
    if compare:
        runs = [target, *compare] if history is not None else list(compare)
        history = {}
        for run in runs:
            other = tsgan.load(run)
            history[f"{Path(run).name}: {other.model}, objective {getattr(other.config_, 'objective', '?')}"] = other.history_
    priv = None
    if privacy and target.is_dir():
        syn = tsgan.load(target)
        priv = syn.privacy(real, seed=seed) if syn.split_.get("holdout") else None
    scores = run_evaluation(r, s, columns, out_dir, metrics, reps, history, title=f"tsgan evaluation: {target}", force=force, privacy=priv)
    lines = []
    for key in SEQUENCE_KEYS:
        if key in scores:
            v = scores[key]
            text = v.get("skipped") if isinstance(v, dict) and "skipped" in v else (f"{v['mean']:.4f} ± {v['std']:.4f}" if isinstance(v, dict) else f"{v:.4f}")
            lines.append(f"{key:16} {text}")
    return lines


def _table(real, target: Path, out_dir: Path, n, seed, force, table_target=None, **_) -> list[str]:
    import tsgan

    from ..data.kinds import load_data
    from .others import run_table_evaluation

    syn = tsgan.load(target)
    frame = load_data(real)[0]
    synth = syn.sample(n or len(frame), seed=seed)
    scores = run_table_evaluation(frame, synth, out_dir, syn.history_, table_target, title=f"tsgan evaluation: {target}", force=force)
    t = scores["tstr"]
    return [f"{'detection_auc':16} {scores['detection_auc']:.4f}   (0.5 = indistinguishable)",
            f"{'tstr':16} {t['tstr']:.4f}   (train real: {t['trtr']:.4f}; {t['target']}, {t['task']})",
            f"{'marginal':16} {scores['marginal_similarity']:.4f}", f"{'pairs':16} {scores['pair_similarity']:.4f}"]


def _images(real, target: Path, out_dir: Path, n, seed, force, **_) -> list[str]:
    import tsgan

    from ..data.images import load_images
    from .others import run_image_evaluation

    syn = tsgan.load(target)
    images, _, _ = load_images(real, syn.spec_.size)
    if images.shape[1] != syn.spec_.channels:
        raise TsganError(f"the real images have {images.shape[1]} channels, the run makes {syn.spec_.channels}: pass the training images")
    synth = syn.sample_array(n or min(len(images), 10_000), seed=seed)
    scores = run_image_evaluation(images, synth, out_dir, syn.history_, title=f"tsgan evaluation: {target}", force=force)
    return [f"{key:16} {scores[key]:.4f}" for key in ("fid", "precision", "recall", "density", "coverage")]


EVALUATORS = {"sequence": _sequences, "table": _table, "image": _images}


def evaluate_target(real: Any, target: str | Path, out_dir: str | Path, **options: Any) -> list[str]:
    """Score ``target`` against ``real`` into ``out_dir`` (``metrics.json``, ``report.html``);
    returns the lines to print. A run directory is scored by its model's data kind;
    a file or array is taken as sequences."""
    import json

    from ..rundir import META_FILE

    target = Path(target)
    kind = "sequence"
    if target.is_dir() and (target / META_FILE).exists():
        meta = json.loads((target / META_FILE).read_text())
        kind = meta.get("kind", "sequence")
    return EVALUATORS[kind](real, target, Path(out_dir), **options)
