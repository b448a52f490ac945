"""One adapter per data kind: how records are read, prepared for training (with the
holdout split), decoded from the model's space and written out.

The estimator (:class:`tsgan.Synthesizer`) and the CLI ask the adapter of a model's
``kind``; neither compares kinds. Adding a kind of data is one more adapter here.
``fitted`` below is a fitted :class:`~tsgan.Synthesizer`: an adapter reads its
``spec_``, ``codec_`` (scaler or table transformer), ``conditions_`` and draws from it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TsganError
from .builtin import BUILTINS, is_builtin
from .conditions import ConditionEncoder
from .io import SeriesSpec, comparable_prints, frame_from_array, select_columns, is_array, is_npy, read_npy, read_table, restore_dtypes, to_series
from .scaler import MinMaxScaler
from .windows import Windows, _block_starts, holdout_split

DEFAULT_HOLDOUT = 0.2
BANK_SIZE = 2000  # conditions of up to this many training records, drawn when sample() gets none


@dataclass
class Roles:
    """What the user said of the data's columns."""

    time_column: str | None = None
    id_column: str | None = None
    condition_columns: list[str] | None = None
    static_columns: list[str] | None = None  # entity tables: forced static (checked)
    categorical_columns: list[str] | None = None  # entity tables: numbers read as labels
    max_categories: int | None = None  # entity tables: most labels a categorical column may have
    columns: list[str] | None = None  # read only these (and the columns named above); None: every column

    def read(self) -> list[str] | None:
        """The columns to read: ``columns`` and every column a role names, or None (all);
        ``condition_columns`` a list (load_data makes it one first)."""
        if not self.columns:
            return None
        named = [*self.columns, self.id_column, self.time_column, *(self.condition_columns or []), *(self.static_columns or []),
                 *(self.categorical_columns or [])]
        return list(dict.fromkeys(c for c in named if c is not None))


@dataclass
class Prepared:
    """Data ready for the loop, and what is needed to give samples back."""

    train: Any  # what the loop samples from: ``to(device).batch(n, generator)``
    holdout: Any  # held-out training records for privacy checks, or None
    spec: Any  # what the data was (JSON through ``to_dict``)
    codec: Any  # scaler or transformer into the model's space (JSON through ``to_dict``), or None
    conditions: ConditionEncoder | None
    cond_records: np.ndarray | None  # the encoded conditions of the training records
    split: dict[str, Any]  # the holdout split's summary


def load_data(data: Any, roles: Roles | None = None, float32: bool = False) -> tuple[pd.DataFrame, Roles]:
    """A DataFrame from a path, a DataFrame, an array or a built-in dataset name, with
    its column roles (a built-in's own roles fill what ``roles`` leaves open);
    ``float32``: a file's float columns in float32 where that keeps them (read_table)."""
    roles = roles or Roles()
    conds = [roles.condition_columns] if isinstance(roles.condition_columns, str) else roles.condition_columns
    if is_array(data) or is_npy(data):
        frame, array_id = frame_from_array(read_npy(data) if is_npy(data) else data)
        roles = replace(roles, id_column=roles.id_column or array_id, condition_columns=conds)
        return select_columns(frame, roles.read(), "the array"), roles
    if is_builtin(data):
        ds = BUILTINS[data]
        conds = conds if conds is not None else list(ds.condition_columns) or None
        roles = replace(roles, time_column=roles.time_column or ds.time_column, id_column=roles.id_column or ds.id_column,
                        condition_columns=conds)
        return select_columns(ds.load(), roles.read(), f"'{data}'"), roles
    roles = replace(roles, condition_columns=conds)
    return read_table(data, float32=float32, columns=roles.read()), roles


def source_name(data: Any) -> str | None:
    """What to re-read later (resume, privacy): a built-in's name or the file's absolute path."""
    if not isinstance(data, (str, Path)):  # a DataFrame or an array
        return None
    return data if is_builtin(data) else str(Path(data).resolve())


def write_frame(frame: pd.DataFrame, target: Path) -> None:
    """``frame`` into a .csv or .parquet file, whole or not at all."""
    suffix = target.suffix.lower()
    if suffix not in {".parquet", ".pq", ".csv"}:
        raise TsganError(f"cannot write '{target.suffix}' files: use a .csv or .parquet --out")
    with partial_file(target) as tmp, FrameWriter(tmp, suffix) as out:
        out.write(frame)


class partial_file:
    """``with partial_file(target) as tmp:`` write ``tmp`` (beside ``target``); it
    becomes ``target`` when the block ends, and is removed if the block raises
    (Ctrl-C included): no half-written output is ever left behind."""

    def __init__(self, target: Path):
        self.target = Path(target)
        self.tmp = self.target.with_name(f".{self.target.name}.partial{self.target.suffix}")

    def __enter__(self) -> Path:
        return self.tmp

    def __exit__(self, kind, *exc) -> None:
        if kind is None:
            os.replace(self.tmp, self.target)
        else:
            self.tmp.unlink(missing_ok=True)


class FrameWriter:
    """Appends DataFrames to one CSV (header once) or Parquet file (one row group each)."""

    def __init__(self, path: Path, suffix: str):
        self.path, self.parquet, self.handle, self.first = path, suffix in (".parquet", ".pq"), None, True

    def __enter__(self) -> "FrameWriter":
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if self.parquet:
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise TsganError("writing Parquet needs pyarrow: pip install pyarrow, or write a .csv") from None
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.handle is None:
                self.handle = pq.ParquetWriter(self.path, table.schema)
            self.handle.write_table(table)
        else:
            if self.handle is None:
                self.handle = open(self.path, "w", newline="")
            frame.to_csv(self.handle, index=False, header=self.first)
        self.first = False

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()


class _bar:
    """A progress bar over ``total`` samples on stderr (when ``show``); yields ``advance(k)``."""

    def __init__(self, show: bool, total: int, what: str):
        self.show, self.total, self.what, self.progress = show, total, what, None

    def __enter__(self):
        if not self.show:
            return lambda k: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn(self.what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
        self.progress.start()
        task = self.progress.add_task(self.what, total=self.total)
        return lambda k: self.progress.advance(task, k)

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()


class DataKind:
    """The adapter contract; the defaults suit kinds without a holdout.

    ``prepare(data, roles, **options) -> Prepared``; ``model_shape(spec, codec)``: the
    model constructor's arguments after the config; ``load(meta)`` / ``save(spec,
    codec)``: the run directory's fields; ``describe(spec)``: one line for the fit's
    summary; ``conditions(fitted, n, condition, rng)``: encoded conditions for
    sampling; ``decode_array`` / ``frame``: samples in original units, as an array or
    a DataFrame; ``write(fitted, path, n, **draw)``: samples into a file whose suffix is
    in ``writes``; ``privacy_sets(fitted, data)``: training and holdout records."""

    name = unit = writes_help = ""
    writes: tuple[str, ...] = ()
    checkable = False  # whether checkpoint selection can score it (tsgan.training.selection)

    def save(self, spec, codec) -> dict[str, Any]:
        return {"data": spec.to_dict(), "scaler": None, "columns": getattr(spec, "columns", None)}

    # the model is ``cls(config, *model_shape(spec, codec), cond_dim=...)``, or with a
    # ``wrapper`` (a key of tsgan.models.WRAPPERS) the wrapper built from ``cls``, the
    # config and ``wrapper_args(spec, codec)`` (tsgan.models.build_model)
    wrapper: str | None = None
    private = True  # DP-SGD can train on this kind
    private_refusal = ""
    entities: str | None = None  # the kind this one becomes for an entity table (an id column and no seq_len)

    def wrapper_args(self, spec, codec) -> dict[str, Any]:
        return {}

    def dp_unit(self, spec) -> tuple[int, int]:
        """(records per unit, stride): how many DP units one row of the data lies in is ceil of their ratio."""
        return 1, 1

    def privacy_records(self, fitted, x: np.ndarray) -> np.ndarray:
        """Samples in the model's space as the records :meth:`privacy_sets` compares."""
        return x

    def privacy_sets(self, fitted, data: Any):
        raise TsganError(f"privacy checks cover sequence runs: {self.name} runs keep no holdout")


class SequenceKind(DataKind):
    """Time series as windows of ``seq_len`` steps: one long series or a panel of entities."""

    name = "sequence"
    unit = "sequences"  # what one sample is
    entities = "entity"
    writes = (".csv", ".parquet", ".pq", ".npy")  # what `tsgan sample --out` may name
    writes_help = "a .csv or .parquet file (long format) or a .npy array"
    checkable = True

    def prepare(self, data: Any, roles: Roles, seq_len: int, stride: int, holdout: float | None, seed: int, **_) -> Prepared:
        frame, roles = load_data(data, roles, float32=True)
        series = to_series(frame, seq_len, stride, roles.time_column, roles.id_column, roles.condition_columns)
        del frame  # the series holds what it needs
        scaler = MinMaxScaler().fit(series.base)
        encoder = None if series.conditions is None else ConditionEncoder.fit(series.conditions)
        train, hold, split = self.split(series, scaler, encoder, holdout, seed)
        series.spec.n_windows = len(train)
        return Prepared(train, hold, series.spec, scaler, encoder, train.cond_array() if encoder else None, split)

    @staticmethod
    def split(series, scaler, encoder, holdout: float | None, seed: int) -> tuple[Windows, Windows, dict]:
        """Training and holdout windows (scaled) and the split's summary. ``holdout=None``
        holds out ``DEFAULT_HOLDOUT`` when the data allows it, else trains on everything
        and says why."""
        seq_len, stride = series.spec.seq_len, series.spec.stride
        fraction = DEFAULT_HOLDOUT if holdout is None else holdout
        try:
            ts, hs, tg, hg, split = holdout_split(series.lengths, seq_len, stride, fraction, seed)
        except TsganError as e:
            if holdout is not None:
                raise
            ts, hs, tg, hg, split = holdout_split(series.lengths, seq_len, stride, 0.0, seed)
            split["note"] = f"no holdout: {str(e).split(':')[0]}"
        base = scaler.transform(series.base, dtype=np.float32)  # one float32 base the training and holdout windows share
        cond = None if encoder is None else encoder.transform(series.conditions)
        train, hold = Windows(base, ts, seq_len, cond), Windows(base, hs, seq_len, cond)
        train.groups, hold.groups = tg, hg
        return train, hold, split

    def model_shape(self, spec: SeriesSpec, codec: Any) -> tuple:
        return spec.n_features, spec.seq_len

    def load(self, meta: dict[str, Any]) -> tuple[SeriesSpec, MinMaxScaler | None]:
        return SeriesSpec.from_dict(meta["data"]), MinMaxScaler.from_dict(meta["scaler"]) if meta.get("scaler") else None

    def save(self, spec: SeriesSpec, codec: Any) -> dict[str, Any]:
        return {"data": spec.to_dict(), "scaler": None if codec is None else codec.to_dict(), "columns": spec.columns}

    def describe(self, spec: SeriesSpec) -> str:
        return f"{spec.n_windows} windows ({spec.seq_len} x {spec.n_features})"

    def dp_unit(self, spec: SeriesSpec) -> tuple[int, int]:
        return spec.seq_len, spec.stride  # a row lies in up to ceil(seq_len / stride) windows

    def conditions(self, fitted, n: int, condition: Any, rng) -> np.ndarray | None:
        return _conditions(fitted, n, condition, rng, fitted.spec_.seq_len)

    def decode_array(self, fitted, scaled: np.ndarray) -> np.ndarray:
        return scaled if fitted.codec_ is None else fitted.codec_.inverse_transform(scaled)

    def frame(self, fitted, scaled: np.ndarray, cond: np.ndarray | None) -> pd.DataFrame:
        """Long format: ``sequence_id``, ``step``, condition columns, the original columns in their dtypes."""
        n, t = scaled.shape[:2]
        flat = self.decode_array(fitted, scaled).reshape(n * t, -1)
        frame = pd.DataFrame({"sequence_id": np.repeat(np.arange(n), t), "step": np.tile(np.arange(t), n)})
        if cond is not None:
            labels = fitted.conditions_.inverse_transform(cond.reshape(n * t, -1))
            for name in labels.columns:
                frame[name] = labels[name].to_numpy()
        for name, col in restore_dtypes(flat, fitted.spec_).items():
            frame[name] = col
        return frame

    def write(self, fitted, target: Path, n: int, progress: bool = False, **draw) -> str:
        """Stream ``n`` sequences into ``target`` chunk by chunk (memory stays flat), via
        a temporary file renamed at the end: an interrupted write leaves no file."""
        s = fitted.spec_
        per_sequence = s.seq_len * s.n_features * (8 if target.suffix.lower() == ".npy" else 12) + 16 * s.seq_len  # bytes, about
        free = shutil.disk_usage(target.parent if str(target.parent) else ".").free
        if n * per_sequence > free:
            raise TsganError(f"{n:,} sequences need about {n * per_sequence / 1e9:.1f} GB and {target.parent or '.'} has "
                             f"{free / 1e9:.1f} GB free: lower -n or write elsewhere")
        with partial_file(target) as tmp, _bar(progress, n, "sampling") as advance:
            chunks = fitted.stream(n, draw.get("seed"), draw.get("condition"), draw.get("codes"))
            suffix = target.suffix.lower()
            if suffix == ".npy":  # the header, then each chunk's bytes in order (C order: sequences first)
                with open(tmp, "wb") as f:
                    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float64)), "fortran_order": False,
                              "shape": (n, s.seq_len, s.n_features)}
                    np.lib.format.write_array_header_1_0(f, header)
                    for x, _ in chunks:
                        f.write(np.ascontiguousarray(self.decode_array(fitted, x), dtype=np.float64).tobytes())
                        advance(len(x))
            else:
                with FrameWriter(tmp, suffix) as out:
                    i = 0
                    for x, cond in chunks:
                        frame = self.frame(fitted, x, cond)
                        frame["sequence_id"] += i
                        out.write(frame)
                        i += len(x)
                        advance(len(x))
        return f"{n} sequences x {s.seq_len} steps x {s.n_features} columns"

    def privacy_sets(self, fitted, data: Any) -> tuple[Windows, Windows]:
        """The run's training and holdout windows (re-read from ``data`` when given or
        when this session did not fit the run), shaped for membership checks."""
        sets = getattr(fitted, "_prepared", None)
        if sets is None or data is not None:
            source = data if data is not None else fitted.source_
            if source is None:
                raise TsganError("this run was fitted on a DataFrame or an array: pass its data (tsgan privacy RUN --data FILE)")
            spec = fitted.spec_
            frame, _ = load_data(source, Roles(spec.time_column, spec.id_column, spec.condition_columns or None,
                                               columns=getattr(fitted, "read_columns_", None)), float32=True)
            series = to_series(frame, spec.seq_len, spec.stride, spec.time_column, spec.id_column, spec.condition_columns or None)
            if series.spec.columns != spec.columns:
                raise TsganError(f"the data's columns {series.spec.columns} differ from the run's {spec.columns}: pass the training data")
            if comparable_prints(spec.fingerprint, series.spec.fingerprint) and series.spec.fingerprint != spec.fingerprint:
                raise TsganError("the data is not the run's training data (its fingerprint differs: another file, or the file was "
                                 "edited after the fit): pass the data the run was fitted on")
            train, hold, _ = self.split(series, fitted.codec_, fitted.conditions_, fitted.split_["holdout"], fitted.seed)
        else:
            train, hold = sets.train, sets.holdout
        split = fitted.split_
        if split.get("reference_blocks"):  # one series: members drawn in blocks shaped like the holdout's
            def block_windows(blocks):
                parts = [_block_starts([(a, b - a)], fitted.spec_.seq_len, fitted.spec_.stride)[0] for a, b in blocks]
                return np.concatenate(parts), np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])

            starts, groups = block_windows(split["reference_blocks"])
            train = Windows(train.base, starts, train.seq_len, train.cond)
            train.groups = groups
            hold.groups = block_windows(split["blocks"])[1] + 1000
        return train, hold


class ImageKind(DataKind):
    """Images ``(N, C, S, S)`` in [0, 1]: a folder, a .npy array or the built-in ``digits``."""

    name, unit = "image", "images"
    writes, writes_help = (".png", "", ".npy"), "a .png grid, a .npy array or a folder"

    def prepare(self, data: Any, roles: Roles, image_size: int | None = None, **_) -> Prepared:
        from .images import ArrayData, ImageSpec, load_images

        images, labels, source = load_images(data, image_size)
        encoder = cond = None
        conds = roles.condition_columns
        if conds:
            if list(conds) != ["label"]:
                raise TsganError(f"images are conditioned on their label: pass --condition-column label (got {', '.join(conds)})")
            if labels is None:
                raise TsganError("these images have no labels: put each class in its own subfolder, or use `digits`")
            frame = pd.DataFrame({"label": labels})
            encoder = ConditionEncoder.fit(frame)
            cond = encoder.transform(frame)
        spec = ImageSpec(channels=int(images.shape[1]), size=int(images.shape[2]), n_images=len(images), source=source)
        split = {"holdout": 0.0, "note": "no holdout: image runs are not split (privacy checks cover sequences)"}
        return Prepared(ArrayData(images, cond), None, spec, None, encoder, cond, split)

    def model_shape(self, spec, codec) -> tuple:
        return spec.channels, spec.size

    def load(self, meta: dict[str, Any]) -> tuple[Any, None]:
        from .images import ImageSpec

        return ImageSpec.from_dict(meta["data"]), None

    def describe(self, spec) -> str:
        return f"{spec.n_images} images ({spec.channels} x {spec.size} x {spec.size})"

    def conditions(self, fitted, n: int, condition: Any, rng) -> np.ndarray | None:
        return _conditions(fitted, n, condition, rng, None)

    def decode_array(self, fitted, scaled: np.ndarray) -> np.ndarray:
        return scaled

    def frame(self, fitted, scaled: np.ndarray, cond: np.ndarray | None) -> pd.DataFrame:
        """One row per image: its label (conditional runs) and one column per pixel,
        ``pixel_<row>_<col>`` (``pixel_<channel>_<row>_<col>`` for colour), in [0, 1]."""
        n, c, h, w = scaled.shape
        names = [f"pixel_{y}_{x}" for y in range(h) for x in range(w)]
        if c > 1:
            names = [f"pixel_{k}_{y}_{x}" for k in range(c) for y in range(h) for x in range(w)]
        pixels = pd.DataFrame(scaled.reshape(n, -1), columns=names)
        if cond is None:
            return pixels
        return pd.concat([fitted.conditions_.inverse_transform(cond), pixels], axis=1)

    def write(self, fitted, target: Path, n: int, progress: bool = False, **draw) -> str:
        from .images import save_images

        x = fitted.sample_array(n, **draw)
        if target.suffix.lower() == ".npy":
            with partial_file(target) as tmp:
                np.save(tmp, x)
        else:
            save_images(x, target)
        s = fitted.spec_
        return f"{n} images ({s.channels} x {s.size} x {s.size})"


class TableKind(DataKind):
    """Rows of mixed numeric and categorical columns (CTGAN's data)."""

    name, unit = "table", "rows"
    writes, writes_help = (".csv", ".parquet", ".pq"), "a .csv or .parquet file"

    def prepare(self, data: Any, roles: Roles, seed: int = 0, **_) -> Prepared:
        from .tabular import TableData, TableSpec, TableTransformer

        frame, _ = load_data(data, roles)
        transformer = TableTransformer(seed=seed).fit(frame, categorical=roles.condition_columns)
        spec = TableSpec([str(c) for c in frame.columns], len(frame), transformer.to_dict(), source_name(data))
        split = {"holdout": 0.0, "note": "no holdout: table runs are not split (privacy checks cover sequences)"}
        return Prepared(TableData(transformer.transform(frame), transformer), None, spec, transformer, None, None, split)

    def model_shape(self, spec, codec) -> tuple:
        return codec.layout(), codec.cond_width

    def load(self, meta: dict[str, Any]) -> tuple[Any, Any]:
        from .tabular import TableSpec, TableTransformer

        spec = TableSpec.from_dict(meta["data"])
        return spec, TableTransformer.from_dict(spec.transformer)

    def describe(self, spec) -> str:
        return f"{spec.n_rows} rows x {len(spec.columns)} columns"

    def conditions(self, fitted, n: int, condition: Any, rng) -> np.ndarray:
        """CTGAN's conditional vector: for given column values, or drawn by the data's frequencies."""
        tr = fitted.codec_
        if condition is not None:
            return tr.condition_vector(condition, n)
        return tr.original_condition(n, np.random.default_rng(int(rng.initial_seed())))

    def decode_array(self, fitted, scaled: np.ndarray) -> np.ndarray:
        raise TsganError("table runs give rows of mixed types: use sample(), which returns a DataFrame")

    def frame(self, fitted, scaled: np.ndarray, cond: np.ndarray | None) -> pd.DataFrame:
        return fitted.codec_.inverse_transform(scaled)

    def write(self, fitted, target: Path, n: int, progress: bool = False, **draw) -> str:
        write_frame(fitted.sample(n, **draw), target)
        return f"{n} rows x {len(fitted.spec_.columns)} columns"


def _conditions(fitted, n: int, condition: Any, rng, seq_len: int | None) -> np.ndarray | None:
    """Encoded conditions for ``n`` samples: the requested ones, or drawn from the
    conditions of training records when none are given."""
    encoder = fitted.conditions_
    if encoder is None:
        if condition is not None:
            raise TsganError("this model was fitted without conditions: refit with condition_columns (--condition-column)")
        return None
    if condition is None:
        import torch

        if fitted.condition_bank_ is not None:
            idx = torch.randint(len(fitted.condition_bank_), (n,), generator=rng).numpy()
            return fitted.condition_bank_[idx]
        # a run that keeps no real condition records (DP, keep_conditions=0): labels uniformly, one per sample
        numeric = encoder.numeric
        if numeric:
            raise TsganError(f"this run keeps no real condition records (DP or keep_conditions=0): pass the conditions, "
                             f"e.g. condition={{'{numeric[0]}': value}} (--condition {numeric[0]}=VALUE)")
        frame = pd.DataFrame({c.name: [c.labels[k] for k in torch.randint(len(c.labels), (n,), generator=rng).tolist()]
                              for c in encoder.columns})
        condition = frame
    return encoder.request(condition, n, seq_len).astype(np.float32)


from .entity_kind import EntityKind  # noqa: E402  (it builds on the adapters above)

KINDS = {k.name: k for k in (SequenceKind(), ImageKind(), TableKind(), EntityKind())}
