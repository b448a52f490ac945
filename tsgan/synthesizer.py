"""The estimator: ``Synthesizer(...).fit(data).sample(n)``, ``save(dir)``, ``tsgan.load(dir)``.

``__init__`` only stores its arguments; :meth:`Synthesizer.fit` validates them
(:mod:`tsgan.fitting`), asks the model's data-kind adapter (:mod:`tsgan.data.kinds`)
to prepare the data, and runs the training loop (:mod:`tsgan.training`). Learned
state ends in ``_``. The run directory is :mod:`tsgan.rundir`'s.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .data.builtin import BUILTINS, is_builtin
from .data.kinds import BANK_SIZE, KINDS, Roles, source_name
from .data.io import comparable_prints
from .errors import TsganError, note
from .fitting import callbacks, make_plan, model_class, steps_for_clock
from .models import build_model
from .torch_utils import check_seed, peak_memory_mb, resolve_device, use_threads
from .training import Checkpoints, FiniteLosses, decay_window, split_steps, train


class Synthesizer:
    """Learn a generator from data and sample synthetic data like it.

    ``model``: a name from ``tsgan.MODELS``. ``recipe``: ``"tuned"`` (default; the
    best settings measured for the model, docs/models.md) or ``"paper"`` (the paper's
    settings exactly). ``seq_len``/``stride``: the windows sequence models learn.
    ``steps``: training steps, all phases together (default: the recipe's budget;
    with only ``max_minutes``, as many as fit in the clock). ``holdout``: share of the
    data kept out of training for privacy checks (None: 0.2 when the data allows).
    ``threads``: CPU threads for training and sampling (None: as many as the CPUs,
    the cgroup quota and the machine's load leave free, or ``OMP_NUM_THREADS``).
    ``params``: the model's config fields and the training options (``ema``,
    ``select_every``, ``lr_decay``, ``dp_epsilon``, ...; ``tsgan models`` lists them).
    """

    def __init__(self, model: str = "timegan", recipe: str = "tuned", seq_len: int | None = None, stride: int = 1, seed: int = 0,
                 steps: int | None = None, max_minutes: float | None = None, device: str = "auto", precision: str = "32",
                 progress: bool = False, holdout: float | None = None, threads: int | None = None, max_length: int | None = None,
                 **params: Any):
        self.model, self.recipe, self.seq_len, self.stride, self.seed = model, recipe, seq_len, stride, seed
        self.max_length = max_length
        self.steps, self.max_minutes, self.device, self.precision = steps, max_minutes, device, precision
        self.progress, self.holdout, self.threads, self.params = progress, holdout, threads, params

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments, as :func:`tsgan.load` passes them back."""
        names = ("model", "recipe", "seq_len", "stride", "seed", "steps", "max_minutes", "device", "precision", "progress", "holdout",
                 "threads", "max_length")
        return {**{k: getattr(self, k) for k in names}, **self.params}

    def set_params(self, **params: Any) -> "Synthesizer":
        fields = set(self.get_params()) - set(self.params)
        for k, v in params.items():
            if k in fields:
                setattr(self, k, v)
            else:
                self.params[k] = v
        return self

    @property
    def kind(self) -> str:
        """The data this run learns: sequence (windows), entity, image or table."""
        return getattr(self, "kind_", None) or model_class(self.model).kind

    def _kind_for(self, data: Any, roles: Roles) -> str:
        """A sequence model reads an entity table (its id column given, or a built-in
        entity table) as entities unless ``seq_len`` asks for windows; otherwise the
        model's own kind."""
        own = model_class(self.model).kind
        entities = KINDS[own].entities
        table = roles.id_column is not None or (is_builtin(data) and BUILTINS[data].entities)
        return entities if entities and table and self.seq_len is None else own

    # ------------------------------------------------------------------ fit
    def fit(self, data: Any, time_column: str | None = None, id_column: str | None = None,
            condition_columns: list[str] | str | None = None, checkpoint_dir: str | Path | None = None,
            checkpoint_minutes: float = 10.0, force: bool = False, static_columns: list[str] | None = None,
            categorical_columns: list[str] | None = None, max_categories: int = 50, columns: list[str] | str | None = None) -> "Synthesizer":
        """Validate, prepare and train on ``data``: a CSV/TSV/Parquet path, a DataFrame,
        an array (``(time, features)`` for one series, ``(sequences, time, features)``
        for one sequence each), an image folder or a built-in dataset name. Returns self.

        ``condition_columns`` makes a conditional GAN: those columns are inputs, not
        features, and ``sample(n, condition=...)`` asks for them.

        Entity tables: with ``id_column`` and no ``seq_len``, a sequence model learns
        whole entities (docs/data.md): columns constant within every entity are static
        (or named in ``static_columns``), text, category and boolean columns are labels
        (numbers too when named in ``categorical_columns``; at most ``max_categories``
        labels), missing values are modelled, and ``sample`` returns a table of the
        same schema; ``max_length`` (constructor) cuts longer entities. ``columns``: read
        and model only these (with the columns the other arguments name); a file's other
        columns are never read. ``checkpoint_dir``:
        every ``checkpoint_minutes`` of training, save the run there as it stands,
        resumable (``tsgan.load(dir).resume()``), and the finished run at the end; an
        existing directory needs ``force=True``."""
        from .rundir import ensure_writable_dir

        if checkpoint_dir is not None:
            if not checkpoint_minutes > 0:
                raise TsganError(f"checkpoint_minutes must be positive (got {checkpoint_minutes}): e.g. --checkpoint-minutes 10")
            if self.params.get("dp_epsilon") or self.params.get("dp_noise"):
                raise TsganError("a DP-SGD run cannot be checkpointed for resuming (its privacy accounting would start afresh): drop checkpoint_dir")
            ensure_writable_dir(Path(checkpoint_dir), force)
        if isinstance(max_categories, bool) or not isinstance(max_categories, int) or max_categories < 2:
            raise TsganError(f"max_categories must be an integer of at least 2 (got {max_categories!r}): e.g. --max-categories 50")
        listed = [[c] if isinstance(c, str) else c for c in (static_columns, categorical_columns)]
        roles = Roles(time_column, id_column, condition_columns, listed[0], listed[1], max_categories,
                      [columns] if isinstance(columns, str) else (list(columns) if columns is not None else None))
        return self._fit(data, roles, checkpoint_dir=checkpoint_dir, checkpoint_minutes=checkpoint_minutes)

    def resume(self, data: Any = None, max_minutes: float | None = None, checkpoint_dir: str | Path | None = None,
               checkpoint_minutes: float = 10.0) -> "Synthesizer":
        """Go on training a run that stopped early (``max_minutes``, Ctrl-C) up to its
        steps, exactly as if it had never stopped. ``data``: the training data again,
        needed when a loaded run was fitted on a DataFrame or an array. Returns self."""
        self._check_fitted()
        state = getattr(self, "resume_state_", None)
        if state is None:
            if self.train_info_.get("dp"):
                raise TsganError("a DP-SGD run cannot be resumed (its privacy accounting starts afresh): fit a new run")
            raise TsganError(f"this run finished its {self.train_info_.get('steps', self.steps)} steps: nothing to resume; fit a new run with more steps")
        source = next((d for d in (data, getattr(self, "_data", None), self.source_) if d is not None), None)
        if source is None:
            raise TsganError("this run was fitted on a DataFrame or an array: pass its data (tsgan resume RUN --data FILE)")
        self.max_minutes = max_minutes
        return self._fit(source, Roles(**state["fit_args"]), resume=state, checkpoint_dir=checkpoint_dir, checkpoint_minutes=checkpoint_minutes)

    def _fit(self, data, roles: Roles, resume=None, checkpoint_dir=None, checkpoint_minutes=10.0) -> "Synthesizer":
        plan = make_plan(self, self._kind_for(data, roles))
        with use_threads(self.threads) as (_, self._threads_why):
            self._train(plan, data, roles, resume, checkpoint_dir, checkpoint_minutes)
        return self

    def _train(self, plan, data, roles: Roles, resume, checkpoint_dir, checkpoint_minutes) -> None:
        from .training.distributed import Distributed, rank_device, world

        kind = plan.kind
        ranks = world(self.device)  # torchrun's processes (or the caller's process group), or one
        device = resolve_device(rank_device(self.device, ranks))
        if ranks.active and plan.options.private:
            raise TsganError("DP-SGD is not accounted across processes yet: run a private fit in one process (without torchrun)")
        prepared = kind.prepare(data, roles, seq_len=self.seq_len or 24, stride=self.stride, holdout=self.holdout, seed=self.seed,
                                image_size=plan.options.image_size or None, max_length=self.max_length)
        records = len(prepared.train) if hasattr(prepared.train, "__len__") else None
        if records and plan.config.batch_size > records:  # a batch of the whole data is the most there is
            note(f"batch_size {plan.config.batch_size} is more than the {records} training {kind.unit if kind.unit != 'sequences' else 'windows'}: "
                 f"capped at {records}", prepared.spec.notes if hasattr(prepared.spec, "notes") else None)
            plan.config = replace(plan.config, batch_size=records)
        if resume is not None:
            got, want = ({k: v for k, v in d.items() if k not in ("source", "notes")} for d in (prepared.spec.to_dict(), self.spec_.to_dict()))
            if comparable_prints(want.get("fingerprint", ""), got.get("fingerprint", "")) and got["fingerprint"] != want["fingerprint"] and all(
                    got.get(k) == v for k, v in want.items() if k != "fingerprint"):
                raise TsganError("the data is not the run's training data (same shape, other values: its fingerprint differs): "
                                 "pass the data the run was fitted on")
            got["fingerprint"] = want.get("fingerprint", "")  # runs saved before fingerprints, or before float32 reads
            if got != want:
                diff = next(k for k in want if got.get(k) != want.get(k))
                raise TsganError(f"the data differs from the run's ({diff}: {got.get(diff)!r}, the run has {want.get(diff)!r}): pass the training data")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            module = build_model(kind, plan.cls, plan.config, prepared.spec, prepared.codec,
                                 0 if prepared.conditions is None else prepared.conditions.width)
        steps, minutes, probe = plan.steps, self.max_minutes, None
        if resume is not None:
            steps = self.steps_
        elif steps is None:  # only a clock: as many steps as fit in it
            steps, probe = steps_for_clock(plan, module, prepared, self.seed, minutes, device, self.precision)
            if ranks.active:  # every process runs rank 0's plan
                steps = ranks.agree_on(steps)
            minutes = max(minutes - probe["probe_seconds"] / 60.0, 1e-3)
        cbs, average, selector = callbacks(plan, module, prepared, self.seed, minutes)
        guard = FiniteLosses(module)
        cbs.insert(0, guard)
        spread = Distributed(ranks) if ranks.active else None
        if spread is not None:
            cbs.insert(0, spread)
        self.world_ = ranks
        private = None
        if plan.options.private:
            from .training.private import DPSettings, PrivateTraining

            o = plan.options
            dp = DPSettings(o.dp_epsilon or None, o.dp_noise or None, o.dp_delta or None, o.dp_max_grad_norm)
            dp.validate()
            unit = {"entities": "entity", "rows": "row", "images": "image"}.get(kind.unit, "window")
            private = PrivateTraining(dp, module, len(prepared.train), plan.config.batch_size, steps, *kind.dp_unit(prepared.spec), unit=unit)
            prepared.train.poisson_rate = private.sample_rate
            cbs.append(private)
        fit_args = vars(roles).copy()
        prior = self.history_ if resume is not None else None

        def publish() -> None:  # the fitted state that does not depend on training
            self.config_, self.spec_, self.codec_, self.module_ = plan.config, prepared.spec, prepared.codec, module
            self.conditions_, self.split_, self.source_, self.steps_ = prepared.conditions, prepared.split, source_name(data), steps
            self.read_columns_ = roles.columns
            self.recipe_, self.kind_ = plan.recipe, plan.kind.name
            self._data, self._prepared = data, prepared  # this session only: resume() and privacy() read them again
            self.condition_bank_ = None
            if prepared.cond_records is not None and plan.options.keep_conditions:  # real conditions, drawn when sample() gets none
                keep = np.random.default_rng(self.seed).permutation(len(prepared.cond_records))[:BANK_SIZE]
                self.condition_bank_ = prepared.cond_records[np.sort(keep)]

        if checkpoint_dir is not None:
            def save_checkpoint(state: dict, history: pd.DataFrame) -> None:
                from .rundir import write_run

                publish()
                self.history_ = pd.concat([prior, history], ignore_index=True)
                self.resume_state_ = {**state, "fit_args": fit_args}
                self.train_info_ = self._info(plan, state["step"], state["seconds"], state["done"], "checkpoint")
                write_run(self, Path(checkpoint_dir), force=True)

            if ranks.main:  # rank 0 alone writes
                cbs.append(Checkpoints(checkpoint_minutes, save_checkpoint))
        warnings.filterwarnings("ignore", message="Full backward hook is firing")  # opacus' hooks on frozen inputs
        result = train(module, prepared.train, steps=steps, batch_size=plan.config.batch_size, seed=self.seed, device=device,
                       precision=self.precision, progress=self.progress and ranks.main, callbacks=cbs, resume=resume)
        publish()
        self.history_ = pd.concat([prior, result.history], ignore_index=True)
        # a run stopped early can go on (resume()); not with DP-SGD, whose accountant would restart
        self.resume_state_ = None if result.state is None or private is not None else {**result.state, "fit_args": fit_args}
        self.train_info_ = self._info(plan, result.steps, result.seconds, result.phases, result.stopped, private, probe)
        if guard.bad is not None:  # NaN/inf losses: the last good weights, no averaging or selection over bad ones
            bad = self.train_info_["nonfinite"] = guard.restore()
            self.train_info_["stopped"], self.resume_state_ = "nonfinite", None
            note(f"losses turned non-finite ({bad['loss']} = {bad['value']} at step {bad['step']}, phase {bad['phase']}): training "
                 f"stopped and the weights of step {bad['kept_step']} are kept; lower the learning rates or check the data for extreme values")
        elif selector is not None:  # the best checkpoint (of the averaged weights, with averaging)
            self.train_info_["selection"] = selector.restore()
        if average is not None and guard.bad is None:
            # the selected checkpoint holds averaged weights; with no check made, the average is applied here
            self.train_info_["ema"] = average.record() if selector is not None and selector.best is not None else average.apply()
        if spread is not None:
            spread.finish(module)  # rank 0's choice of weights everywhere
            self.train_info_["distributed"]["max_weight_gap"] = spread.weight_gap  # 0.0: every rank trained the same weights
        if checkpoint_dir is not None and ranks.main:
            from .rundir import write_run

            write_run(self, Path(checkpoint_dir), force=True)

    def _info(self, plan, steps: int, seconds: float, phases: dict, stopped: str, private=None, probe=None) -> dict[str, Any]:
        """What ``tsgan.json`` records of the training: steps, time, device, recipe, DP, decay."""
        info = {"steps": steps, "planned_steps": self.steps_, "seconds": round(seconds, 3), "device": str(resolve_device(self.device)),
                "precision": self.precision, "stopped": stopped, "phases": dict(phases), "seed": self.seed, "recipe": plan.recipe,
                "torch": torch.__version__, "threads": torch.get_num_threads(), "threads_why": self._threads_why,
                "peak_memory_mb": peak_memory_mb()}
        if probe is not None:
            info["clock_fit"] = probe
        ranks = getattr(self, "world_", None)
        if ranks is not None and ranks.active:
            info["distributed"] = {"world_size": ranks.size, "backend": ranks.backend, "global_batch": plan.config.batch_size,
                                   "per_process_batch": plan.config.batch_size // ranks.size}
        if private is not None:
            info["dp"] = private.spent
        if plan.options.lr_decay:
            window = decay_window(split_steps(self.module_.schedule(), self.steps_)[-1], plan.options.lr_decay)
            info["lr_decay"] = {"fraction": plan.options.lr_decay, "phase": self.module_.schedule()[-1].name, "steps": round(window)}
        return info

    def privacy(self, data: Any = None, n: int | None = None, seed: int = 0) -> dict[str, Any]:
        """Privacy scores (:mod:`tsgan.privacy`) of fresh samples against this run's
        training and holdout records. ``data`` is needed for a loaded run whose data was
        a DataFrame or an array (otherwise the recorded file or built-in is re-read)."""
        from .privacy import condition_copies, privacy_metrics

        self._check_fitted()
        if not self.split_.get("holdout"):
            raise TsganError("this run kept no holdout split (" + self.split_.get("note", "holdout=0") + "): refit with holdout=0.2 (--holdout 0.2) for privacy checks")
        train_w, hold_w = KINDS[self.kind].privacy_sets(self, data)
        bank = self.condition_bank_
        if bank is None and self.conditions_ is not None and self.conditions_.numeric:
            self.condition_bank_ = hold_w.cond_array()  # numeric conditions must be given: real ones the model never saw
        try:
            synth, cond = self._draw(n or min(len(train_w), 10_000), seed, None, None)
        finally:
            self.condition_bank_ = bank
        train, hold, synth = train_w.array(), hold_w.array(), KINDS[self.kind].privacy_records(self, synth)
        if cond is not None:  # condition columns are part of what a synthetic record discloses
            train, hold = (np.concatenate([x, w.cond_array()], axis=-1) for x, w in ((train, train_w), (hold, hold_w)))
            synth = np.concatenate([synth, cond], axis=-1)
        out = privacy_metrics(train, hold, synth, train_w.groups, hold_w.groups, seed=seed, by_time=self.split_.get("by") == "time")
        if cond is not None:
            out["conditions"] = condition_copies(train_w.cond_array(), hold_w.cond_array(), cond, self.condition_bank_ is not None, seed)
        out["kept_real"] = self.kept_real()
        out["split"] = self.split_
        if self.train_info_.get("dp"):
            out["dp"] = self.train_info_["dp"]
        return out

    def kept_real(self) -> list[str]:
        """What this run (its directory) holds that comes from the real data, beyond the
        model's weights: what the privacy report lists."""
        self._check_fitted()
        held = [f"the column names ({len(getattr(self.spec_, 'columns', []) or [])})"]
        if getattr(self.codec_, "kept", None):  # what the codec says it holds
            held.append(self.codec_.kept)
        elif self.codec_ is not None and hasattr(self.codec_, "min_"):
            held.append("each column's minimum and maximum (the scaler; not covered by a DP epsilon)")
        elif self.codec_ is not None:
            held.append("each column's categories and value modes (the table transformer; not covered by a DP epsilon)")
        if self.conditions_ is not None:
            held.append("the condition columns' labels and numeric ranges")
        if getattr(self, "condition_bank_", None) is not None:
            held.append(f"{len(self.condition_bank_)} real condition records (conditions.npy; keep_conditions=0 keeps none)")
        return held

    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise TsganError("this Synthesizer is not fitted: call fit(data) or tsgan.load(run_dir) first")

    # ------------------------------------------------------------------ sample
    def _draw(self, n: int, seed: int | None, condition: Any, codes: Any, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray | None]:
        """Samples in the model's space ``(n, ...)`` and the encoded conditions they used."""
        parts = list(self.stream(n, seed, condition, codes, chunk))
        cond = None if parts[0][1] is None else np.concatenate([c for _, c in parts])
        return np.concatenate([x for x, _ in parts]), cond

    @torch.no_grad()
    def stream(self, n: int, seed: int | None = None, condition: Any = None, codes: Any = None, chunk: int = 4096):
        """``n`` samples in the model's space as chunks ``(samples, conditions)`` of at
        most ``chunk``, drawn one after another from one random stream: memory stays
        flat however large ``n`` is, and the chunks together are what :meth:`sample`
        returns for the same seed."""
        from .sampling import latent_codes

        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise TsganError(f"n must be an integer of at least 1 (got {n!r}): e.g. sample(100) (-n 100)")
        # the randomness is drawn on the CPU, so a seed gives the same samples on any device
        rng = torch.Generator()
        rng.seed() if seed is None else rng.manual_seed(check_seed(seed))
        kind, seq_len = KINDS[self.kind], getattr(self.spec_, "seq_len", None)
        self.module_.eval()
        dev = self.module_.device
        for i in range(0, n, chunk):
            m = min(chunk, n - i)
            cond = kind.conditions(self, m, _part(condition, i, m, n, seq_len), rng)
            code = latent_codes(self.module_.controls, m, _part(codes, i, m, n, None), rng)
            with use_threads(getattr(self, "threads", None)):
                c = None if cond is None else torch.as_tensor(cond, device=dev)
                x = self.module_.generate(m, rng, c, code).float().cpu().numpy()
            yield x, cond

    def sample_scaled(self, n: int, seed: int | None = None, condition: Any = None, codes: Any = None) -> np.ndarray:
        """``n`` samples in the model's space (sequences: ``(n, T, F)`` in [0, 1]), for metrics."""
        return self._draw(n, seed, condition, codes)[0]

    def sample_array(self, n: int, seed: int | None = None, condition: Any = None, codes: Any = None) -> np.ndarray:
        """``n`` samples as one array in original units: sequences ``(n, T, F)`` (float64),
        images ``(n, C, S, S)`` in [0, 1]. Table runs give rows: use :meth:`sample`."""
        return KINDS[self.kind].decode_array(self, self._draw(n, seed, condition, codes)[0])

    def sample(self, n: int, seed: int | None = None, condition: Any = None, codes: Any = None) -> pd.DataFrame:
        """``n`` synthetic samples as a DataFrame, for every kind of model: sequences in
        long format (``sequence_id``, ``step``, condition columns, the original columns
        in their dtypes), table rows in the original columns, images one row each
        (label, ``pixel_<row>_<col>``). The same ``seed`` gives the same samples; None
        draws fresh ones. ``condition`` (conditional models): a label, a dict
        ``{column: value}``, a list of ``n`` labels or a DataFrame; None draws them as
        the training data has them. ``codes`` (InfoGAN): a category index, a list of
        ``n`` indices, or ``{"category": ..., "continuous": ...}``."""
        scaled, cond = self._draw(n, seed, condition, codes)
        return KINDS[self.kind].frame(self, scaled, cond)

    sample_frame = sample  # the name of sample() for sequences before version 0.2

    def save(self, path: str | Path, force: bool = False) -> Path:
        """Write the run directory (:mod:`tsgan.rundir`); an existing one needs ``force=True``."""
        from .rundir import write_run

        self._check_fitted()
        ranks = getattr(self, "world_", None)
        if ranks is not None and not ranks.main:  # several processes: rank 0 alone writes
            return Path(path)
        return write_run(self, Path(path), force)


def _part(request: Any, i: int, m: int, n: int, seq_len: int | None) -> Any:
    """The slice of a per-sample request (conditions, codes) for samples ``i .. i + m``
    of ``n``: lists, arrays and frames of ``n`` items (or ``n * seq_len`` rows, per step)
    are sliced; single values and dicts of them apply to every sample."""
    if request is None or (i == 0 and m == n):
        return request
    if isinstance(request, dict):
        return {k: _part(v, i, m, n, seq_len) for k, v in request.items()}
    if isinstance(request, (str, bytes)) or np.ndim(request) == 0:
        return request
    size = len(request)
    if size == n:
        start, stop = i, i + m
    elif seq_len and size == n * seq_len:
        start, stop = i * seq_len, (i + m) * seq_len
    else:
        return request  # one value for all, or a size the encoder refuses with its own message
    return request.iloc[start:stop] if hasattr(request, "iloc") else request[start:stop]
