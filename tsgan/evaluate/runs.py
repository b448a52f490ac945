"""Score a target (a run directory, a synthetic file or array) against the real data,
whatever its data kind, and the lines a terminal shows of the scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import TsganError

SEQUENCE_KEYS = ("discriminative", "predictive", "fid", "precision", "recall", "correlational", "marginal_ks", "autocorrelation", "mmd")


def _sequences(real, target: Path, out_dir: Path, n, seed, force, metrics=None, reps=3, roles=(None, None, None),
               compare=None, privacy=False, **_) -> list[str]:
    import tsgan

    from .report import copies_warning, score_text
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
    published = any(name in str(real).lower() for name in ("sines", "stock"))  # the papers' rows say nothing of other data
    scores = run_evaluation(r, s, columns, out_dir, metrics, reps, history, title=f"tsgan evaluation: {target}", force=force,
                            privacy=priv, published=published)
    verdicts = scores.get("verdicts", {})
    lines = [f"{key:16} {score_text(scores[key])}" + (f"  [{verdicts[key]['text']}]" if key in verdicts else "")
             for key in SEQUENCE_KEYS if key in scores]
    if "overall" in scores:
        lines.append(f"overall: {scores['overall']['text']} (each score against a real-vs-real floor and shuffled data: report)")
    warning = copies_warning(scores)
    return lines + ([warning] if warning else [])


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


def privacy_of_file(synth_path, real, holdout=None, roles=(None, None, None), n: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Privacy checks (:mod:`tsgan.privacy`) of a synthetic file (long format as ``tsgan sample`` writes, or a
    ``.npy`` array) against the real data: copies only, or with ``holdout`` (real
    records the generator never saw) every check of :func:`privacy_metrics`."""
    from ..data import MinMaxScaler, Windows, to_series
    from ..data.kinds import Roles, load_data
    from ..privacy import copy_check, privacy_metrics
    from .sequences import load_pair

    real_w, synth_w, columns, _ = load_pair(real, synth_path, n, seed, *roles)
    if holdout is None:
        out = copy_check(real_w, synth_w, seed=seed)
        out["note"] = "no held-out data (--holdout-data): copies only; the membership attacks need real records the generator never saw"
        return out
    seq_len = synth_w.shape[1]

    def series(source):
        frame, r = load_data(source, Roles(*roles))
        return to_series(frame, seq_len, 1, r.time_column, r.id_column, r.condition_columns)

    train, hold = series(real), series(holdout)
    if hold.spec.columns != train.spec.columns:
        raise TsganError(f"the held-out data's columns {hold.spec.columns} differ from the real data's {train.spec.columns}: pass data of the same table")
    scaler = MinMaxScaler().fit(train.base)
    hold_w = Windows.from_lengths(scaler.transform(hold.base), hold.lengths, seq_len, 1).array()
    return privacy_metrics(real_w, hold_w, synth_w, seed=seed)


def _entities(real, target: Path, out_dir: Path, n, seed, force, roles=(None, None, None), privacy=False, **_) -> list[str]:
    """An entity run (or a synthetic table in the real data's own format, with the id
    and time columns given) scored against the real table."""
    import tsgan

    from ..data.kinds import Roles, load_data
    from ..data.io import read_table
    from .entities import run_entity_evaluation, score_lines

    time_column, id_column = roles[0], roles[1]
    static = None
    priv = None
    if target.is_dir():
        syn = tsgan.load(target)
        id_column, time_column = syn.spec_.id_column, syn.spec_.time_column
        static = [c for c, r in syn.spec_.roles.items() if r.startswith("static")]
        frame = load_data(real, Roles(time_column, id_column))[0]
        synth = syn.sample(n or 2 * frame[id_column].nunique(), seed=seed)
        if privacy and syn.split_.get("holdout"):
            priv = syn.privacy(real, seed=seed)
    else:
        if id_column is None:
            raise TsganError("scoring a synthetic entity table needs its id column: pass --id-column (and --time-column)")
        frame = load_data(real, Roles(time_column, id_column))[0]
        synth = read_table(target)
        absent = [c for c in frame.columns if c not in synth.columns]
        if absent:
            raise TsganError(f"the synthetic table lacks the real table's column '{absent[0]}': pass a table of the same schema")
        synth = synth[list(frame.columns)]
    result = run_entity_evaluation(frame, synth, id_column, time_column, out_dir, static, seed, f"tsgan evaluation: {target}",
                                   priv, force)
    return score_lines(result)


EVALUATORS = {"sequence": _sequences, "table": _table, "image": _images, "entity": _entities}


def evaluate_target(real: Any, target: str | Path, out_dir: str | Path, **options: Any) -> list[str]:
    """Score ``target`` against ``real`` into ``out_dir`` (``metrics.json``, ``report.html``);
    returns the lines to print. A run directory is scored by its model's data kind;
    a file or array is taken as sequences."""
    import json

    from ..rundir import META_FILE

    target = Path(target)
    roles = options.get("roles") or (None, None, None)
    kind = "sequence"
    if not target.is_dir() and roles[1] is not None and options.get("entities", True) and _long_table(target):
        kind = "entity"  # a table in the real data's own format, with its id column named
    if target.is_dir() and (target / META_FILE).exists():
        try:
            meta = json.loads((target / META_FILE).read_text())
            kind = meta.get("kind") if isinstance(meta, dict) else None
        except (ValueError, UnicodeDecodeError):
            kind = None
        if kind not in EVALUATORS:  # loading says what is wrong with the run, in one line
            from .. import load

            kind = load(target).kind
    return EVALUATORS[kind](real, target, Path(out_dir), **options)


def _long_table(target: Path) -> bool:
    """A CSV/Parquet that is not ``tsgan sample``'s window format (``sequence_id``, ``step``)."""
    from ..data.io import read_table

    if not target.exists() or target.suffix.lower() not in (".csv", ".tsv", ".txt", ".parquet", ".pq"):
        return False
    head = read_table(target).columns
    return not ("sequence_id" in head and "step" in head)
