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


def read_table(source: str | Path | pd.DataFrame, float32: bool = False, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet file or accept a DataFrame; refuse empty input clearly.

    ``float32``: a file's float64 columns come as float32 where that keeps their
    precision (:func:`_keeps_precision`), halving what the table weighs; Parquet is read
    column by column into pandas (pyarrow's ``self_destruct``), so the file's table and
    the frame are not both held whole. ``df.attrs["source_dtypes"]`` names the columns'
    dtypes in the file, which samples are written back in. A DataFrame is taken as it is.
    ``columns``: read only these (a file's other columns are never parsed into memory)."""
    if isinstance(source, pd.Series):
        source = source.to_frame()
    if isinstance(source, pd.DataFrame):
        df = select_columns(source, columns, "the DataFrame")
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
                df = _read_parquet(path, float32, columns)
            else:
                df, notes = _read_text(path, kind == "tsv", columns)
                if float32:
                    _to_float32(df)
        except TsganError:
            raise
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


FLOAT32_HEADROOM = 256.0  # float32 only where |x| <= 256 x the column's range: 16 of its 24 bits resolve the range


def _keeps_precision(lo: float, hi: float) -> bool:
    """Whether float32 keeps a column spanning ``[lo, hi]`` (finite) resolved to about
    1e-5 of its range: values far from zero relative to their spread (epoch seconds,
    large ids) keep float64, since float32 would round away their differences."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return False
    big = max(abs(lo), abs(hi))
    return big <= np.finfo(np.float32).max / 2 and big <= FLOAT32_HEADROOM * (hi - lo)


def select_columns(df: pd.DataFrame, columns: list[str] | None, where: str) -> pd.DataFrame:
    """``df[columns]`` (None: all), refusing a name that is not a column."""
    if columns is None:
        return df
    return df[_pick(columns, [str(c) for c in df.columns], where)]


def _pick(columns: list[str], have: list[str], where: str) -> list[str]:
    """``columns`` in the order of ``have`` (the data's), refusing a name not in it."""
    missing = [c for c in columns if c not in have]
    if missing:
        raise TsganError(f"--columns '{missing[0]}' is not a column of {where}: choose among {', '.join(have)}")
    wanted = set(columns)
    return [c for c in have if c in wanted]


def _read_parquet(path: Path, float32: bool, columns: list[str] | None = None) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    source: dict[str, str] = {}
    if float32 or columns is not None:  # a column at a time, each narrowed before the next is read
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        if columns is not None:
            names = [n for n in schema.names if not n.startswith("__index_level_")]
            schema = pa.schema([schema.field(c) for c in _pick(columns, names, str(path))], metadata=None)
        cols = []
        for f in schema:
            col = pf.read(columns=[f.name], use_pandas_metadata=False).column(0)
            if float32 and pa.types.is_float64(f.type):
                mm = pc.min_max(col).as_py()
                if mm["min"] is not None and _keeps_precision(mm["min"], mm["max"]):
                    col = pc.cast(col, pa.float32())
                    source[f.name] = "float64"
            cols.append(col)
        table = pa.table(cols, names=schema.names).replace_schema_metadata(schema.metadata)
        del cols
    else:
        table = pq.read_table(path)
    df = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    df.attrs["source_dtypes"] = source
    return df


def _to_float32(df: pd.DataFrame) -> None:
    """``df``'s float64 columns as float32 in place, where that keeps their precision."""
    source = {}
    for c in df.columns:
        if df[c].dtype == np.float64:
            col = df[c]
            if col.notna().any() and _keeps_precision(float(col.min()), float(col.max())):
                df[c] = col.astype(np.float32)
                source[c] = "float64"
    df.attrs["source_dtypes"] = source


def _read_text(path: Path, tsv: bool, columns: list[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """A CSV/TSV in the dialect :func:`~tsgan.data.sniff.sniff` detects, and what was
    detected; ``columns``: only those are parsed."""
    from .sniff import sniff

    d = sniff(path, tsv)
    if columns is not None:
        header = pd.read_csv(path, sep=d.sep, nrows=0, encoding=d.encoding, encoding_errors="replace")
        columns = _pick(columns, [str(c) for c in header.columns], str(path))  # usecols keeps the file's order
    kw = dict(sep=d.sep, decimal=d.decimal, thousands=d.thousands, usecols=columns)
    try:
        df = pd.read_csv(path, encoding=d.encoding, **kw)
    except UnicodeDecodeError:  # valid UTF-8 in the first lines only
        d.encoding = "latin-1"  # what the retry reads with (never fails): the note says so
        df = pd.read_csv(path, encoding="latin-1", **kw)
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
    parts = data if isinstance(data, (list, tuple)) else [data]
    if any(np.iscomplexobj(np.asarray(s)) for s in parts if not isinstance(s, (list, tuple))):
        raise TsganError("the data array holds complex numbers: pass their real and imaginary parts as features, "
                         "e.g. np.concatenate([x.real, x.imag], axis=-1)")
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
    n_skipped: int = 0  # entities shorter than seq_len, left out (a count: a run keeps no real id)
    condition_columns: list[str] = field(default_factory=list)
    order_columns: list[str] = field(default_factory=list)  # calendar columns (year, quarter, ...) that order rows, not modelled
    dropped_columns: list[str] = field(default_factory=list)  # row-index columns, not modelled
    notes: list[str] = field(default_factory=list)  # what was assumed about the data, as the fit said it
    fingerprint: str = ""  # SHA-256 of the modelled values (and conditions): resume and privacy refuse other data

    @property
    def n_features(self) -> int:
        return len(self.columns)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SeriesSpec":
        d = dict(d)
        if "skipped_entities" in d:  # format <= 2.0 listed (up to 20) skipped ids: only their count is kept
            d["n_skipped"] = len(d.pop("skipped_entities"))
        return cls(**d)


class Series(NamedTuple):
    spec: SeriesSpec
    base: np.ndarray  # (rows, F) float64, original units
    lengths: np.ndarray  # rows per kept entity
    conditions: pd.DataFrame | None  # condition columns, row-aligned with base


CALENDAR_RANK = {"year": 0, "quarter": 1, "month": 2, "week": 3, "day": 4, "weekday": 5, "dayofweek": 5, "hour": 6, "minute": 7, "second": 8}
ID_NAMES = {"id", "case", "subject", "patient", "entity", "unit", "series", "station", "device", "machine", "user", "customer", "account", "stay"}
MIN_INDEX_ROWS = 10  # a 0..n-1 counter this long is a row index, not a feature
WIDE_COLUMNS = 20  # this many numbered columns (t1, t2, ...) look like the steps of one case per row


def _lower(name: Any) -> str:
    return str(name).strip().lower()


def _parses_as_dates(col: pd.Series) -> bool:
    """A text column whose values (the first 50 present) all read as dates."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return False
    head = col.dropna().astype(str).head(50)
    if head.empty or not head.str.contains(r"\d").all():
        return False
    try:
        return not pd.to_datetime(head, errors="coerce", utc=True, format="mixed").isna().any()
    except (ValueError, TypeError):
        return False


def _detect_time_column(df: pd.DataFrame, exclude: set[str]) -> str | None:
    """A datetime column, a column named like a time (``date``, ``timestamp``, ...), or a
    text column of dates (also under a calendar name such as ``month``)."""
    for c in df.columns:
        if c in exclude:
            continue
        if pd.api.types.is_datetime64_any_dtype(df[c]) or _lower(c) in TIME_NAMES:
            return c
    for c in df.columns:
        if c not in exclude and _parses_as_dates(df[c]):
            return c
    return None


def _is_row_index(col: pd.Series, name: Any) -> bool:
    """``Unnamed: 0`` (a saved pandas index), ``index``, or an integer counter 0..n-1 / 1..n."""
    low = _lower(name)
    if low == "index" or low.startswith("unnamed:"):
        return True
    if len(col) >= MIN_INDEX_ROWS and pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col):
        v = col.to_numpy()
        return bool(v[0] in (0, 1) and np.all(np.diff(v) == 1))
    return False


def _is_calendar(col: pd.Series, name: Any) -> bool:
    if _lower(name) not in CALENDAR_RANK or not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return False
    v = col.to_numpy(dtype=np.float64)
    return bool(np.isfinite(v).all() and np.all(v == np.round(v)))


def _detect_id_column(df: pd.DataFrame, candidates: list[Any]) -> tuple[Any, int] | None:
    """A column whose values each fill one contiguous block of rows (entities written
    one after another): text, or integers under an id-like name. (column, entities)."""
    n = len(df)
    for c in candidates:
        col, low = df[c], _lower(c)
        text = not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col))
        named = low in ID_NAMES or low.endswith(("_id", " id", "-id")) or (low.endswith("id") and low[:-2] in ID_NAMES)
        if not (text or (named and pd.api.types.is_integer_dtype(col))) or col.isna().any():
            continue
        codes, uniques = pd.factorize(col, sort=False)
        k = len(uniques)
        if 2 <= k <= n // 2 and 1 + int(np.count_nonzero(codes[1:] != codes[:-1])) == k:
            return c, k
    return None


def _numbered_columns(columns: list[Any]) -> list[Any]:
    """The largest group of columns named one prefix plus consecutive numbers (t1..t150, 0..149)."""
    import re

    groups: dict[str, list[tuple[int, Any]]] = {}
    for c in columns:
        m = re.fullmatch(r"(.*?)(\d+)", str(c))
        if m:
            groups.setdefault(m.group(1), []).append((int(m.group(2)), c))
    best: list[Any] = []
    for members in groups.values():
        nums = sorted(k for k, _ in members)
        if len(members) > len(best) and nums == list(range(nums[0], nums[0] + len(nums))):
            best = [c for _, c in sorted(members, key=lambda m: m[0])]
    return best


def _parse_dates(values: pd.Series, name: str, notes: list[str]) -> pd.Series:
    """Date text as datetimes: month-first or day-first, whichever reads every value
    (and, if both do, keeps the rows in order more often: 01.02.2024 then 13.02.2024 is
    day first), said when day first; mixed UTC offsets compared in UTC."""
    mixed = []

    def parse(dayfirst: bool) -> pd.Series:
        try:
            got = pd.to_datetime(values, errors="coerce", format="mixed", dayfirst=dayfirst)
            if got.dtype == object:  # mixed UTC offsets: pandas keeps objects
                raise ValueError
            return got
        except (ValueError, TypeError):
            mixed.append(dayfirst)
            return pd.to_datetime(values, errors="coerce", utc=True, format="mixed", dayfirst=dayfirst)

    def backwards(t: pd.Series) -> int:
        return int((t.diff() < pd.Timedelta(0)).sum())

    month = parse(False)
    if values.astype(str).str.match(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}").all():  # year first (ISO): never day first
        if mixed:
            note(f"time column '{name}' mixes UTC offsets: times are compared in UTC", notes)
        return month
    day = parse(True)
    use_day = day.isna().sum() < month.isna().sum() or (day.isna().sum() == month.isna().sum() and backwards(day) < backwards(month))
    parsed = day if use_day else month
    if use_day and not day.equals(month):
        note(f"dates in time column '{name}' read day first ({values.iloc[0]!r} is {parsed.iloc[0]:%d %B %Y})", notes)
    if use_day in mixed:
        note(f"time column '{name}' mixes UTC offsets: times are compared in UTC", notes)
    return parsed


def _order_key(values: pd.Series, name: str, notes: list[str]) -> np.ndarray:
    """A sortable int64/float64 key from a time column: numbers, datetimes or date
    text (mixed UTC offsets compared in UTC). Missing values are refused."""
    missing = values.isna().to_numpy()
    if missing.any():
        raise TsganError(
            f"time column '{name}' has {int(missing.sum())} missing values (first at row {int(np.argmax(missing))}): "
            "fill or drop those rows, or pass another --time-column"
        )
    if pd.api.types.is_complex_dtype(values):
        raise TsganError(f"time column '{name}' holds complex numbers: pass a column of times, dates or step numbers")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=np.float64)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = _parse_dates(values, name, notes)
    if parsed.isna().any():
        bad = values[parsed.isna()].iloc[0]
        raise TsganError(f"time column '{name}' has a value that is not a date or number ({bad!r}): fix it or pass another --time-column")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
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
    in original units (float32 when every modelled column was read in float32, else
    float64) with entities consecutive and each ordered by time;
    ``lengths`` are the rows per kept entity; ``conditions`` holds the condition
    columns (not modelled as features) row-aligned with ``base``, or None. Entities
    shorter than ``seq_len`` are skipped (counted in ``spec.n_skipped``); if none is
    long enough this raises.

    What is not given is detected and said (``spec.notes``, a TsganWarning each): a
    time column (datetime dtype, a time-like name, or date text); an id column when
    entities are written one after another (text ids, or integers named like ids); a
    row index (``Unnamed: 0``, a 0..n-1 counter) and calendar fields (``year``,
    ``quarter``, ...), which order rows but are not modelled; repeated timestamps; a
    file that looks like one case per row.
    """
    condition_columns = list(condition_columns or [])
    notes: list[str] = list(df.attrs.get("notes", []))
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
        if time_column is not None and not pd.api.types.is_datetime64_any_dtype(df[time_column]) and _lower(time_column) not in TIME_NAMES:
            note(f"column '{time_column}' holds dates: it orders the rows and is not modelled (--time-column chooses another)", notes)
    skip = {c for c in (time_column, id_column) if c is not None} | set(condition_columns)
    rest = [c for c in df.columns if c not in skip]
    if id_column is None:
        found = _detect_id_column(df, rest)
        if found is not None:
            id_column, k = found
            rest.remove(id_column)
            note(f"column '{id_column}' holds {k} entities written one after another: used as --id-column {id_column}, "
                 "so windows never cross entities", notes)
    dropped = [c for c in rest if _is_row_index(df[c], c)]
    if dropped:
        note(f"column{'s' if len(dropped) > 1 else ''} {', '.join(repr(str(c)) for c in dropped)} "
             f"{'look' if len(dropped) > 1 else 'looks'} like a row index (Unnamed: 0, index, or 0, 1, 2, ...): not modelled", notes)
    calendar = sorted((c for c in rest if c not in dropped and _is_calendar(df[c], c)), key=lambda c: CALENDAR_RANK[_lower(c)])
    if calendar:
        names = ", ".join(repr(str(c)) for c in calendar)
        how = "order the rows" if time_column is None else f"repeat what time column '{time_column}' says"
        note(f"calendar column{'s' if len(calendar) > 1 else ''} {names} {how} and {'are' if len(calendar) > 1 else 'is'} not modelled "
             f"(--condition-column {calendar[0]} conditions on it)", notes)
    columns = [c for c in rest if c not in dropped and c not in calendar]
    if not columns:
        raise TsganError("no columns left to model after the time/id columns: add numeric columns")
    for c in columns:
        s = df[c]
        if pd.api.types.is_complex_dtype(s):
            raise TsganError(f"column '{c}' holds complex numbers: split it into two real columns (its .real and .imag parts)")
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise TsganError(
                f"column '{c}' is not numeric: pass --condition-column {c} to condition on it, --time-column {c} or --id-column {c}, or drop it"
            )
    numbered = _numbered_columns(columns) if id_column is None else []
    if len(numbered) >= WIDE_COLUMNS:
        note(f"the {len(numbered)} columns {numbered[0]}..{numbered[-1]} may be the time steps of one case per row (a wide file): "
             f"they are modelled as {len(numbered)} features of one series over the rows; if each row is a case, reshape to long "
             "format (one row per case and step, with an id column: pandas.melt) or pass a (cases, steps, features) array", notes)
    narrow = all(df[c].dtype == np.float32 for c in columns)  # read in float32 (a file): the base stays float32
    values = df[columns].to_numpy(dtype=np.float32 if narrow else np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        r, j = np.argwhere(bad)[0]
        n_bad = int(bad[:, j].sum())
        what = "NaN" if np.isnan(values[r, j]) else "infinite"
        raise TsganError(
            f"column '{columns[j]}' has {n_bad} missing or infinite values (first: {what} at row {r}): fill or drop them before fitting"
        )
    with np.errstate(over="ignore"):
        span = values.max(axis=0) - values.min(axis=0)
    if not np.isfinite(span).all():
        j = int(np.argmin(np.isfinite(span)))
        raise TsganError(
            f"column '{columns[j]}' spans {values[:, j].min():.3g} to {values[:, j].max():.3g}, too wide to scale "
            "(the difference overflows): rescale it, e.g. divide it by 1e300"
        )

    n = len(df)
    if id_column is not None:
        codes, uniques = pd.factorize(df[id_column], sort=False)
        if (codes < 0).any():
            raise TsganError(f"id column '{id_column}' has missing values: fill or drop those rows")
    else:
        codes, uniques = np.zeros(n, dtype=np.int64), np.array(["series"], dtype=object)
    keys = [_order_key(df[time_column], time_column, notes)] if time_column is not None else []
    keys += [df[c].to_numpy(dtype=np.float64) for c in calendar] if time_column is None else []
    order = np.lexsort((*reversed(keys), codes)) if keys else np.argsort(codes, kind="stable")
    if keys:
        same = codes[order][1:] == codes[order][:-1]
        for key in keys:
            same &= key[order][1:] == key[order][:-1]
        if same.any():
            where = "with another row of its entity" if id_column is not None else "with another row (several entities in one file? pass --id-column)"
            what = f"time column '{time_column}'" if time_column is not None else "the calendar columns"
            note(f"{int(same.sum())} rows share their time in {what} {where}: kept in file order", notes)
    lengths_all = np.bincount(codes, minlength=len(uniques))
    keep = lengths_all >= seq_len
    if not keep.any():
        who = "per entity " if id_column is not None else ""
        raise TsganError(
            f"the data has {lengths_all.max()} rows {who}but --seq-len is {seq_len}: lower --seq-len or add rows"
        )
    n_skipped = int((~keep).sum())
    if n_skipped:
        note(f"skipped {n_skipped} of {len(keep)} entities shorter than --seq-len {seq_len} (their median length: "
             f"{np.median(lengths_all[~keep]):g} rows; {int(lengths_all[~keep].sum())} rows left out): lower --seq-len to keep them", notes)
    rows = order if keep.all() else order[keep[codes[order]]]
    in_order = len(rows) == len(values) and bool((np.diff(rows) == 1).all())
    base = values if in_order else values[rows]  # rows already in order (the usual file): no second copy
    conditions = df[condition_columns].iloc[rows].reset_index(drop=True) if condition_columns else None
    lengths = lengths_all[keep]
    spec = SeriesSpec(
        columns=[str(c) for c in columns],
        dtypes=[df.attrs.get("source_dtypes", {}).get(c, str(df[c].dtype)) for c in columns],
        seq_len=seq_len,
        stride=stride,
        time_column=None if time_column is None else str(time_column),
        id_column=None if id_column is None else str(id_column),
        n_entities=int(keep.sum()),
        n_skipped=n_skipped,
        condition_columns=[str(c) for c in condition_columns],
        order_columns=[str(c) for c in calendar],
        dropped_columns=[str(c) for c in dropped],
        notes=notes,
    )
    spec.fingerprint = fingerprint(base, conditions)
    return Series(spec, base, lengths, conditions)


def fingerprint(base: np.ndarray, conditions: pd.DataFrame | None = None) -> str:
    """SHA-256 of the ordered values (and condition columns): the same data gives the
    same print. A float32 base (a file read in float32) hashes its own bytes, marked
    ``f32:`` (see :func:`comparable_prints`)."""
    import hashlib

    narrow = base.dtype == np.float32
    h = hashlib.sha256(memoryview(np.ascontiguousarray(base, dtype=np.float32 if narrow else np.float64)).cast("B"))  # no copy
    if conditions is not None:
        h.update(pd.util.hash_pandas_object(conditions, index=False).to_numpy().tobytes())
    return ("f32:" if narrow else "") + h.hexdigest()


def comparable_prints(a: str, b: str) -> bool:
    """Whether two fingerprints were taken the same way: runs fitted before files were
    read in float32 hashed float64 values, which a float32 read cannot reproduce (their
    data is then checked by shape and columns alone)."""
    return bool(a) and bool(b) and a.startswith("f32:") == b.startswith("f32:")


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
