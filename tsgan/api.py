"""The user API: ``Synthesizer(...).fit(data).sample(n)``, ``save(dir)``, ``load(dir)``.

Persistence is a JSON file (version, model, config, data spec, scaler, columns)
plus a ``state_dict`` read back with ``weights_only=True``; never a pickle, so runs
load across versions and a GPU-trained model loads on the CPU.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import __version__
from .config import build_config, to_dict
from .data import BUILTINS, ConditionEncoder, MinMaxScaler, SeriesSpec, Windows, frame_from_array, is_array, is_npy, read_npy, read_table, restore_dtypes, to_series
from .data.builtin import is_builtin
from .data.windows import holdout_split
from .errors import TsganError
from .averaging import WeightAverage, check_decay
from .models import MODELS
from .selection import CheckpointSelector, check_ensemble, check_every, check_gate, choose_candidate, critic_level, pause_point
from .train import check_lr_decay, check_precision, decay_window, resolve_device, split_steps, train

FORMAT_VERSION = 1
META_FILE = "tsgan.json"
WEIGHTS_FILE = "model.pt"
HISTORY_FILE = "history.csv"
RESUME_FILE = "resume.pt"  # a run stopped early: the loop's state, for Synthesizer.resume / `tsgan resume`
ENSEMBLE_FILE = "ensemble.pt"  # --select-ensemble: the weights of the mixture's other checkpoints (model.pt holds the best)
CONDITIONS_FILE = "conditions.npy"  # conditions of up to BANK_SIZE training windows, drawn when sample() gets none
BANK_SIZE = 2000
DEFAULT_HOLDOUT = 0.2


def get_model_class(name: str):
    try:
        return MODELS[name]
    except KeyError:
        raise TsganError(f"unknown model '{name}': choose one of {', '.join(MODELS)} (see `tsgan models`)") from None


def load_data(
    data: str | Path | pd.DataFrame | np.ndarray,
    time_column: str | None = None,
    id_column: str | None = None,
    condition_columns: list[str] | None = None,
) -> tuple[pd.DataFrame, str | None, str | None, list[str] | None]:
    """A DataFrame from a path, a DataFrame, an array or a built-in dataset name, with its column roles."""
    if is_array(data) or is_npy(data):
        frame, array_id = frame_from_array(read_npy(data) if is_npy(data) else data)
        return frame, time_column, id_column or array_id, condition_columns
    if is_builtin(data):
        ds = BUILTINS[data]
        conds = condition_columns if condition_columns is not None else list(ds.condition_columns) or None
        return ds.load(), time_column or ds.time_column, id_column or ds.id_column, conds
    return read_table(data), time_column, id_column, condition_columns



def build_record() -> dict[str, Any]:
    """What a run trained on, beside its seed: a seed repeats a run only on the same torch
    build and number of CPU threads (float reductions differ between them, and a GAN's
    game amplifies the difference within a few hundred steps)."""
    return {"torch": torch.__version__, "threads": torch.get_num_threads()}


class Synthesizer:
    """Learn a generator of windows from time series and sample synthetic ones.

    ``Synthesizer(model="rcgan", seq_len=24, seed=0, **params)``: ``params`` are the
    model's config fields (``tsgan models`` lists them). Learned state ends in ``_``.
    """

    def __init__(
        self,
        model: str = "rcgan",
        seq_len: int = 24,
        stride: int = 1,
        seed: int = 0,
        steps: int = 1000,
        max_minutes: float | None = None,
        device: str = "auto",
        precision: str = "32",
        progress: bool = False,
        holdout: float | None = None,
        dp_epsilon: float | None = None,
        dp_delta: float | None = None,
        dp_noise: float | None = None,
        dp_max_grad_norm: float = 1.0,
        image_size: int | None = None,
        select_every: int | None = None,
        select_ensemble: int | None = None,
        ema: float | None = None,
        lr_decay: float | None = None,
        n_init: int = 1,
        init_share: float = 0.5,
        init_gate: float | None = None,
        **params: Any,
    ):
        self.model = model
        self.seq_len = seq_len
        self.stride = stride
        self.seed = seed
        self.steps = steps
        self.max_minutes = max_minutes
        self.device = device
        self.precision = check_precision(precision)  # "32" or "bf16" (mixed precision; see tsgan.train.autocast)
        self.progress = progress
        self.image_size = image_size  # image models: resize to this side (default: the images' own)
        self.holdout = holdout  # share kept out of training for privacy checks; None: 0.2 when the data allows
        # keep the best of the checkpoints scored every N steps of the last phase (tsgan.selection)
        self.select_every = None if select_every is None else check_every(select_every)
        # sample from an equal mixture of the select_ensemble best-checked checkpoints
        if select_ensemble is not None and select_every is None:
            raise TsganError("--select-ensemble mixes the best checkpoints of --select-every: add --select-every (e.g. 500)")
        self.select_ensemble = check_ensemble(select_ensemble)
        # sample from this moving average of the last phase's weights (tsgan.averaging)
        self.ema = None if ema is None else check_decay(ema)
        # decay every learning rate linearly over the last share of the last phase (tsgan.train)
        self.lr_decay = None if lr_decay is None else check_lr_decay(lr_decay)
        # best of n initialisations: n candidate runs (seeds seed .. seed + n - 1) train the
        # first init_share of the checked phase; the one with the best check goes on
        # (with init_gate, among those whose critic is not far ahead of its rivals')
        if n_init < 1:
            raise TsganError(f"--n-init must be at least 1 (got {n_init}): e.g. --n-init 2")
        if not 0 < init_share < 1:
            raise TsganError(f"--init-share must be between 0 and 1 (got {init_share}): e.g. --init-share 0.5")
        if n_init > 1 and select_every is None:
            raise TsganError("--n-init picks the candidate with the best selection check: add --select-every (e.g. 500)")
        if n_init > 1 and max_minutes is not None:
            raise TsganError("--n-init trains its candidates to a step, not a clock: drop --max-minutes (or --n-init)")
        if init_gate is not None and n_init < 2:
            raise TsganError("--init-gate chooses between the candidates of --n-init: add --n-init (e.g. 3) or drop --init-gate")
        self.n_init, self.init_share, self.init_gate = n_init, init_share, check_gate(init_gate)
        self.split_seed = None  # the holdout split's seed, when not ``seed`` (best-of-n: the first candidate's)
        self.dp = None
        if dp_epsilon is not None or dp_noise is not None:
            from .dp import DPSettings

            self.dp = DPSettings(dp_epsilon, dp_noise, dp_delta, dp_max_grad_norm)
            self.dp.validate()
            if precision != "32":
                raise TsganError("DP training runs in float32: drop --precision (opacus' per-sample gradients need float32)")
            if select_every is not None:
                raise TsganError("checkpoint selection scores the training data outside DP-SGD's accounting: drop --select-every")
            params = {**params, "dp_layers": True}
        self.params = params

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: str | Path | pd.DataFrame | np.ndarray,
        time_column: str | None = None,
        id_column: str | None = None,
        condition_columns: list[str] | str | None = None,
        checkpoint_dir: str | Path | None = None,
        checkpoint_minutes: float = 10.0,
        force: bool = False,
    ) -> "Synthesizer":
        """Validate ``data`` (path, DataFrame, array or built-in name), window it, train. Returns self.

        An array is ``(time, features)`` for one series, or ``(sequences, time,
        features)`` (or a list of ``(time, features)`` arrays) for one sequence each;
        its features are named ``f0, f1, ...``.

        ``condition_columns`` makes a conditional GAN: those columns (labels or
        numeric attributes, per sequence or per step) are inputs, not features, and
        ``sample(n, condition=...)`` asks for them.

        ``checkpoint_dir``: every ``checkpoint_minutes`` of training, save the run there
        as it stands, resumable (``tsgan.load(dir).resume()``) should the process die,
        and the finished run at the end; an existing directory needs ``force=True``.
        """
        if checkpoint_dir is not None:
            if self.dp is not None:
                raise TsganError("a DP-SGD run cannot be checkpointed for resuming (its privacy accounting would start afresh): drop the checkpoint")
            ensure_writable_dir(Path(checkpoint_dir), force)
            if checkpoint_minutes <= 0:
                raise TsganError(f"--checkpoint-minutes must be positive (got {checkpoint_minutes})")
        if self.n_init > 1:
            return self._fit_best_of(data, time_column, id_column, condition_columns, checkpoint_dir, checkpoint_minutes)
        return self._fit(data, time_column, id_column, condition_columns, checkpoint_dir=checkpoint_dir, checkpoint_minutes=checkpoint_minutes)

    def _fit_best_of(self, data, time_column, id_column, condition_columns, checkpoint_dir, checkpoint_minutes) -> "Synthesizer":
        """Best of ``n_init`` initialisations, as k-means' ``n_init`` (the GAN's outcome
        varies a lot between seeds). Candidate k trains with seed ``seed + k`` (all on the
        holdout split of ``seed``) and the full run's schedule, and pauses after
        ``init_share`` of the checked (last) phase, on a check; the candidate whose best
        check so far is lowest resumes to ``steps``. With ``init_gate`` G, a candidate
        whose critic level (:func:`tsgan.selection.critic_level`: its median critic loss
        over the last tenth of its stretch) is below G times the highest candidate's is
        passed over: its critic is winning the game, which marked most failed RCGAN runs
        on Sines (README, "Benchmarks"). The result is exactly the chosen seed's
        uninterrupted run; ``seed`` becomes its seed, and ``train_info_["n_init"]``
        records every candidate. Checkpoints (``checkpoint_dir``) cover the chosen
        candidate's continuation only."""
        if self.init_gate is not None:  # fail before training
            from .objectives import OBJECTIVES

            objective = getattr(build_config(get_model_class(self.model).config_cls, self.params, self.model), "objective", None)
            if objective is None or not OBJECTIVES[objective].bounded:
                raise TsganError(f"--init-gate compares critic losses, which the {objective} objective leaves unbounded: "
                                 "drop --init-gate or train with a cross-entropy or hinge objective")
        candidates, levels, paused_at = [], [], None
        for k in range(self.n_init):
            c = copy.copy(self)
            c.seed, c.n_init = self.seed + k, 1
            c.split_seed = self.split_seed_  # one holdout for all
            c._fit(data, time_column, id_column, condition_columns, pause_share=self.init_share)
            sel, paused_at = c.train_info_["selection"], c.train_info_["steps"]
            levels.append(critic_level(c.history_, sel["phase"]))  # NaN: no critic loss logged
            candidates.append(({"seed": c.seed, "best_step": sel["best_step"], "best_disc": sel["best_disc"],
                                "critic_level": None if np.isnan(levels[-1]) else levels[-1]}, c))
        _, best = candidates[choose_candidate([r["best_disc"] for r, _ in candidates], levels, self.init_gate)]
        best.resume(checkpoint_dir=checkpoint_dir, checkpoint_minutes=checkpoint_minutes)
        record = {"n": self.n_init, "share": self.init_share, "gate": self.init_gate, "steps": paused_at, "chosen_seed": best.seed,
                  "candidates": [r for r, _ in candidates]}
        vars(self).update(vars(best))
        self.n_init, self.init_share, self.init_gate = record["n"], record["share"], record["gate"]
        self.train_info_["n_init"] = record
        if checkpoint_dir is not None:  # the finished run, with its record
            self.save(checkpoint_dir, force=True)
        return self

    def resume(
        self,
        data: str | Path | pd.DataFrame | np.ndarray | None = None,
        max_minutes: float | None = None,
        checkpoint_dir: str | Path | None = None,
        checkpoint_minutes: float = 10.0,
    ) -> "Synthesizer":
        """Go on training a run that stopped early (``max_minutes``, Ctrl-C) up to its
        ``steps``, exactly as if it had never stopped: the weights as trained (not the
        averaged or selected ones it samples from), optimizer moments, random
        generators, averaging and checkpoint selection go on where they were.
        ``data``: the training data again, needed when a loaded run was fitted on a
        DataFrame or an array (else the data of this session's fit, or the recorded file
        or built-in, is read again). ``checkpoint_dir``: as in :meth:`fit` (the run's own
        directory is fine). Returns self."""
        self._check_fitted()
        state = getattr(self, "resume_state_", None)
        if state is None:
            if self.train_info_.get("dp"):
                raise TsganError("a DP-SGD run cannot be resumed (its privacy accounting starts afresh): fit a new run")
            raise TsganError(f"this run finished its {self.train_info_.get('steps', self.steps)} steps: nothing to resume; fit a new run with more --steps")
        source = next((d for d in (data, getattr(self, "_data", None), self.source_) if d is not None), None)
        if source is None:
            raise TsganError("this run was fitted on a DataFrame or an array: pass its data (tsgan resume RUN --data FILE)")
        if max_minutes is not None and max_minutes <= 0:
            raise TsganError(f"--max-minutes must be positive (got {max_minutes})")
        self.max_minutes = max_minutes
        if checkpoint_minutes <= 0:
            raise TsganError(f"--checkpoint-minutes must be positive (got {checkpoint_minutes})")
        return self._fit(source, **state["fit_args"], resume=state, expect=self.spec_.to_dict(), prior=self.history_,
                         checkpoint_dir=checkpoint_dir, checkpoint_minutes=checkpoint_minutes)

    def _checkpoint(self, path: Path, state: dict, history: pd.DataFrame, fit_args: dict) -> None:
        """Save the run as it is mid-training (its weights as trained), resumable."""
        self.history_, self.resume_state_ = history, {**state, "fit_args": fit_args}
        self.ensemble_ = None  # the weights as trained, not a mixture
        self.train_info_ = {"steps": state["step"], "seconds": round(state["seconds"], 3), "device": state["device_type"],
                            "precision": self.precision, "stopped": "checkpoint", "phases": state["done"], "seed": self.seed,
                            **build_record()}
        self.save(path, force=True)

    def _fit(self, data, time_column=None, id_column=None, condition_columns=None, resume=None, expect=None, prior=None,
             checkpoint_dir=None, checkpoint_minutes=10.0, pause_share=None) -> "Synthesizer":
        """:meth:`fit`, or with ``resume`` (a stopped run's loop state) its continuation;
        ``expect``: the run's data spec, which the re-read data must reproduce; ``prior``:
        the stopped run's history, which this part's continues;
        ``checkpoint_dir``: save the run there, resumable, every ``checkpoint_minutes``;
        ``pause_share``: pause, resumable, on the check after that share of the checked phase."""
        fit_args = {"time_column": time_column, "id_column": id_column, "condition_columns": condition_columns}
        if isinstance(condition_columns, str):
            condition_columns = [condition_columns]
        cls = get_model_class(self.model)
        config = build_config(cls.config_cls, self.params, self.model)
        if self.steps < 1:
            raise TsganError(f"--steps must be at least 1 (got {self.steps})")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise TsganError(f"--max-minutes must be positive (got {self.max_minutes})")
        device = resolve_device(self.device)
        if cls.kind == "image":
            data_, shape, encoder, cond_records, spec, scaler = self._prepare_images(data, condition_columns)
            holdout, split = None, {"holdout": 0.0, "note": "no holdout: image runs are not split (privacy checks cover sequences)"}
        elif cls.kind == "table":
            data_, shape, spec = self._prepare_table(data, condition_columns)
            encoder = cond_records = scaler = holdout = None
            split = {"holdout": 0.0, "note": "no holdout: table runs are not split (privacy checks cover sequences)"}
        else:
            frame, time_column, id_column, condition_columns = load_data(data, time_column, id_column, condition_columns)
            series = to_series(frame, self.seq_len, self.stride, time_column, id_column, condition_columns)
            spec = series.spec
            scaler = MinMaxScaler().fit(series.base)
            encoder = None if series.conditions is None else ConditionEncoder.fit(series.conditions)
            data_, holdout, split = self._split(series, scaler, encoder, self.holdout)
            spec.n_windows = len(data_)
            shape = (spec.n_features, spec.seq_len)
            cond_records = data_.cond_array() if encoder is not None else None
        windows = data_
        if expect is not None:
            got, want = ({k: v for k, v in d.items() if k != "source"} for d in (spec.to_dict(), expect))
            if got != want:
                diff = next(k for k in want if got.get(k) != want.get(k))
                raise TsganError(f"the data differs from the run's ({diff}: {got.get(diff)!r}, the run has {want.get(diff)!r}): pass the training data")

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            module = cls(config, *shape, cond_dim=0 if encoder is None else encoder.width)
        average = selector = None
        last_phase = module.schedule()[-1].name  # the one averaged and checked
        if self.ema is not None:
            average = WeightAverage(module, self.ema, last_phase)
        if self.select_every is not None:
            if cls.kind != "sequence":
                raise TsganError(f"--select-every scores sequences: {self.model} is a{'n' if cls.kind == 'image' else ''} {cls.kind} model, drop it")
            selector = CheckpointSelector(module, windows, self.select_every, last_phase, seed=self.seed, average=average,
                                          keep=self.select_ensemble)
        stop_at = None
        if pause_share is not None:  # a candidate of best-of-n: pause on a check
            counts = split_steps(module.schedule(), self.steps)
            stop_at = sum(counts[:-1]) + pause_point(counts[-1], pause_share, self.select_every)
        private = None
        if self.dp is not None:
            from .dp import PrivateTraining

            private = PrivateTraining(self.dp, module, len(windows), config.batch_size, self.steps, *(
                (self.seq_len, self.stride) if cls.kind == "sequence" else (1, 1)))
            windows.poisson_rate = private.sample_rate

        def publish() -> None:  # the fitted state that does not depend on training (at the end, or for a checkpoint)
            self.config_ = config
            self.spec_ = spec
            self.scaler_ = scaler
            self.module_ = module
            self.conditions_ = encoder
            self.split_ = split
            self.source_ = _source_name(data)
            self._data = data  # in this session, resume() reads it again (not saved)
            self._windows = (windows, holdout)
            self.condition_bank_ = None
            if cond_records is not None:  # conditions of training records, drawn when sample() gets none
                keep = np.random.default_rng(self.seed).permutation(len(cond_records))[:BANK_SIZE]
                self.condition_bank_ = cond_records[np.sort(keep)]

        checkpoint = None
        if checkpoint_dir is not None:
            def save_checkpoint(state: dict, history: pd.DataFrame) -> None:
                publish()
                self._checkpoint(Path(checkpoint_dir), state, pd.concat([prior, history], ignore_index=True), fit_args)

            checkpoint = (checkpoint_minutes, save_checkpoint)
        try:
            warnings.filterwarnings("ignore", message="Full backward hook is firing")  # opacus' hooks on frozen inputs
            result = train(
                module,
                windows,
                steps=self.steps,
                batch_size=config.batch_size,
                seed=self.seed,
                device=device,
                max_minutes=self.max_minutes,
                progress=self.progress,
                optimizer_hook=None if private is None else private.wrap_optimizers,
                update_context=None if private is None else private.update_context,
                precision=self.precision,
                monitors=[m for m in (average, selector) if m is not None],  # average first: the selector scores the updated average
                resume=resume,
                checkpoint=checkpoint,
                lr_decay=self.lr_decay,
                stop_at=stop_at,
            )
        finally:
            dp_spent = None if private is None else private.close()
        publish()
        self.history_ = pd.concat([prior, result.history], ignore_index=True)  # prior None: just this run's
        # a run stopped early can go on (resume()); not with DP-SGD, whose accountant would restart
        self.resume_state_ = None if result.state is None or private is not None else {**result.state, "fit_args": fit_args}
        self.train_info_ = {
            "steps": result.steps,
            "seconds": round(result.seconds, 3),
            "device": result.device,
            "precision": self.precision,
            "stopped": result.stopped,
            "phases": result.phases,
            "seed": self.seed,
            **build_record(),
        }
        if dp_spent is not None:
            self.train_info_["dp"] = dp_spent
        if self.lr_decay is not None:
            window = decay_window(split_steps(module.schedule(), self.steps)[-1], self.lr_decay)
            self.train_info_["lr_decay"] = {"fraction": self.lr_decay, "phase": last_phase, "steps": round(window)}
        self.ensemble_ = None
        if selector is not None:  # the best checkpoint (of the averaged weights, with averaging)
            self.train_info_["selection"] = selector.restore()
            if self.select_ensemble:  # and the mixture's other members
                self.ensemble_ = _members(module, selector.kept_states()[1:])
        if average is not None:
            self.train_info_["ema"] = average.record() if selector is not None else average.apply()
        if checkpoint_dir is not None:  # the checkpoints' directory ends with the run as trained
            self.save(checkpoint_dir, force=True)
        return self

    @property
    def kind(self) -> str:
        """The data this model learns: sequence, image (or table)."""
        return get_model_class(self.model).kind

    def _prepare_images(self, data, condition_columns):
        """Image data for the loop, the model's shape arguments, the label encoder."""
        from .data.images import ArrayData, ImageSpec, load_images

        images, labels, source = load_images(data, self.image_size)
        encoder = cond = None
        if condition_columns:
            if list(condition_columns) != ["label"]:
                raise TsganError(f"images are conditioned on their label: pass --condition-column label (got {', '.join(condition_columns)})")
            if labels is None:
                raise TsganError("these images have no labels: put each class in its own subfolder, or use `digits`")
            frame = pd.DataFrame({"label": labels})
            encoder = ConditionEncoder.fit(frame)
            cond = encoder.transform(frame)
        spec = ImageSpec(channels=int(images.shape[1]), size=int(images.shape[2]), n_images=len(images), source=source)
        return ArrayData(images, cond), (spec.channels, spec.size), encoder, cond, spec, None

    def _prepare_table(self, data, condition_columns):
        """Transformed rows for training-by-sampling, the model's layout arguments, the spec."""
        from .data.tabular import TableData, TableSpec, TableTransformer

        frame, _, _, _ = load_data(data)
        transformer = TableTransformer(seed=self.seed).fit(frame, categorical=condition_columns)
        spec = TableSpec([str(c) for c in frame.columns], len(frame), transformer.to_dict(), _source_name(data))
        self.transformer_ = transformer
        return TableData(transformer.transform(frame), transformer), (transformer.layout(), transformer.cond_width), spec

    @property
    def split_seed_(self) -> int:
        return self.seed if self.split_seed is None else self.split_seed

    def _split(self, series, scaler, encoder, holdout: float | None):
        """Training and holdout :class:`Windows` (scaled) and the split's summary.

        ``holdout=None`` is the default: hold out ``DEFAULT_HOLDOUT`` when the data
        allows it (enough entities or rows), else train on everything and say why.
        """
        fraction = DEFAULT_HOLDOUT if holdout is None else holdout
        try:
            ts, hs, tg, hg, split = holdout_split(series.lengths, self.seq_len, self.stride, fraction, self.split_seed_)
        except TsganError as e:
            if holdout is not None:
                raise
            ts, hs, tg, hg, split = holdout_split(series.lengths, self.seq_len, self.stride, 0.0, self.split_seed_)
            split["note"] = f"no holdout: {str(e).split(':')[0]}"
        base = scaler.transform(series.base)
        cond = None if encoder is None else encoder.transform(series.conditions)
        train_w = Windows(base, ts, self.seq_len, cond)
        hold_w = Windows(base, hs, self.seq_len, cond)
        train_w.groups, hold_w.groups = tg, hg
        return train_w, hold_w, split

    def privacy(self, data: str | Path | pd.DataFrame | np.ndarray | None = None, n: int | None = None, seed: int = 0) -> dict[str, Any]:
        """Privacy scores (:mod:`tsgan.privacy`) of fresh samples against this run's
        training and holdout windows. ``data`` is needed for a loaded run whose data
        was a DataFrame or an array (otherwise the recorded file or built-in is re-read)."""
        from .privacy import privacy_metrics

        self._check_fitted()
        if not self.split_.get("holdout"):
            raise TsganError(
                "this run kept no holdout split (" + self.split_.get("note", "--holdout 0") + "): refit with --holdout 0.2 for privacy checks"
            )
        windows = getattr(self, "_windows", None)
        if windows is None or data is not None:
            source = data if data is not None else self.source_
            if source is None:
                raise TsganError("this run was fitted on a DataFrame or an array: pass its data (tsgan privacy RUN --data FILE)")
            spec = self.spec_
            frame, *_ = load_data(source)
            series = to_series(frame, spec.seq_len, spec.stride, spec.time_column, spec.id_column, spec.condition_columns or None)
            if series.spec.columns != spec.columns:
                raise TsganError(f"the data's columns {series.spec.columns} differ from the run's {spec.columns}: pass the training data")
            windows = self._split(series, self.scaler_, self.conditions_, self.split_["holdout"])[:2]
        train_w, hold_w = windows
        if self.split_.get("reference_blocks"):  # one series: members drawn in blocks shaped like the holdout's
            from .data.windows import _block_starts

            def block_windows(blocks):
                parts = [_block_starts([(a, b - a)], self.spec_.seq_len, self.spec_.stride)[0] for a, b in blocks]
                return np.concatenate(parts), np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])

            starts, groups = block_windows(self.split_["reference_blocks"])
            train_w = Windows(train_w.base, starts, train_w.seq_len, train_w.cond)
            train_w.groups = groups
            hold_w.groups = block_windows(self.split_["blocks"])[1] + 1000
        synth = self.sample_scaled(n or min(len(train_w), 10_000), seed=seed)
        panel = True  # per entity (panel data) or per time block (one series)
        out = privacy_metrics(
            train_w.array(), hold_w.array(), synth,
            train_w.groups if panel else None, hold_w.groups if panel else None, seed=seed,
            by_time=self.split_.get("by") == "time",
        )
        out["split"] = self.split_
        if self.train_info_.get("dp"):
            out["dp"] = self.train_info_["dp"]
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise TsganError("this Synthesizer is not fitted: call fit(data) or tsgan.load(run_dir) first")

    # ------------------------------------------------------------------ sample
    @torch.no_grad()
    def _draw(self, n: int, seed: int | None, condition: Any, codes: Any, chunk: int = 4096):
        """Scaled windows ``(n, T, F)`` and the encoded conditions ``(n, T, C)`` (or None) they used."""
        self._check_fitted()
        if n < 1:
            raise TsganError(f"-n must be at least 1 (got {n})")
        dev = self.module_.device
        # sampling draws its randomness on the CPU, so a seed gives the same samples on any device
        rng = torch.Generator()
        if seed is None:
            rng.seed()
        else:
            rng.manual_seed(seed)
        if self.kind == "table":
            tr = self.transformer_
            gen = np.random.default_rng(None if seed is None else seed)
            cond = tr.condition_vector(condition, n) if condition is not None else tr.original_condition(n, gen)
        else:
            cond = self._condition_array(n, condition, rng)
        code = self._codes(n, codes, rng)
        members = [self.module_, *(getattr(self, "ensemble_", None) or [])]
        # an ensemble's sample i comes from member which[i]: each member draws n / len(members) of them, in random places
        which = np.zeros(n, dtype=np.int64) if len(members) == 1 else (torch.randperm(n, generator=rng) % len(members)).numpy()
        out = None
        for j, member in enumerate(members):
            member.eval()
            index = np.flatnonzero(which == j)
            for i in range(0, len(index), chunk):
                at = index[i : i + chunk]
                c = None if cond is None else torch.as_tensor(cond[at], device=dev)
                k = None if code is None else code[torch.as_tensor(at, device=code.device)]
                x = member.generate(len(at), rng, c, k).float().cpu()
                if out is None:
                    out = torch.empty((n, *x.shape[1:]))
                out[at] = x
        return out.numpy(), cond

    def _condition_array(self, n: int, condition: Any, rng: torch.Generator) -> np.ndarray | None:
        encoder = getattr(self, "conditions_", None)
        if encoder is None:
            if condition is not None:
                raise TsganError("this model was fitted without conditions: refit with condition_columns (--condition-column)")
            return None
        if condition is None:  # the training conditions' distribution
            idx = torch.randint(len(self.condition_bank_), (n,), generator=rng, device=rng.device).cpu().numpy()
            return self.condition_bank_[idx]
        return encoder.request(condition, n, getattr(self.spec_, "seq_len", None)).astype(np.float32)

    def _codes(self, n: int, codes: Any, rng: torch.Generator) -> torch.Tensor | None:
        """InfoGAN codes ``(n, K + M)``: given parts fixed, the rest drawn at random."""
        controls = self.module_.controls
        drawn = controls.draw_codes(n, rng)
        if codes is None:
            return drawn
        if drawn is None:
            raise TsganError("this model has no latent codes: fit with --param info_categories=K (InfoGAN) to steer by code")
        spec = codes if isinstance(codes, dict) else {"category": codes}
        unknown = set(spec) - {"category", "continuous"}
        if unknown:
            raise TsganError(f"unknown code part(s) {', '.join(sorted(unknown))}: use 'category' and/or 'continuous'")
        k, m = controls.n_categories, controls.n_continuous
        if spec.get("category") is not None:
            cat = np.broadcast_to(np.asarray(spec["category"]), (n,))
            if not k:
                raise TsganError("this model has no categorical code: fit with --param info_categories=K")
            if not np.issubdtype(cat.dtype, np.integer) or cat.min() < 0 or cat.max() >= k:
                raise TsganError(f"category codes must be integers 0..{k - 1}")
            drawn[:, :k] = torch.nn.functional.one_hot(torch.as_tensor(cat.copy(), device=drawn.device), k).float()
        if spec.get("continuous") is not None:
            if not m:
                raise TsganError("this model has no continuous codes: fit with --param info_continuous=M")
            try:
                cont = np.broadcast_to(np.asarray(spec["continuous"], dtype=np.float32), (n, m))
            except ValueError:
                raise TsganError(f"continuous codes need {m} value(s) per sequence") from None
            drawn[:, k:] = torch.as_tensor(cont.copy(), device=drawn.device)
        return drawn

    def sample_scaled(self, n: int, seed: int | None = None, condition: Any = None, codes: Any = None) -> np.ndarray:
        """``n`` windows ``(n, T, F)`` in the model's [0, 1] space (for metrics)."""
        return self._draw(n, seed, condition, codes)[0]

    def sample(self, n: int, seed: int | None = None, condition: Any = None, codes: Any = None) -> np.ndarray:
        """``n`` synthetic windows ``(n, T, F)`` in original units (float64); for
        image models, images ``(n, C, S, S)`` in [0, 1].

        The same ``seed`` gives the same samples; ``None`` draws fresh ones. The noise
        is drawn on the CPU, so a model fitted on a GPU and loaded on a CPU gives the
        same samples for a seed, up to the devices' floating-point rounding.
        ``condition`` (conditional models): a label, a dict ``{column: value}``, a
        list of ``n`` labels or a DataFrame of conditions; None draws them from the
        training data's conditions. ``codes`` (InfoGAN models): a category index,
        a list of ``n`` indices, or ``{"category": ..., "continuous": ...}``.
        """
        scaled = self.sample_scaled(n, seed, condition, codes)
        if self.kind == "table":
            return self.transformer_.inverse_transform(scaled)
        return scaled if self.scaler_ is None else self.scaler_.inverse_transform(scaled)

    def sample_frame(self, n: int, seed: int | None = None, condition: Any = None, codes: Any = None) -> pd.DataFrame:
        """Long DataFrame: ``sequence_id``, ``step``, condition columns (if any) and
        the original columns in their dtypes."""
        if self.kind == "image":
            raise TsganError("image runs give images, not a table: use sample() or `tsgan sample RUN --out grid.png`")
        if self.kind == "table":
            return self.sample(n, seed, condition, codes)
        scaled, cond = self._draw(n, seed, condition, codes)
        x = self.scaler_.inverse_transform(scaled)
        t = self.spec_.seq_len
        flat = x.reshape(n * t, -1)
        frame = pd.DataFrame(
            {"sequence_id": np.repeat(np.arange(n), t), "step": np.tile(np.arange(t), n)}
        )
        if cond is not None:
            labels = self.conditions_.inverse_transform(cond.reshape(n * t, -1))
            for name in labels.columns:
                frame[name] = labels[name].to_numpy()
        for name, col in restore_dtypes(flat, self.spec_).items():
            frame[name] = col
        return frame

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, force: bool = False) -> Path:
        """Write ``tsgan.json``, ``model.pt`` and ``history.csv`` into ``path`` (and
        ``resume.pt`` for a run stopped early, which :meth:`resume` goes on from).

        An existing directory needs ``force=True``; files other than these (and
        ``conditions.npy`` for conditional models) are left untouched.
        """
        self._check_fitted()
        path = Path(path)
        ensure_writable_dir(path, force)
        meta = {
            "format_version": FORMAT_VERSION,
            "tsgan_version": __version__,
            "model": self.model,
            "config": to_dict(self.config_),
            "data": self.spec_.to_dict(),
            "kind": self.kind,
            "scaler": None if self.scaler_ is None else self.scaler_.to_dict(),
            "columns": getattr(self.spec_, "columns", None),
            "train": self.train_info_,
            "conditions": None if self.conditions_ is None else self.conditions_.to_dict(),
            "holdout": self.split_,
            "source": self.source_,
            "synthesizer": {
                "seq_len": self.seq_len, "stride": self.stride, "seed": self.seed, "steps": self.steps, "precision": self.precision,
                "ema": self.ema, "select_every": self.select_every, "select_ensemble": self.select_ensemble, "image_size": self.image_size,
                "lr_decay": self.lr_decay, "split_seed": self.split_seed,
            },
        }
        path.mkdir(parents=True, exist_ok=True)
        state = _to_cpu(self.module_.state_dict())
        _atomic_write(path / WEIGHTS_FILE, lambda f: torch.save(state, f))
        _atomic_write(path / HISTORY_FILE, lambda f: self.history_.to_csv(f, index=False))
        if self.condition_bank_ is not None:
            _atomic_write(path / CONDITIONS_FILE, lambda f: np.save(f, self.condition_bank_, allow_pickle=False))
        ensemble = getattr(self, "ensemble_", None)
        if ensemble:
            states = [_to_cpu(m.state_dict()) for m in ensemble]
            _atomic_write(path / ENSEMBLE_FILE, lambda f: torch.save(states, f))
        else:  # a run without one: an older run's mixture in this directory no longer applies
            (path / ENSEMBLE_FILE).unlink(missing_ok=True)
        resume = getattr(self, "resume_state_", None)
        if resume is not None:
            _atomic_write(path / RESUME_FILE, lambda f: torch.save(_to_cpu(resume), f))
        else:  # finished: an older stopped run's state in this directory no longer applies
            (path / RESUME_FILE).unlink(missing_ok=True)
        _atomic_write(path / META_FILE, lambda f: f.write(json.dumps(meta, indent=2).encode()))
        return path


def _members(module: torch.nn.Module, states: list[dict[str, torch.Tensor]]) -> list[torch.nn.Module]:
    """Copies of ``module`` (on its device, in eval mode) holding each of ``states``: an
    ensemble's members besides ``module`` itself."""
    members = []
    for state in states:
        member = copy.deepcopy(module)
        member.load_state_dict(state)
        members.append(member.eval())
    return members


def _to_cpu(obj: Any) -> Any:
    """A copy of nested dicts / lists / tuples with every tensor on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _source_name(data: Any) -> str | None:
    """What to re-read for privacy checks: a built-in's name or the file's absolute path."""
    if not isinstance(data, (str, Path)):  # a DataFrame or an array
        return None
    if is_builtin(data):
        return data
    return str(Path(data).resolve())


def ensure_writable_dir(path: Path, force: bool) -> None:
    """Refuse to write into an existing directory unless ``force``; refuse files."""
    if path.exists() and not path.is_dir():
        raise TsganError(f"{path} exists and is not a directory: choose another --out")
    if path.exists() and not force:
        raise TsganError(f"{path} already exists: pass --force to overwrite it, or choose another --out")


def _atomic_write(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | Path, device: str = "cpu") -> Synthesizer:
    """Load a run saved by :meth:`Synthesizer.save` (weights onto ``device``, default CPU)."""
    path = Path(path)
    meta_path = path / META_FILE
    if not path.is_dir() or not meta_path.exists():
        raise TsganError(f"{path} is not a tsgan run (no {META_FILE}): pass the --out directory of `tsgan fit`")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as e:
        raise TsganError(f"{meta_path} is not valid JSON ({e.msg}): re-run `tsgan fit`") from None
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise TsganError(f"{path} was saved by a newer tsgan ({meta.get('tsgan_version')}): upgrade tsgan")
    cls = get_model_class(meta["model"])
    config = build_config(cls.config_cls, meta["config"], meta["model"])
    if cls.kind == "image":
        from .data.images import ImageSpec

        spec = ImageSpec.from_dict(meta["data"])
        shape = (spec.channels, spec.size)
    elif cls.kind == "table":
        from .data.tabular import TableSpec, TableTransformer

        spec = TableSpec.from_dict(meta["data"])
        transformer = TableTransformer.from_dict(spec.transformer)
        shape = (transformer.layout(), transformer.cond_width)
    else:
        spec = SeriesSpec.from_dict(meta["data"])
        shape = (spec.n_features, spec.seq_len)
    syn = Synthesizer(model=meta["model"], device=device, **meta["config"])
    s = meta.get("synthesizer", {})
    syn.seq_len, syn.stride, syn.seed, syn.steps = s.get("seq_len", 24), s.get("stride", 1), s.get("seed", 0), s.get("steps", 0)
    syn.precision, syn.ema, syn.select_every, syn.image_size = s.get("precision", "32"), s.get("ema"), s.get("select_every"), s.get("image_size")
    syn.lr_decay, syn.split_seed, syn.select_ensemble = s.get("lr_decay"), s.get("split_seed"), s.get("select_ensemble")
    if cls.kind == "table":
        syn.transformer_ = transformer
    syn._windows = None
    encoder = ConditionEncoder.from_dict(meta["conditions"]) if meta.get("conditions") else None
    module = cls(config, *shape, cond_dim=0 if encoder is None else encoder.width)
    syn.conditions_ = encoder
    syn.condition_bank_ = None if encoder is None else np.load(path / CONDITIONS_FILE, allow_pickle=False)
    state = torch.load(path / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    try:
        module.load_state_dict(state)
    except RuntimeError:
        raise TsganError(
            f"{path}: the saved weights do not fit tsgan {__version__}'s {meta['model']} (saved by version "
            f"{meta.get('tsgan_version', 'unknown')}?): refit the run with this version"
        ) from None
    module.to(resolve_device(device))
    module.eval()
    syn.config_, syn.spec_, syn.module_ = config, spec, module
    ensemble = path / ENSEMBLE_FILE
    syn.ensemble_ = _members(module, torch.load(ensemble, map_location="cpu", weights_only=True)) if ensemble.exists() else None
    syn.scaler_ = MinMaxScaler.from_dict(meta["scaler"]) if meta.get("scaler") else None
    syn.train_info_ = meta.get("train", {})
    syn.split_ = meta.get("holdout") or {"holdout": 0.0, "note": "run saved before holdout splits"}
    syn.source_ = meta.get("source")
    syn.holdout = syn.split_.get("holdout")
    hist = path / HISTORY_FILE
    syn.history_ = pd.read_csv(hist) if hist.exists() and hist.stat().st_size else pd.DataFrame()
    resume = path / RESUME_FILE
    syn.resume_state_ = torch.load(resume, map_location="cpu", weights_only=True) if resume.exists() else None
    return syn
