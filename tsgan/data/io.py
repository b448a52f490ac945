"""Reading and validating user tables (CSV, Parquet, DataFrame, array) into series.

Wide format: rows are the time steps of one series. Long/panel format: an id
column groups entities; windows never cross entities. A time/date column (named,
or detected by name or dtype) orders the rows and is not modelled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import TsganError, note

TIME_NAMES = {"date", "time", "datetime", "timestamp", "ds"}
READERS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}  # .npy: read_npy


def read_table(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet file or accept a DataFrame; refuse empty input clearly."""
    if isinstance(source, pd.Series):
        source = source.to_frame()
    if isinstance(source, pd.DataFrame):
        df = source
        where = "the DataFrame"
    elif not isinstance(source, (str, Path)):
        raise TsganError(f"cannot read data of type {type(source).__name__}: pass a file path, a DataFrame, an array or a built-in name")
    else:
        path = Path(source)
        if not path.exists():
            raise TsganError(f"file not found: {path}: check the path, or run `tsgan datasets` for built-in names")
        if path.is_dir():
            raise TsganError(f"{path} is a directory: pass a CSV or Parquet file")
        kind = READERS.get(path.suffix.lower())
        if kind is None:
            raise TsganError(f"cannot read '{path.suffix}' files: pass a .csv, .tsv, .parquet or .npy file")
        if path.stat().st_size == 0:
            raise TsganError(f"file is empty: {path}: it needs a header row and at least one data row")
        notes: list[str] = []
        try:
            if kind == "parquet":
                df = pd.read_parquet(path)
            else:
                df, notes = _read_text(path, kind == "tsv")
        except ImportError:
            raise TsganError("reading Parquet needs pyarrow: pip install pyarrow") from None
        except pd.errors.EmptyDataError:
            raise TsganError(f"file is empty: {path}: it needs a header row and at least one data row") from None
        except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise TsganError(f"could not parse {path}: {first}") from None
        where = str(path)
        for message in notes:
            note(message)
        df.attrs["notes"] = notes
    if df.shape[1] == 0:
        raise TsganError(f"{where} has no columns: it needs a header row and at least one data row")
    if len(df) == 0:
        raise TsganError(f"{where} has a header but no data rows: add data rows")
    return df


def _read_text(path: Path, tsv: bool) -> tuple[pd.DataFrame, list[str]]:
    """A CSV/TSV in the dialect :func:`~tsgan.data.sniff.sniff` detects, and what was detected."""
    from .sniff import sniff

    d = sniff(path, tsv)
    try:
        df = pd.read_csv(path, sep=d.sep, decimal=d.decimal, thousands=d.thousands, encoding=d.encoding)
    except UnicodeDecodeError:  # valid UTF-8 in the first lines only
        d.encoding = "cp1252"
        df = pd.read_csv(path, sep=d.sep, decimal=d.decimal, thousands=d.thousands, encoding="latin-1")
    return df, d.notes(path)


ARRAY_ID = "sequence_id"


def is_array(data: Any) -> bool:
    """An array-like of numbers rather than a path, a built-in's name or a DataFrame:
    a NumPy array, a torch tensor, or a list of sequences (each ``(time, features)``)."""
    if isinstance(data, (str, Path, pd.DataFrame, pd.Series)):
        return False
    return hasattr(data, "__array__") or isinstance(data, (list, tuple))


def is_npy(data: Any) -> bool:
    return isinstance(data, (str, Path)) and Path(data).suffix.lower() == ".npy"


def read_npy(path: str | Path) -> np.ndarray:
    """A ``.npy`` file saved by ``np.save`` (no pickled objects)."""
    path = Path(path)
    if not path.is_file():
        raise TsganError(f"file not found: {path}: check the path, or run `tsgan datasets` for built-in names")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TsganError(f"could not read {path}: {first} (save the array with np.save, numbers only)") from None


def frame_from_array(data: Any) -> tuple[pd.DataFrame, str | None]:
    """A wide (one series) or long (one id per sequence) frame from an array, and its
    id column: ``(time,)`` and ``(time, features)`` are one series; ``(sequences,
    time, features)`` -- TimeGAN's ``ori_data`` -- and a list of ``(time, features)``
    arrays (lengths may differ) are one sequence each. Features are named ``f0, f1, ...``."""
    if hasattr(data, "detach"):  # a torch tensor, maybe on a GPU
        data = data.detach().cpu().numpy()
    if isinstance(data, (list, tuple)):
        seqs = [np.asarray(s) for s in data]
        if not seqs:
            raise TsganError("the data list is empty: pass one (time, features) array per sequence")
        if all(s.ndim == 0 for s in seqs):  # a plain list of numbers: one series
            seqs = [np.asarray(data)]
            data = seqs[0]
        elif len({s.shape for s in seqs}) == 1 and seqs[0].ndim == 2:
            data = np.stack(seqs)
    if isinstance(data, (list, tuple)):
        seqs = [s[:, None] if s.ndim == 1 else s for s in seqs]
        if any(s.ndim != 2 for s in seqs) or len({s.shape[1] for s in seqs}) != 1:
            shapes = sorted({s.shape for s in seqs}, key=str)[:3]
            raise TsganError(f"every sequence in the list must be (time, features) with the same features; got shapes {shapes}")
        lengths = [len(s) for s in seqs]
        values = np.concatenate(seqs)
    else:
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim == 2:
            return _numeric_frame(arr), None
        if arr.ndim != 3:
            raise TsganError(f"a data array must be (time, features) or (sequences, time, features); got shape {arr.shape}")
        lengths = [arr.shape[1]] * arr.shape[0]
        values = arr.reshape(-1, arr.shape[2])
    frame = _numeric_frame(values)
    frame.insert(0, ARRAY_ID, np.repeat(np.arange(len(lengths)), lengths))
    return frame, ARRAY_ID


def _numeric_frame(values: np.ndarray) -> pd.DataFrame:
    if values.size == 0:
        raise TsganError(f"the data array is empty (shape {values.shape}): it needs at least one row")
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
        raise TsganError(f"the data array holds {values.dtype} values, not numbers: convert it with .astype(float)")
    return pd.DataFrame(values, columns=[f"f{k}" for k in range(values.shape[1])])


@dataclass
class SeriesSpec:
    """What was modelled and how to give it back: JSON-serialisable."""

    columns: list[str]
    dtypes: list[str]
    seq_len: int
    stride: int = 1
    time_column: str | None = None
    id_column: str | None = None
    n_entities: int = 1
    n_windows: int = 0
    skipped_entities: list[str] = field(default_factory=list)
    condition_columns: list[str] = field(default_factory=list)

    @property
    def n_features(self) -> int:
        return len(self.columns)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SeriesSpec":
        return cls(**d)


class Series(NamedTuple):
    spec: SeriesSpec
    base: np.ndarray  # (rows, F) float64, original units
    lengths: np.ndarray  # rows per kept entity
    conditions: pd.DataFrame | None  # condition columns, row-aligned with base


def _detect_time_column(df: pd.DataFrame, exclude: set[str]) -> str | None:
    for c in df.columns:
        if c in exclude:
            continue
        if pd.api.types.is_datetime64_any_dtype(df[c]) or str(c).strip().lower() in TIME_NAMES:
            return c
    return None


def _order_key(values: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=np.float64)
    parsed = pd.to_datetime(values, errors="coerce")
    if parsed.isna().any():
        bad = values[parsed.isna()].iloc[0]
        raise TsganError(f"time column '{name}' has a value that is not a date or number ({bad!r}): fix it or pass another --time-column")
    return parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def to_series(
    df: pd.DataFrame,
    seq_len: int,
    stride: int = 1,
    time_column: str | None = None,
    id_column: str | None = None,
    condition_columns: list[str] | None = None,
) -> Series:
    """Validate ``df`` and lay its series out for windowing.

    Returns ``Series(spec, base, lengths, conditions)``: ``base`` is ``(rows, F)``
    float64 in original units with entities consecutive and each ordered by time;
    ``lengths`` are the rows per kept entity; ``conditions`` holds the condition
    columns (not modelled as features) row-aligned with ``base``, or None. Entities
    shorter than ``seq_len`` are skipped (listed in ``spec.skipped_entities``); if
    none is long enough this raises.
    """
    condition_columns = list(condition_columns or [])
    if seq_len < 2:
        raise TsganError(f"--seq-len must be at least 2 (got {seq_len}): sequence models need two or more steps")
    if stride < 1:
        raise TsganError(f"--stride must be at least 1 (got {stride})")
    for opt, name in (("--time-column", time_column), ("--id-column", id_column)):
        if name is not None and name not in df.columns:
            raise TsganError(f"{opt} '{name}' is not a column: choose one of {', '.join(map(str, df.columns))}")
    for name in condition_columns:
        if name not in df.columns:
            raise TsganError(f"--condition-column '{name}' is not a column: choose one of {', '.join(map(str, df.columns))}")
        if name in (time_column, id_column):
            raise TsganError(f"'{name}' cannot be both a condition and the time/id column")
    if time_column is not None and time_column == id_column:
        raise TsganError("--time-column and --id-column must be different columns")
    if time_column is None:
        time_column = _detect_time_column(df, {id_column} if id_column else set())
    skip = {c for c in (time_column, id_column) if c is not None} | set(condition_columns)
    columns = [c for c in df.columns if c not in skip]
    if not columns:
        raise TsganError("no columns left to model after the time/id columns: add numeric columns")
    for c in columns:
        s = df[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise TsganError(
                f"column '{c}' is not numeric: pass --condition-column {c} to condition on it, --time-column {c} or --id-column {c}, or drop it"
            )
    values = df[columns].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        r, j = np.argwhere(bad)[0]
        n_bad = int(bad[:, j].sum())
        what = "NaN" if np.isnan(values[r, j]) else "infinite"
        raise TsganError(
            f"column '{columns[j]}' has {n_bad} missing or infinite values (first: {what} at row {r}): fill or drop them before fitting"
        )

    n = len(df)
    if id_column is not None:
        codes, uniques = pd.factorize(df[id_column], sort=False)
        if (codes < 0).any():
            raise TsganError(f"id column '{id_column}' has missing values: fill or drop those rows")
    else:
        codes, uniques = np.zeros(n, dtype=np.int64), np.array(["series"], dtype=object)
    if time_column is not None:
        order = np.lexsort((_order_key(df[time_column], time_column), codes))
    else:
        order = np.argsort(codes, kind="stable")
    lengths_all = np.bincount(codes, minlength=len(uniques))
    keep = lengths_all >= seq_len
    if not keep.any():
        who = "per entity " if id_column is not None else ""
        raise TsganError(
            f"the data has {lengths_all.max()} rows {who}but --seq-len is {seq_len}: lower --seq-len or add rows"
        )
    rows = order if keep.all() else order[keep[codes[order]]]
    base = values[rows]
    conditions = df[condition_columns].iloc[rows].reset_index(drop=True) if condition_columns else None
    lengths = lengths_all[keep]
    spec = SeriesSpec(
        columns=[str(c) for c in columns],
        dtypes=[str(df[c].dtype) for c in columns],
        seq_len=seq_len,
        stride=stride,
        time_column=None if time_column is None else str(time_column),
        id_column=None if id_column is None else str(id_column),
        n_entities=int(keep.sum()),
        condition_columns=[str(c) for c in condition_columns],
        skipped_entities=[str(u) for u in np.asarray(uniques)[~keep]][:20],
    )
    return Series(spec, base, lengths, conditions)


def restore_dtypes(values: np.ndarray, spec: SeriesSpec) -> dict[str, np.ndarray]:
    """Columns of ``values`` ``(rows, F)`` in the original dtypes (ints rounded, bools thresholded)."""
    out = {}
    for j, (name, dtype) in enumerate(zip(spec.columns, spec.dtypes)):
        col = values[:, j]
        try:  # pandas' nullable "Int64"/"Float32"/"boolean" map to their numpy kinds
            dt = np.dtype({"boolean": "bool"}.get(dtype, dtype.lower()))
        except TypeError:
            dt = None
        if dt is not None and dt.kind == "b":
            col = col >= 0.5
        elif dt is not None and dt.kind in "iu":
            col = np.rint(col).astype(dt)
        elif dt is not None and dt.kind == "f":
            col = col.astype(dt)
        out[name] = col
    return out
