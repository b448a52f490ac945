"""`tsgan`: a thin typer shell over tsgan's API.

Bad input raises :class:`tsgan.TsganError`; ``main`` prints its one-line message
to stderr and exits with status 2, without a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Time-series GANs: fit a generator on your series, sample synthetic ones.",
)
out = Console(soft_wrap=True)  # long lines stay whole in logs and pipes; the terminal wraps them
err = Console(stderr=True, soft_wrap=True)


def _default_run_dir(data: str, model: str) -> Path:
    """runs/<data>-<model>[-k]: a new directory, never an existing one."""
    stem = Path(data).stem if not isinstance(data, str) or Path(data).suffix else Path(data).name
    base = Path("runs") / f"{stem}-{model}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


@app.command()
def fit(
    data: str = typer.Argument(..., metavar="DATA", help="CSV/Parquet file, image folder or .npy (image models), or a built-in name (see `tsgan datasets`)"),
    model: str = typer.Option("rcgan", "--model", "-m", help="model name (see `tsgan models`)"),
    objective: Optional[str] = typer.Option(None, "--objective", help="minimax, nonsaturating, wgan, wgan-gp or hinge (default: the model's paper)"),
    seq_len: int = typer.Option(24, "--seq-len", help="window length in time steps"),
    stride: int = typer.Option(1, "--stride", help="steps between consecutive window starts"),
    steps: int = typer.Option(1000, "--steps", help="training steps (all phases together)"),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="stop training after this many minutes"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="windows per batch (default: the model's)"),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="model parameter key=value (repeatable)"),
    seed: int = typer.Option(0, "--seed", help="random seed: same seed, same model"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="run directory to create (default: runs/<data>-<model>)"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing run directory"),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda"),
    precision: str = typer.Option(
        "32", "--precision", help="32, or bf16 for mixed precision (matrix products in bfloat16: faster on CPUs with AVX512-BF16/AMX and on GPUs)"
    ),
    time_column: Optional[str] = typer.Option(None, "--time-column", help="column that orders rows (not modelled)"),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="column that names entities (panel data)"),
    condition_column: Optional[List[str]] = typer.Option(
        None, "--condition-column", "-c", help="condition on this column (label or attribute, per sequence or per step; repeatable)"
    ),
    holdout: Optional[float] = typer.Option(
        None, "--holdout", help="share held out of training for privacy checks, by entity or final time block (default 0.2 when the data allows; 0 = off)"
    ),
    dp_epsilon: Optional[float] = typer.Option(None, "--dp-epsilon", help="train with DP-SGD (opacus) to this epsilon (per window)"),
    dp_delta: Optional[float] = typer.Option(None, "--dp-delta", help="DP delta (default 1 / (10 x training windows))"),
    dp_noise: Optional[float] = typer.Option(None, "--dp-noise", help="DP-SGD noise multiplier instead of a target epsilon"),
    dp_max_grad_norm: float = typer.Option(1.0, "--dp-max-grad-norm", help="DP-SGD per-sample gradient clip"),
    image_size: Optional[int] = typer.Option(None, "--image-size", help="image models: resize images to N x N (8-64)"),
    select_every: Optional[int] = typer.Option(
        None, "--select-every", help="sequence models: score the generator every N steps of its last phase, keep the best checkpoint"
    ),
    select_ensemble: Optional[int] = typer.Option(
        None, "--select-ensemble", help="with --select-every: sample from an equal mixture of the N best-checked checkpoints (e.g. 5)"
    ),
    ema: Optional[float] = typer.Option(
        None, "--ema", help="sample from a moving average of the last phase's weights with this decay (e.g. 0.999)"
    ),
    lr_decay: Optional[float] = typer.Option(
        None, "--lr-decay", help="decay every learning rate linearly towards zero over this share of the last phase (e.g. 0.5)"
    ),
    n_init: int = typer.Option(
        1, "--n-init", help="best of N initialisations: N candidates (seeds SEED..SEED+N-1) train --init-share of the checked phase; "
        "the one with the best --select-every check goes on (needs --select-every)"
    ),
    init_share: float = typer.Option(0.5, "--init-share", help="with --n-init: the share of the checked phase each candidate trains"),
    init_gate: Optional[float] = typer.Option(
        None, "--init-gate", help="with --n-init: pass over candidates whose critic loss is below this share of the highest "
        "candidate's (a critic winning its game; e.g. 0.6)"
    ),
    checkpoint_minutes: Optional[float] = typer.Option(
        None, "--checkpoint-minutes", help="save the run, resumable, every this many minutes of training (`tsgan resume` after a crash)"
    ),
    sample_n: int = typer.Option(0, "--sample", help="also write this many synthetic sequences to RUN_DIR/synthetic.csv"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
    evaluate_after: bool = typer.Option(False, "--evaluate", help="then score the run against DATA into RUN_DIR/report"),
) -> None:
    """Fit a model on DATA and save the run directory."""
    from tsgan import Synthesizer
    from tsgan.api import ensure_writable_dir, get_model_class
    from tsgan.config import parse_key_values

    get_model_class(model)
    params = parse_key_values(param)
    if batch_size is not None:
        params["batch_size"] = batch_size
    if objective is not None:
        params["objective"] = objective
    run_dir = out_dir if out_dir is not None else _default_run_dir(data, model)
    ensure_writable_dir(run_dir, force)  # fail before training, not after
    syn = Synthesizer(
        model=model, seq_len=seq_len, stride=stride, seed=seed, steps=steps, max_minutes=max_minutes,
        device=device, precision=precision, progress=not quiet and sys.stderr.isatty(), holdout=holdout, image_size=image_size,
        dp_epsilon=dp_epsilon, dp_delta=dp_delta, dp_noise=dp_noise, dp_max_grad_norm=dp_max_grad_norm, select_every=select_every, ema=ema, lr_decay=lr_decay,
        select_ensemble=select_ensemble, n_init=n_init, init_share=init_share, init_gate=init_gate, **params,
    )
    syn.fit(
        data, time_column=time_column, id_column=id_column, condition_columns=condition_column or None,
        checkpoint_dir=None if checkpoint_minutes is None else run_dir, checkpoint_minutes=10.0 if checkpoint_minutes is None else checkpoint_minutes, force=force,
    )
    if checkpoint_minutes is None:  # with checkpoints, fit saved the finished run there itself
        syn.save(run_dir, force=force)
    _report_fit(syn, run_dir)
    if sample_n and syn.kind == "image":
        from tsgan.data.images import save_images

        target = save_images(syn.sample(sample_n, seed=seed), run_dir / "synthetic.png")
        out.print(f"synthetic images ({sample_n}) written to {target}")
    elif sample_n:
        target = run_dir / "synthetic.csv"
        _write_table(syn.sample_frame(sample_n, seed=seed), target, force=True)
        out.print(f"synthetic data ({sample_n} {'rows' if syn.kind == 'table' else 'sequences'}) written to {target}")
    if evaluate_after and syn.kind == "image":
        _evaluate_images(data, run_dir, run_dir / "report", None, seed, True)
    elif evaluate_after and syn.kind == "table":
        _evaluate_table(data, run_dir, run_dir / "report", None, seed, True, None)
    elif evaluate_after:
        from tsgan.evaluate import load_pair, run_evaluation

        r, s, columns, history = load_pair(data, run_dir, None, seed, time_column, id_column, condition_column or None)
        priv = syn.privacy(seed=seed) if syn.split_.get("holdout") else None
        run_evaluation(r, s, columns, run_dir / "report", history=history, title=f"tsgan evaluation: {run_dir}", force=True, privacy=priv)
        out.print(f"report written to {run_dir / 'report' / 'report.html'}")


def _write_table(frame, target: Path, force: bool) -> None:
    from tsgan.errors import TsganError

    if target.exists() and not force:
        raise TsganError(f"{target} already exists: pass --force to overwrite it, or choose another --out")
    if target.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(target, index=False)
    elif target.suffix.lower() == ".csv":
        frame.to_csv(target, index=False)
    else:
        raise TsganError(f"cannot write '{target.suffix}' files: use a .csv or .parquet --out")


def _report_fit(syn, run_dir: Path) -> None:
    """What `tsgan fit` and `tsgan resume` print about the training just done."""
    info = syn.train_info_
    spec = syn.spec_
    what = {
        "image": lambda: f"{spec.n_images} images ({spec.channels} x {spec.size} x {spec.size})",
        "table": lambda: f"{spec.n_rows} rows x {len(spec.columns)} columns",
    }.get(syn.kind, lambda: f"{spec.n_windows} windows ({spec.seq_len} x {spec.n_features})")()
    out.print(
        f"trained {syn.model} on {what} "
        f"for {info['steps']} steps in {info['seconds']:.1f} s on {info['device']}"
        + {"time": " (stopped by --max-minutes)", "interrupted": " (stopped by Ctrl-C)"}.get(info["stopped"], "")
    )
    if info.get("dp"):
        d = info["dp"]
        out.print(
            f"differential privacy: epsilon {d['epsilon']:.2f} spent at delta {d['delta']:.2g} per window "
            f"(noise multiplier {d['noise_multiplier']:.3f}; a row lies in up to {d['windows_per_row']} windows)",
        )
    if info.get("ema"):
        e = info["ema"]
        out.print(e.get("note") or f"weights: the moving average (decay {e['decay']}) over the {e['updates']} steps of {e['phase']}")
    if info.get("lr_decay"):
        d = info["lr_decay"]
        out.print(f"learning rates decayed linearly over the last {d['steps']} steps of {d['phase']}")
    if info.get("n_init"):
        n = info["n_init"]
        out.print(
            f"best of {n['n']} initialisations: seed {n['chosen_seed']} went on after {n['steps']} steps (best checks: "
            + ", ".join(f"seed {c['seed']} {c['best_disc']:.3f}" for c in n["candidates"]) + ")"
            + ("" if n.get("gate") is None else "; critic levels (gate " + f"{n['gate']} x the highest): "
               + ", ".join(f"seed {c['seed']} {c['critic_level']:.3f}" for c in n["candidates"] if c.get("critic_level") is not None))
        )
    sel = info.get("selection")
    if sel and "best_step" in sel:
        out.print(
            f"kept the checkpoint at step {sel['best_step']} of {sel['phase']} (discriminative score {sel['best_disc']:.3f} "
            f"against training windows; {len(sel['scores'])} checkpoints scored)",
        )
        if len(sel.get("kept", [])) > 1:
            out.print(f"samples from an equal mixture of the {len(sel['kept'])} best-checked checkpoints (steps "
                      + ", ".join(f"{k['step']} {k['disc']:.3f}" for k in sel["kept"]) + ")")
    elif sel:
        out.print(sel["note"])
    split = syn.split_
    if split.get("holdout"):
        how = f"{split['holdout_entities']} entities" if split.get("by") == "entity" else f"{len(split['blocks'])} time blocks"
        out.print(f"held out {how} ({split['holdout_windows']} windows) for privacy checks: `tsgan privacy {run_dir}`")
    elif split.get("note"):
        out.print(split["note"])
    if getattr(syn.spec_, "skipped_entities", None):
        out.print(f"skipped {len(syn.spec_.skipped_entities)}+ entities shorter than --seq-len")
    last = syn.history_.filter(like="/loss").apply(lambda col: col.dropna().tail(50).mean())  # per update, its own phase
    out.print("final losses: " + ", ".join(f"{k}={v:.4f}" for k, v in last.items()))
    out.print(f"run saved to {run_dir}")
    if syn.train_info_["stopped"] != "steps" and getattr(syn, "resume_state_", None) is not None:
        out.print(f"stopped early: `tsgan resume {run_dir}` trains the remaining {syn.steps - syn.train_info_['steps']} steps")


@app.command()
def resume(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory that `tsgan fit` stopped early (--max-minutes, Ctrl-C)"),
    data: Optional[str] = typer.Option(None, "--data", help="the training data, if the run was fitted on a DataFrame or an array, or the file moved"),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="stop again after this many minutes (resume later)"),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda: the kind of device the run was trained on"),
    checkpoint_minutes: Optional[float] = typer.Option(None, "--checkpoint-minutes", help="save the run in place, resumable, every this many minutes"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Train a stopped run's remaining steps, as if it had never stopped, and save it in place."""
    import tsgan

    syn = tsgan.load(run_dir, device=device)
    syn.device, syn.progress = device, not quiet and sys.stderr.isatty()
    syn.resume(data, max_minutes=max_minutes, checkpoint_dir=None if checkpoint_minutes is None else run_dir, checkpoint_minutes=10.0 if checkpoint_minutes is None else checkpoint_minutes)
    syn.save(run_dir, force=True)
    _report_fit(syn, run_dir)


@app.command()
def sample(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory written by `tsgan fit`"),
    n: int = typer.Option(..., "-n", help="number of synthetic sequences"),
    out_file: Path = typer.Option(..., "--out", "-o", help="output .csv or .parquet (long format) or .npy (sequences, time, features); image runs: a .png grid, a .npy array or a folder of PNGs"),
    seed: int = typer.Option(0, "--seed", help="random seed: same seed, same samples"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing output file"),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto"),
    condition: Optional[List[str]] = typer.Option(
        None, "--condition", help="conditional runs: column=value for every sequence (repeatable; default: the training mix)"
    ),
    code: Optional[int] = typer.Option(None, "--code", help="InfoGAN runs: the categorical code for every sequence"),
) -> None:
    """Sample N synthetic sequences from a fitted run into a .csv or .parquet (sequence_id, step, columns) or a .npy."""
    import tsgan
    from tsgan.config import parse_key_values
    from tsgan.errors import TsganError

    if out_file.exists() and not force:
        raise TsganError(f"{out_file} already exists: pass --force to overwrite it, or choose another --out")
    if not out_file.parent.exists():
        raise TsganError(f"directory {out_file.parent} does not exist: create it or choose another --out")
    syn = tsgan.load(run_dir, device=device)
    cond = parse_key_values(condition, "--condition") if condition else None
    suffix = out_file.suffix.lower()
    writes = {"image": (".png", "", ".npy"), "table": (".csv", ".parquet", ".pq"), "sequence": (".csv", ".parquet", ".pq", ".npy")}[syn.kind]
    if suffix not in writes:
        kinds = {"image": "a .png grid, a .npy array or a folder", "table": "a .csv or .parquet file", "sequence": "a .csv or .parquet file (long format) or a .npy array"}
        raise TsganError(f"{syn.kind} runs write {kinds[syn.kind]}: got '{out_file.suffix}' in --out")
    if syn.kind == "image":
        import numpy as np

        from tsgan.data.images import save_images

        x = syn.sample(n, seed=seed, condition=cond, codes=code)
        if suffix == ".npy":
            np.save(out_file, x)
        else:
            save_images(x, out_file)
        out.print(f"wrote {n} images ({syn.spec_.channels} x {syn.spec_.size} x {syn.spec_.size}) to {out_file}")
        return
    if suffix == ".npy":  # (sequences, time, features) in original units, as `tsgan fit` and `tsgan evaluate` read it
        import numpy as np

        np.save(out_file, syn.sample(n, seed=seed, condition=cond, codes=code))
    else:
        _write_table(syn.sample_frame(n, seed=seed, condition=cond, codes=code), out_file, force=True)
    if syn.kind == "table":
        out.print(f"wrote {n} rows x {len(syn.spec_.columns)} columns to {out_file}")
    else:
        out.print(f"wrote {n} sequences x {syn.spec_.seq_len} steps x {syn.spec_.n_features} columns to {out_file}")


@app.command()
def models() -> None:
    """List the models and their parameters (pass with --param key=value)."""
    from tsgan import MODELS
    from rich.markup import escape

    from tsgan.config import describe, short_range

    for name, cls in MODELS.items():
        table = Table(title=f"{name}: {cls.paper}", title_justify="left", show_lines=False)
        for col in ("parameter", "type", "default", "help"):
            table.add_column(col)
        for row in describe(cls.config_cls):
            kind = row["type"] + (f" {short_range(row['within'])}" if row["within"] else "")
            help_ = row["help"] + (f" [{' | '.join(row['choices'])}]" if row["choices"] else "")
            table.add_row(row["name"], kind, str(row["default"]), escape(help_))  # "[a|b]" is not rich markup
        for preset, spec in getattr(cls.config_cls, "presets", {}).items():
            values = " ".join(f"{k}={v}" for k, v in spec["params"].items())
            table.add_row("preset", "str", "", escape(f"preset={preset}: {spec['help']}; sets {values}"))
        out.print(table)


@app.command()
def datasets() -> None:
    """List the built-in datasets (usable as DATA in `tsgan fit`)."""
    from tsgan.data import BUILTINS

    table = Table(title="built-in datasets", title_justify="left")
    for col in ("name", "description", "time column", "id column"):
        table.add_column(col)
    for d in BUILTINS.values():
        table.add_row(d.name, d.description, d.time_column or "", d.id_column or "")
    out.print(table)


@app.command()
def evaluate(
    real: str = typer.Argument(..., metavar="REAL", help="the real data: CSV/Parquet or a built-in name"),
    target: Path = typer.Argument(..., metavar="TARGET", help="a run directory, a synthetic CSV written by `tsgan sample`, or a .npy array (sequences, time, features)"),
    out_dir: Path = typer.Option(..., "--out", "-o", help="report directory (metrics.json, report.html)"),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="comma-separated subset of: " + ", ".join(["discriminative", "predictive", "fid", "prdc", "correlational", "marginal", "autocorrelation", "mmd"])),
    reps: int = typer.Option(1, "--reps", help="repeats of the discriminative and predictive scores"),
    n: Optional[int] = typer.Option(None, "-n", help="synthetic windows to sample from a run (default: as many as real, at most 10,000)"),
    seed: int = typer.Option(0, "--seed"),
    force: bool = typer.Option(False, "--force", help="write into an existing non-empty --out"),
    time_column: Optional[str] = typer.Option(None, "--time-column"),
    id_column: Optional[str] = typer.Option(None, "--id-column"),
    condition_column: Optional[List[str]] = typer.Option(None, "--condition-column", "-c", help="condition columns (not scored)"),
    target_column: Optional[str] = typer.Option(None, "--target", help="table runs: the column TSTR predicts (default: the last categorical)"),
    compare: Optional[List[Path]] = typer.Option(None, "--compare", help="another run directory whose loss curves the report shows alongside (repeatable)"),
) -> None:
    """Score synthetic data against REAL and write metrics.json and a self-contained report.html."""
    import tsgan
    from tsgan.evaluate import load_pair, run_evaluation

    if reps < 1:
        from tsgan.errors import TsganError

        raise TsganError(f"--reps must be at least 1 (got {reps})")
    kind = tsgan.load(target).kind if target.is_dir() and (target / "tsgan.json").exists() else "sequence"
    if kind == "image":
        _evaluate_images(real, target, out_dir, n, seed, force)
        return
    if kind == "table":
        _evaluate_table(real, target, out_dir, n, seed, force, target_column)
        return
    r, s, columns, history = load_pair(real, target, n, seed, time_column, id_column, condition_column or None)
    if compare:
        runs = [target, *compare] if history is not None else list(compare)
        history = {}
        for run in runs:
            other = tsgan.load(run)
            history[f"{Path(run).name}: {other.model}, objective {other.config_.objective}"] = other.history_
    chosen = [m.strip() for m in metrics.split(",")] if metrics else None
    scores = run_evaluation(r, s, columns, out_dir, chosen, reps, history, title=f"tsgan evaluation: {target}", force=force)
    for key in ("discriminative", "predictive", "fid", "precision", "recall", "correlational", "marginal_ks", "autocorrelation", "mmd"):
        if key in scores:
            v = scores[key]
            text = v.get("skipped") if isinstance(v, dict) and "skipped" in v else (f"{v['mean']:.4f} ± {v['std']:.4f}" if isinstance(v, dict) else f"{v:.4f}")
            out.print(f"{key:16} {text}")
    out.print(f"report written to {out_dir / 'report.html'}")


@app.command()
def privacy(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory written by `tsgan fit` (with a holdout split)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="also write privacy.json and privacy.html here"),
    data: Optional[str] = typer.Option(None, "--data", help="the training data, if the run was fitted on a DataFrame or the file moved"),
    n: Optional[int] = typer.Option(None, "-n", help="synthetic windows to draw (default: as many as training windows, at most 10,000)"),
    seed: int = typer.Option(0, "--seed"),
    force: bool = typer.Option(False, "--force", help="write into an existing non-empty --out"),
) -> None:
    """Check a run for leaks: distance to closest record, copies, membership inference, DP budget."""
    import json

    import tsgan
    from tsgan.errors import TsganError
    from tsgan.privacy import summary_lines

    if out_dir is not None and out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise TsganError(f"{out_dir} already exists and is not empty: pass --force or choose another --out")
    syn = tsgan.load(run_dir)
    p = syn.privacy(data, n=n, seed=seed)
    for line in summary_lines(p):
        out.print(line)
    if out_dir is not None:
        from tsgan.evaluate import write_privacy_page

        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "privacy.json").write_text(json.dumps(p, indent=2))
        write_privacy_page(out_dir / "privacy.html", p, title=f"tsgan privacy: {run_dir}")
        out.print(f"privacy report written to {out_dir / 'privacy.html'}")


def _evaluate_table(real: str, run: Path, out_dir: Path, n: Optional[int], seed: int, force: bool, target: Optional[str]) -> None:
    import tsgan
    from tsgan.api import load_data
    from tsgan.evaluate import run_table_evaluation

    syn = tsgan.load(run)
    frame = load_data(real)[0]
    synth = syn.sample(n or len(frame), seed=seed)
    scores = run_table_evaluation(frame, synth, out_dir, syn.history_, target, title=f"tsgan evaluation: {run}", force=force)
    out.print(f"{'detection_auc':16} {scores['detection_auc']:.4f}   (0.5 = indistinguishable)")
    t = scores["tstr"]
    out.print(f"{'tstr':16} {t['tstr']:.4f}   (train real: {t['trtr']:.4f}; {t['target']}, {t['task']})")
    out.print(f"{'marginal':16} {scores['marginal_similarity']:.4f}")
    out.print(f"{'pairs':16} {scores['pair_similarity']:.4f}")
    out.print(f"report written to {out_dir / 'report.html'}")


def _evaluate_images(real: str, run: Path, out_dir: Path, n: Optional[int], seed: int, force: bool) -> None:
    import tsgan
    from tsgan.data.images import load_images
    from tsgan.evaluate import run_image_evaluation

    syn = tsgan.load(run)
    images, _, _ = load_images(real, syn.spec_.size)
    if images.shape[1] != syn.spec_.channels:
        from tsgan.errors import TsganError

        raise TsganError(f"the real images have {images.shape[1]} channels, the run makes {syn.spec_.channels}: pass the training images")
    synth = syn.sample(n or min(len(images), 10_000), seed=seed)
    scores = run_image_evaluation(images, synth, out_dir, syn.history_, title=f"tsgan evaluation: {run}", force=force)
    for key in ("fid", "precision", "recall", "density", "coverage"):
        out.print(f"{key:16} {scores[key]:.4f}")
    out.print(f"report written to {out_dir / 'report.html'}")


def main() -> None:
    """Entry point: run the app, turning bad input into a one-line error and exit 2."""
    from tsgan.errors import TsganError

    try:
        app(standalone_mode=False)
    except TsganError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False)
        sys.exit(2)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as e:  # click usage errors (unknown option, missing argument)
        if isinstance(e, _usage_errors()):
            e.show()
            sys.exit(e.exit_code)
        raise


def _usage_errors() -> tuple[type, ...]:
    """Click's usage-error classes: typer >= 0.24 raises those of its own vendored copy
    (``typer._click``), which are not click's."""
    import importlib

    found = []
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(name).ClickException)
        except (ImportError, AttributeError):
            pass
    return tuple(found)


if __name__ == "__main__":
    main()
