"""`tsgan`: a thin typer shell over tsgan's API.

Bad input raises :class:`tsgan.TsganError`; ``main`` prints its one-line message
to stderr and exits with status 2, without a traceback. Process-wide settings (the
allocator) are made here, in the program that owns the process.
"""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Time-series GANs: fit a generator on your series, sample synthetic ones.",
)
# long lines stay whole in logs and pipes (the terminal wraps them); no markup, so a
# "[" in a path, column name or message is printed as it is
out = Console(soft_wrap=True, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)
THREADS_HELP = "CPU threads (default: what the CPUs, a cgroup quota, OMP_NUM_THREADS and the machine's load leave free)"


class Interrupted(Exception):
    """Ctrl-C stopped the command; what it saved is said before this is raised."""


def _set_threads(threads: Optional[int]) -> None:
    """The process's torch threads for commands that do not train (the CLI owns the process)."""
    import torch

    from tsgan.torch_utils import pick_threads

    torch.set_num_threads(pick_threads(threads)[0])
METRICS = ["discriminative", "predictive", "fid", "prdc", "correlational", "marginal", "autocorrelation", "mmd"]


def _default_run_dir(data: str, model: str) -> Path:
    """runs/<data>-<model>[-k]: a new directory, never an existing one."""
    stem = Path(data).stem if Path(data).suffix else Path(data).name
    base = Path("runs") / f"{stem}-{model}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


@app.command()
def fit(
    data: str = typer.Argument(..., metavar="DATA", help="CSV/TSV/Parquet file, .npy array, image folder (image models) or a built-in name (`tsgan datasets`)"),
    model: str = typer.Option("timegan", "--model", "-m", help="model name (`tsgan models`)"),
    recipe: str = typer.Option("tuned", "--recipe", help="tuned (the best settings measured) or paper (the paper's settings exactly)"),
    objective: Optional[str] = typer.Option(None, "--objective", help="minimax, nonsaturating, wgan, wgan-gp or hinge (default: the model's paper)"),
    seq_len: Optional[int] = typer.Option(None, "--seq-len", help="window length in time steps: the model learns and samples windows this long (default 24; with --id-column and no --seq-len, whole entities)"),
    stride: int = typer.Option(1, "--stride", help="steps between consecutive window starts"),
    steps: Optional[int] = typer.Option(None, "--steps", help="training steps, all phases together (default: the recipe's budget; with only --max-minutes, as many as fit)"),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="train for this many minutes (alone: steps are fitted to the clock; with --steps: a limit)"),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="model or training parameter key=value, repeatable (`tsgan models` lists them)"),
    seed: int = typer.Option(0, "--seed", help="random seed: same seed, same model (on the same machine and torch build)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="run directory to create (default: runs/<data>-<model>)"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing run directory"),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda"),
    precision: str = typer.Option("32", "--precision", help="32, or bf16 for mixed precision (CPUs with AVX512-BF16/AMX, GPUs)"),
    columns: Optional[str] = typer.Option(None, "--columns", help="read and model only these columns, comma-separated (the time, id, condition and entity columns named by other flags are added); a file's other columns are never read"),
    time_column: Optional[str] = typer.Option(None, "--time-column", help="column that orders rows (not modelled)"),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="column that names entities: without --seq-len the model learns whole entities (an entity table), with it windows that never cross entities"),
    static_column: Optional[List[str]] = typer.Option(None, "--static-column", help="entity tables: this column is a static attribute (checked constant within every entity; repeatable)"),
    categorical_column: Optional[List[str]] = typer.Option(None, "--categorical-column", help="entity tables: read this numeric column as labels (repeatable)"),
    max_categories: int = typer.Option(50, "--max-categories", help="entity tables: most distinct labels a categorical column may have"),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="entity tables: cut longer entities into consecutive pieces of at most this many steps"),
    condition_column: Optional[List[str]] = typer.Option(None, "--condition-column", "-c", help="condition on this column (label or attribute, per sequence or per step; repeatable)"),
    holdout: Optional[float] = typer.Option(None, "--holdout", help="share held out of training for privacy checks (default 0.2 when the data allows; 0 = off)"),
    dp_epsilon: Optional[float] = typer.Option(None, "--dp-epsilon", help="train with DP-SGD (opacus) to this epsilon; --param dp_delta=, dp_max_grad_norm=, dp_noise= refine it"),
    checkpoint_minutes: Optional[float] = typer.Option(None, "--checkpoint-minutes", help="save the run, resumable, every this many minutes (`tsgan resume` after a crash)"),
    sample_n: int = typer.Option(0, "--sample", help="also write this many synthetic samples to RUN_DIR/synthetic.csv (.png for images)"),
    evaluate_after: bool = typer.Option(False, "--evaluate", help="then score the run against DATA into RUN_DIR/report"),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Fit a model on DATA and save the run directory."""
    from tsgan import Synthesizer
    from tsgan.config import parse_key_values
    from tsgan.data.kinds import KINDS
    from tsgan.fitting import model_class
    from tsgan.rundir import claim_run_dir

    params = parse_key_values(param)
    for key, value in (("objective", objective), ("dp_epsilon", dp_epsilon)):
        if value is not None:
            params[key] = value
    run_dir = out_dir if out_dir is not None else _default_run_dir(data, model)
    main = int(os.environ.get("RANK", "0")) == 0  # under torchrun, rank 0 alone claims, writes and prints
    if not main:
        out.quiet = True
    with claim_run_dir(run_dir, force) if main else nullcontext():  # writable and ours before training, not after
        syn = Synthesizer(model=model, recipe=recipe, seq_len=seq_len, stride=stride, seed=seed, steps=steps, max_minutes=max_minutes,
                          device=device, precision=precision, progress=not quiet and sys.stderr.isatty(), holdout=holdout,
                          threads=threads, max_length=max_length, **params)
        syn.fit(data, time_column=time_column, id_column=id_column, condition_columns=condition_column or None,
                checkpoint_dir=None if checkpoint_minutes is None else run_dir,
                checkpoint_minutes=10.0 if checkpoint_minutes is None else checkpoint_minutes, force=True,
                static_columns=static_column or None, categorical_columns=categorical_column or None, max_categories=max_categories,
                columns=[c.strip() for c in columns.split(",") if c.strip()] if columns else None)
        if checkpoint_minutes is None and main:  # with checkpoints, fit saved the finished run there itself
            run_dir = _save(syn, run_dir)
    if not main:
        return
    _report_fit(syn, run_dir)
    kind = KINDS[syn.kind]
    if sample_n:
        target = run_dir / ("synthetic.png" if ".png" in kind.writes else "synthetic.csv")
        what = kind.write(syn, target, sample_n, seed=seed)
        out.print(f"synthetic data ({what}) written to {target}")
    if evaluate_after:
        from tsgan.evaluate.runs import evaluate_target

        evaluate_target(data, run_dir, run_dir / "report", seed=seed, n=None, force=True, privacy=True,
                        roles=(time_column, id_column, condition_column or None))
        out.print(f"report written to {run_dir / 'report' / 'report.html'}")


def _save(syn, run_dir: Path) -> Path:
    """Save the run; if that fails (disk full, permissions changed), save it to a fresh
    temporary directory instead, so the training is not lost, and say where."""
    import tempfile

    try:
        syn.save(run_dir, force=True)
        return run_dir
    except OSError as e:
        fallback = Path(tempfile.mkdtemp(prefix=f"tsgan-{run_dir.name}-"))
        syn.save(fallback, force=True)
        err.print(f"warning: could not save the run to {run_dir} ({e.strerror or e}): saved it to {fallback} instead; move it where you want it")
        return fallback


def _report_fit(syn, run_dir: Path) -> None:
    """What `tsgan fit` and `tsgan resume` print about the training just done."""
    from tsgan.data.kinds import KINDS

    info = syn.train_info_
    out.print(
        f"trained {syn.model} on {KINDS[syn.kind].describe(syn.spec_)} "
        f"for {info['steps']} steps in {info['seconds']:.1f} s on {info['device']}"
        + (f" with {info['threads']} thread{'s' if info['threads'] > 1 else ''} ({info['threads_why']}; --threads)" if info.get("threads_why") and info["device"] == "cpu" else "")
        + {"time": " (stopped by --max-minutes)", "interrupted": " (stopped by Ctrl-C)", "nonfinite": " (stopped: losses turned NaN/inf)"}.get(info["stopped"], "")
        + (f"; peak memory {info['peak_memory_mb'] / 1024:.1f} GiB" if info.get("peak_memory_mb") else "")
    )
    if info.get("distributed"):
        d = info["distributed"]
        out.print(f"{d['world_size']} processes ({d['backend']}): global batch {d['global_batch']} = {d['world_size']} x {d['per_process_batch']} "
                  "(batch_size is the global batch)")
    recipe = info.get("recipe") or {}
    if recipe.get("set"):
        out.print(f"recipe {recipe['name']}: " + ", ".join(f"{k}={v}" for k, v in recipe["set"].items()) + " (--recipe paper: the paper's settings)")
    if info.get("clock_fit"):
        c = info["clock_fit"]
        out.print(f"--max-minutes alone: {c['steps']} steps fitted to the clock (a probe of {c['probe_seconds']:.0f} s timed them)")
    if info.get("dp"):
        d = info["dp"]
        out.print(
            f"differential privacy: epsilon {d['epsilon']:.2f} spent at delta {d['delta']:.2g} per {d.get('unit', 'window')} "
            f"(noise multiplier {d['noise_multiplier']:.3f}"
            + (f"; a row lies in up to {d['windows_per_row']} windows)" if d.get("unit", "window") == "window" else ")"),
        )
    if info.get("ema"):
        e = info["ema"]
        out.print(e.get("note") or f"weights: the moving average (decay {e['decay']}) over the {e['updates']} steps of {e['phase']}")
    if info.get("lr_decay"):
        d = info["lr_decay"]
        out.print(f"learning rates decayed linearly over the last {d['steps']} steps of {d['phase']}")
    sel = info.get("selection")
    if sel and "best_step" in sel:
        out.print(
            f"kept the checkpoint at step {sel['best_step']} of {sel['phase']} (discriminative score {sel['best_disc']:.3f} "
            f"against training windows; {len(sel['scores'])} checkpoints scored)",
        )
    elif sel:
        out.print(sel["note"])
    if getattr(syn, "condition_bank_", None) is not None:
        out.print(f"the run keeps {len(syn.condition_bank_)} real condition records to draw conditions from when sampling without "
                  "--condition (--param keep_conditions=0 keeps none)")
    split = syn.split_
    if split.get("holdout"):
        if "holdout_windows" in split:
            how = f"{split['holdout_entities']} entities" if split.get("by") == "entity" else f"{len(split['blocks'])} time blocks"
            how += f" ({split['holdout_windows']} windows)"
        else:  # entity tables: whole entities
            how = f"{split['holdout_entities']} of {split['holdout_entities'] + split['train_entities']} entities"
        out.print(f"held out {how} for privacy checks: `tsgan privacy {run_dir}`")
    elif split.get("note"):
        out.print(split["note"])
    last = syn.history_.filter(like="/loss").apply(lambda col: col.dropna().tail(50).mean())  # per update, its own phase
    out.print("final losses: " + ", ".join(f"{k}={v:.4f}" for k, v in last.items()))
    out.print(f"run saved to {run_dir}")
    if info["stopped"] != "steps" and getattr(syn, "resume_state_", None) is not None:
        out.print(f"stopped early: `tsgan resume {run_dir}` trains the remaining {syn.steps_ - info['steps']} steps")
    if info["stopped"] == "interrupted":
        raise Interrupted(f"interrupted: the run as trained so far is saved in {run_dir}")


@app.command()
def resume(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory that `tsgan fit` stopped early (--max-minutes, Ctrl-C)"),
    data: Optional[str] = typer.Option(None, "--data", help="the training data, if the run was fitted on a DataFrame or an array, or the file moved"),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="stop again after this many minutes (resume later)"),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda: the kind of device the run was trained on"),
    checkpoint_minutes: Optional[float] = typer.Option(None, "--checkpoint-minutes", help="save the run in place, resumable, every this many minutes"),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Train a stopped run's remaining steps, as if it had never stopped, and save it in place."""
    import tsgan

    syn = tsgan.load(run_dir, device=device)
    syn.set_params(device=device, progress=not quiet and sys.stderr.isatty(), threads=threads)
    syn.resume(data, max_minutes=max_minutes, checkpoint_dir=None if checkpoint_minutes is None else run_dir,
               checkpoint_minutes=10.0 if checkpoint_minutes is None else checkpoint_minutes)
    syn.save(run_dir, force=True)
    _report_fit(syn, run_dir)


@app.command()
def sample(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory written by `tsgan fit`"),
    n: int = typer.Option(..., "-n", help="number of synthetic samples (sequences, rows or images)"),
    out_file: Path = typer.Option(..., "--out", "-o", help="sequences: .csv/.parquet (long format) or .npy (sequences, time, features); tables: .csv/.parquet; images: .png grid, .npy or a folder"),
    seed: int = typer.Option(0, "--seed", help="random seed: same seed, same samples"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing output file"),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto"),
    condition: Optional[List[str]] = typer.Option(None, "--condition", help="conditional runs: column=value for every sample (repeatable; default: the training mix)"),
    code: Optional[int] = typer.Option(None, "--code", help="InfoGAN runs: the categorical code for every sample"),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
) -> None:
    """Sample N synthetic sequences, rows or images from a fitted run into a file."""
    import tsgan
    from tsgan.config import parse_key_values
    from tsgan.data.kinds import KINDS
    from tsgan.errors import TsganError

    if out_file.exists() and not force:
        raise TsganError(f"{out_file} already exists: pass --force to overwrite it, or choose another --out")
    if not out_file.parent.exists():
        raise TsganError(f"directory {out_file.parent} does not exist: create it or choose another --out")
    syn = tsgan.load(run_dir, device=device)
    syn.set_params(threads=threads)
    kind = KINDS[syn.kind]
    if out_file.suffix.lower() not in kind.writes:
        raise TsganError(f"{syn.kind} runs write {kind.writes_help}: got '{out_file.suffix}' in --out")
    cond = parse_key_values(condition, "--condition") if condition else None
    what = kind.write(syn, out_file, n, progress=sys.stderr.isatty(), seed=seed, condition=cond, codes=code)
    out.print(f"wrote {what} to {out_file}")


@app.command()
def models() -> None:
    """List the models, their parameters and recipes, and the training options (pass with --param key=value)."""
    from tsgan import MODELS
    from tsgan.config import TrainingOptions, describe, short_range

    def add_rows(table: Table, config_cls: type) -> None:
        for row in describe(config_cls):
            kind = row["type"] + (f" {short_range(row['within'])}" if row["within"] else "")
            help_ = row["help"] + (f" [{' | '.join(row['choices'])}]" if row["choices"] else "")
            table.add_row(row["name"], kind, str(row["default"]), help_)

    for name, cls in MODELS.items():
        table = Table(title=f"{name} ({cls.kind}): {cls.paper}", title_justify="left")
        for col in ("parameter", "type", "default (paper)", "help"):
            table.add_column(col)
        add_rows(table, cls.config_cls)
        for recipe, values in cls.recipes.items():
            table.add_row("--recipe", recipe, "", " ".join(f"{k}={v}" for k, v in values.items()))
        out.print(table)
    table = Table(title="training options, every model (--param key=value; 0 = off)", title_justify="left")
    for col in ("parameter", "type", "default", "help"):
        table.add_column(col)
    add_rows(table, TrainingOptions)
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
    real: str = typer.Argument(..., metavar="REAL", help="the real data: CSV/Parquet, image folder or a built-in name"),
    target: Path = typer.Argument(..., metavar="TARGET", help="a run directory, a synthetic CSV written by `tsgan sample`, or a .npy array (sequences, time, features)"),
    out_dir: Path = typer.Option(..., "--out", "-o", help="report directory (metrics.json, report.html)"),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="sequences: comma-separated subset of " + ", ".join(METRICS)),
    reps: int = typer.Option(3, "--reps", help="repeats of the discriminative and predictive scores (their spread is shown)"),
    n: Optional[int] = typer.Option(None, "-n", help="synthetic samples to draw from a run (default: as many as real, at most 10,000)"),
    seed: int = typer.Option(0, "--seed"),
    force: bool = typer.Option(False, "--force", help="write into an existing non-empty --out"),
    time_column: Optional[str] = typer.Option(None, "--time-column"),
    id_column: Optional[str] = typer.Option(None, "--id-column"),
    condition_column: Optional[List[str]] = typer.Option(None, "--condition-column", "-c", help="condition columns (not scored)"),
    target_column: Optional[str] = typer.Option(None, "--target", help="table runs: the column TSTR predicts (default: the last categorical)"),
    compare: Optional[List[Path]] = typer.Option(None, "--compare", help="another run directory whose loss curves the report shows alongside (repeatable)"),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
) -> None:
    """Score synthetic data against REAL and write metrics.json and a self-contained report.html."""
    from tsgan.errors import TsganError
    from tsgan.evaluate.runs import evaluate_target

    _set_threads(threads)
    if reps < 1:
        raise TsganError(f"--reps must be at least 1 (got {reps})")
    chosen = [m.strip() for m in metrics.split(",")] if metrics else None
    lines = evaluate_target(real, target, out_dir, metrics=chosen, reps=reps, n=n, seed=seed, force=force, compare=compare,
                            roles=(time_column, id_column, condition_column or None), table_target=target_column)
    for line in lines:
        out.print(line)
    out.print(f"report written to {out_dir / 'report.html'}")


@app.command()
def privacy(
    target: Path = typer.Argument(..., metavar="TARGET", help="a run directory written by `tsgan fit` (with a holdout split), or a synthetic file (.csv/.parquet as `tsgan sample` writes, or .npy) with --data"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="also write privacy.json and privacy.html here"),
    data: Optional[str] = typer.Option(None, "--data", help="the training data: for a run, if it was fitted on a DataFrame or the file moved; for a synthetic file, required"),
    holdout_data: Optional[str] = typer.Option(None, "--holdout-data", help="synthetic files: real records the generator never saw (enables the membership attacks)"),
    time_column: Optional[str] = typer.Option(None, "--time-column", help="synthetic files: the real data's time column"),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="synthetic files: the real data's id column"),
    n: Optional[int] = typer.Option(None, "-n", help="synthetic windows to draw or read (default: as many as training windows, at most 10,000)"),
    seed: int = typer.Option(0, "--seed"),
    force: bool = typer.Option(False, "--force", help="write into an existing non-empty --out"),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
) -> None:
    """Check a run or a synthetic file for leaks: distance to closest record, copies, membership inference, DP budget."""
    import json

    import tsgan
    from tsgan.errors import TsganError
    from tsgan.evaluate.runs import privacy_of_file
    from tsgan.privacy import copy_lines, summary_lines
    from tsgan.rundir import META_FILE

    if out_dir is not None and out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise TsganError(f"{out_dir} already exists and is not empty: pass --force or choose another --out")
    _set_threads(threads)
    if target.is_dir() and (target / META_FILE).exists():
        if holdout_data is not None:
            raise TsganError("a run keeps its own holdout: drop --holdout-data (it is for synthetic files)")
        p = tsgan.load(target).privacy(data, n=n, seed=seed)
    elif target.is_file():
        if data is None:
            raise TsganError(f"checking a synthetic file needs the real data it may leak: tsgan privacy {target} --data REAL.csv")
        p = privacy_of_file(target, data, holdout_data, (time_column, id_column, None), n=n, seed=seed)
    else:
        raise TsganError(f"{target} is neither a run directory (with {META_FILE}) nor a file: pass a run or a synthetic file")
    lines = summary_lines(p) if "mia_auc" in p else copy_lines(p) + [f"note: {p['note']}"]
    for line in lines:
        out.print(line)
    if out_dir is not None:
        from tsgan.evaluate import write_privacy_page

        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "privacy.json").write_text(json.dumps(p, indent=2))
        write_privacy_page(out_dir / "privacy.html", p, title=f"tsgan privacy: {target}", lines=lines)
        out.print(f"privacy report written to {out_dir / 'privacy.html'}")


def main() -> None:
    """Entry point: run the app, turning bad input into a one-line error and exit 2."""
    from tsgan.errors import TsganError
    from tsgan.torch_utils import keep_freed_memory

    keep_freed_memory()  # process-wide: the allocator keeps freed blocks for the next training step
    _notes_as_lines()
    try:
        code = app(standalone_mode=False)  # typer returns (not raises) the exit code of an Exit, 130 for Ctrl-C
        if code == 130:
            raise KeyboardInterrupt
        if isinstance(code, int) and not isinstance(code, bool) and code:
            sys.exit(code)
    except TsganError as e:
        err.print(Text.assemble(("error:", "bold red"), " ", str(e)), highlight=False)
        sys.exit(2)
    except Interrupted as e:
        err.print(str(e), highlight=False)
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted: nothing was written", highlight=False)
        sys.exit(130)
    except OSError as e:  # the disk or the file system refused: permissions, space, a path gone
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        err.print(Text.assemble(("error:", "bold red"), f"{where}: {e.strerror or e}: check the path and free space, or choose another --out"),
                  highlight=False)
        sys.exit(1)
    except Exception as e:  # click usage errors (unknown option, missing argument), Ctrl-C as click's Abort
        if isinstance(e, _click_classes("Abort")):
            err.print("interrupted: nothing was written", highlight=False)
            sys.exit(130)
        if isinstance(e, _click_classes("ClickException")):
            e.show()
            sys.exit(e.exit_code)
        raise


def _notes_as_lines() -> None:
    """What tsgan assumed about the input (TsganWarning) prints as a ``note:`` line, every time, as it happens."""
    import warnings

    from tsgan.errors import TsganWarning

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, TsganWarning):
            err.print(f"note: {message}", highlight=False)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.simplefilter("always", TsganWarning)
    warnings.showwarning = show


def _click_classes(name: str) -> tuple[type, ...]:
    """Click's exception class ``name`` (``ClickException``, ``Abort``): typer >= 0.24
    raises those of its own vendored copy (``typer._click``), which are not click's."""
    import importlib

    found = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            pass
    return tuple(found)


if __name__ == "__main__":
    main()
