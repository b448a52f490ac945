"""The entity data kind: sequence models on entity tables, one sampled item an entity.

A table with an id column (and no ``seq_len``, which asks for windows) is read by
:class:`~tsgan.data.entities.EntityEncoder` into static vectors, padded steps and step
masks; the holdout is split by entity; samples come back as a table of the same
schema. The model is the chosen sequence model inside
:class:`tsgan.models.entity.EntityGAN` (static attributes first, then the steps).
"""

from __future__ import annotations


import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import TsganError, note
from .entities import MAX_CATEGORIES, EntityEncoder, number_code
from .kinds import DEFAULT_HOLDOUT, DataKind, FrameWriter, Prepared, Roles, _bar, load_data, partial_file, source_name
from .windows import draw_indices
from .tabular import _plain


@dataclass
class EntitySpec:
    """What the entity table was: counts, the columns and their roles, notes."""

    id_column: str
    time_column: str | None
    columns: list[str]  # the modelled columns
    roles: dict[str, str]  # column -> "static numeric", "temporal categorical", ...
    missing: dict[str, float]  # column -> share of missing values (columns that have any)
    n_entities: int  # in the table
    n_pieces: int  # entities after cutting long ones at max_length (and leaving out one-step ones)
    n_train: int
    max_length: int
    n_rows: int
    source: str | None = None
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def n_features(self) -> int:
        return len(self.columns)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EntitySpec":
        return cls(**d)


class EntityData:
    """Training entities: static vectors ``(E, S)``, steps ``(E, T, F)`` and the step
    mask ``(E, T)``; batches add per-step conditions ``(B, T, S + 1)`` (the static vector
    at every step, then the mask)."""

    def __init__(self, static: np.ndarray, temporal: np.ndarray, mask: np.ndarray):
        self.static, self.temporal, self.mask = static, temporal, mask
        self.poisson_rate: float | None = None

    groups = None  # every entity its own group in membership checks

    def __len__(self) -> int:
        return len(self.static)

    def array(self) -> np.ndarray:
        """One record per entity ``(E, 1, T * F + S + T)``: steps, statics and mask (privacy checks)."""
        return _records(self.static, self.temporal, self.mask)

    def cond_array(self) -> None:
        return None

    def shard(self, rank: int, size: int) -> "EntityData":
        """This process's share: the ``rank``-th of ``size`` consecutive blocks of entities
        (views here; the device gets just those)."""
        lo, hi = rank * len(self) // size, (rank + 1) * len(self) // size
        if hi <= lo:
            raise TsganError(f"{len(self)} training entities cannot be shared among {size} processes: run fewer processes")
        out = EntityData(self.static[lo:hi], self.temporal[lo:hi], self.mask[lo:hi])
        out.poisson_rate = self.poisson_rate
        return out

    def to(self, device) -> "EntitySampler":
        return EntitySampler(self.temporal, self.static, self.mask, device, self.poisson_rate)


class EntitySampler:
    """Batches ``(x (B, T, F), cond (B, T, S + 1))``: the per-step conditions (the static
    vector at every step, then the mask) are built for the batch only, so memory holds
    ``E x (S + T)`` numbers for them, not ``E x T x (S + 1)``."""

    def __init__(self, x: np.ndarray, static: np.ndarray, mask: np.ndarray, device, poisson_rate: float | None):
        self.x = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=device)
        self.s = torch.as_tensor(np.ascontiguousarray(static), dtype=torch.float32, device=device)
        self.m = torch.as_tensor(np.ascontiguousarray(mask), dtype=torch.float32, device=device)
        self.poisson_rate = poisson_rate

    def __len__(self) -> int:
        return len(self.x)

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = draw_indices(len(self), batch_size, generator, self.poisson_rate).to(self.x.device)
        x, s, m = self.x[idx], self.s[idx], self.m[idx]
        return x, torch.cat([s[:, None, :].expand(-1, x.shape[1], -1), m[:, :, None]], dim=-1)


def _describe_roles(enc: EntityEncoder, frame: pd.DataFrame) -> tuple[dict[str, str], dict[str, float]]:
    roles = {c.name: f"{c.role} {c.type}" for c in enc.schema.columns}
    missing = {c.name: round(float(frame[c.name].isna().mean()), 4) for c in enc.schema.columns if c.missing}
    return roles, missing


class EntityKind(DataKind):
    """Entity tables: an id column, usually a time column, static and temporal columns."""

    name, unit = "entity", "entities"
    writes, writes_help = (".csv", ".parquet", ".pq"), "a .csv or .parquet file (the training table's columns)"

    def prepare(self, data: Any, roles: Roles, holdout: float | None = None, seed: int = 0, max_length: int | None = None,
                **_) -> Prepared:
        frame, roles = load_data(data, roles)
        if roles.condition_columns:
            raise TsganError("entity runs are conditioned on their static columns when sampling (--condition admission=elective): "
                             "drop --condition-column, or pass --seq-len to train on windows")
        enc = EntityEncoder.fit(frame, roles.id_column, roles.time_column, roles.static_columns, roles.categorical_columns,
                                roles.max_categories or MAX_CATEGORIES, max_length)
        static, temporal, mask, owners = enc.transform(frame, owners=True)
        n_entities = int(frame[roles.id_column].nunique(dropna=False))
        notes: list[str] = []
        lengths = frame.groupby(frame[roles.id_column], sort=False, dropna=False).size().to_numpy()
        if max_length and (lengths > enc.max_length).any():
            long = int((lengths > enc.max_length).sum())
            note(f"{long} of {n_entities} entities are longer than --max-length {enc.max_length}: each was cut into consecutive "
                 f"pieces, each an entity ({len(static)} entities in all)", notes)
        if (lengths < 2).any():
            note(f"{int((lengths < 2).sum())} of {n_entities} entities have a single step and are left out (an entity needs 2)", notes)
        held, split = _split(owners, holdout, seed)
        train = EntityData(static[~held], temporal[~held], mask[~held])
        hold = EntityData(static[held], temporal[held], mask[held]) if held.any() else None
        role_names, missing = _describe_roles(enc, frame)
        spec = EntitySpec(enc.schema.id_column, enc.schema.time_column, [c.name for c in enc.schema.columns], role_names, missing,
                          n_entities, len(static), len(train), enc.max_length, len(frame), source_name(data), _fingerprint(static, temporal, mask), notes)
        return Prepared(train, hold, spec, enc, None, None, split)

    def model_shape(self, spec: EntitySpec, codec: EntityEncoder) -> tuple:
        return codec.layout_width("temporal"), codec.max_length

    wrapper = "entity"  # tsgan.models.WRAPPERS: the sequence model inside an EntityGAN
    private = False
    private_refusal = ("DP-SGD covers entity tables with --model doppelganger only (its critics alone read the data): choose it, "
                       "drop --dp-epsilon, or pass --seq-len to train on windows")

    def wrapper_args(self, spec: EntitySpec, codec: EntityEncoder) -> dict[str, Any]:
        layout = codec.layout()
        return {"n_features": codec.layout_width("temporal"), "seq_len": codec.max_length,
                "static_blocks": layout["static"], "lengths": codec.length,
                "temporal_groups": [(b["start"], b["width"]) for b in layout["temporal"] if b["kind"] == "one_hot"],
                "temporal_binaries": [b["start"] for b in layout["temporal"] if b["kind"] == "indicator"]}

    def save(self, spec: EntitySpec, codec: EntityEncoder) -> dict[str, Any]:
        return {"data": spec.to_dict(), "scaler": None, "columns": spec.columns, "encoder": codec.to_dict()}

    def load(self, meta: dict[str, Any]) -> tuple[EntitySpec, EntityEncoder]:
        if not isinstance(meta.get("encoder"), dict):
            raise TsganError("the run's tsgan.json has no entity encoder: the file is damaged; fit the run again")
        return EntitySpec.from_dict(meta["data"]), EntityEncoder.from_dict(meta["encoder"])

    def describe(self, spec: EntitySpec) -> str:
        by_role: dict[str, list[str]] = {}
        for name, role in spec.roles.items():
            r, t = role.split(" ", 1)
            miss = f", {spec.missing[name]:.0%} missing" if name in spec.missing else ""
            by_role.setdefault(r, []).append(f"{name} ({t}{miss})")
        parts = [f"{spec.n_train} entities (up to {spec.max_length} steps; {spec.n_rows:,} rows)",
                 f"id {spec.id_column}", f"time {spec.time_column or '(row order)'}"]
        parts += [f"{r}: {', '.join(cols)}" for r, cols in sorted(by_role.items())]
        return "; ".join(parts)

    def checked_condition(self, fitted, condition: Any) -> dict[str, Any]:
        if not isinstance(condition, dict):
            raise TsganError("entity runs take conditions as a dict of static columns, e.g. condition={'admission': 'elective'} "
                             "(--condition admission=elective)")
        return condition

    def conditions(self, fitted, n: int, condition: Any, rng) -> np.ndarray | None:
        """``(n, S)`` requested static values in the encoded space, NaN where free."""
        if condition is None:
            return None
        enc = fitted.codec_
        statics = {c.name: c for c in enc.static_columns()}
        blocks = {(b["name"], b["kind"]): b for b in enc.layout()["static"]}
        want = np.full((n, enc.layout_width("static")), np.nan, dtype=np.float32)
        for name, value in self.checked_condition(fitted, condition).items():
            col = statics.get(name)
            if col is None:
                kind = "changes within entities" if name in fitted.spec_.roles else "is not a column of the run"
                raise TsganError(f"cannot condition on '{name}': it {kind}; condition on a static column: "
                                 f"{', '.join(statics) or '(this run has none)'}")
            if col.type in ("categorical", "boolean"):
                b = blocks[(name, "one_hot")]
                idx = _category_index(col, value)
                want[:, b["start"] : b["start"] + b["width"]] = 0.0
                want[:, b["start"] + idx] = 1.0
            else:
                v = _number(col, value)
                b = blocks[(name, "number")]
                want[:, b["start"]] = number_code(col, np.array([v]))[0]
                if col.missing:
                    want[:, b["start"] + 1] = 0.0
        return want

    def decode_array(self, fitted, scaled: np.ndarray) -> np.ndarray:
        raise TsganError("entity runs give tables of mixed types: use sample(), which returns a DataFrame")

    def split_samples(self, fitted, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(static, temporal, mask)`` of the model's ``(n, T, F + S + 1)`` output."""
        f = fitted.codec_.layout_width("temporal")
        return x[:, 0, f:-1], x[:, :, :f], x[:, :, -1] > 0.5

    def frame(self, fitted, scaled: np.ndarray, cond: np.ndarray | None, first_id: int = 0) -> pd.DataFrame:
        return fitted.codec_.inverse_transform(*self.split_samples(fitted, scaled), first_id=first_id)

    def write(self, fitted, target: Path, n: int, progress: bool = False, **draw) -> str:
        """Stream ``n`` entities into ``target`` in long format, chunk by chunk."""
        rows = 0
        with partial_file(target) as tmp, _bar(progress, n, "sampling") as advance, FrameWriter(tmp, target.suffix.lower()) as out:
            i = 0
            for x, _ in fitted.stream(n, draw.get("seed"), draw.get("condition"), draw.get("codes"), chunk=1024):
                frame = self.frame(fitted, x, None, first_id=i)
                out.write(frame)
                rows += len(frame)
                i += len(x)
                advance(len(x))
        return f"{n} entities ({rows:,} rows x {len(fitted.codec_.schema.order)} columns)"

    def dp_unit(self, spec) -> tuple[int, int]:
        return 1, 1

    def privacy_sets(self, fitted, data: Any) -> tuple[EntityData, EntityData]:
        """The run's training and holdout entities (re-read from ``data`` when given or
        when this session did not fit the run)."""
        sets = getattr(fitted, "_prepared", None)
        if sets is not None and data is None:
            return sets.train, sets.holdout
        source = data if data is not None else fitted.source_
        if source is None:
            raise TsganError("this run was fitted on a DataFrame: pass its data (tsgan privacy RUN --data FILE)")
        spec = fitted.spec_
        frame, _ = load_data(source, Roles(spec.time_column, spec.id_column, columns=getattr(fitted, "read_columns_", None)))
        enc = fitted.codec_
        missing = [c for c in enc.schema.order if c not in frame.columns]
        if missing:
            raise TsganError(f"the data lacks the run's column '{missing[0]}': pass the data the run was fitted on")
        static, temporal, mask, owners = enc.transform(frame, owners=True)
        held, _ = _split(owners, fitted.split_.get("holdout"), fitted.seed)
        if fitted.spec_.fingerprint and _fingerprint(static, temporal, mask) != fitted.spec_.fingerprint:
            raise TsganError("the data is not the run's training data (its fingerprint differs: another file, or the file was "
                             "edited after the fit): pass the data the run was fitted on")
        return EntityData(static[~held], temporal[~held], mask[~held]), EntityData(static[held], temporal[held], mask[held])

    def privacy_records(self, fitted, x: np.ndarray) -> np.ndarray:
        """Samples ``(n, T, F + S + 1)`` as one record per entity ``(n, 1, T * F + S + T)``,
        the layout of :meth:`EntityData.array`."""
        static, temporal, mask = self.split_samples(fitted, x)
        return _records(static, temporal, mask)


def _fingerprint(*arrays: np.ndarray) -> str:
    """SHA-256 of the encoded entities: resume and privacy refuse other data."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def _records(static: np.ndarray, temporal: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n = len(static)
    flat = np.concatenate([temporal.reshape(n, -1), static, mask.astype(np.float32)], axis=1)
    return flat[:, None, :].astype(np.float32)


def _split(owners: np.ndarray, holdout: float | None, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Which pieces are held out (all pieces of a held-out entity), and the split's summary."""
    order = np.random.default_rng(seed).permutation(int(owners.max()) + 1)
    fraction = DEFAULT_HOLDOUT if holdout is None else holdout
    n_hold = int(round(fraction * len(order))) if len(order) >= 10 else 0
    if holdout and not n_hold:
        raise TsganError(f"{len(order)} entities are too few to hold {holdout:.0%} out: pass --holdout 0 (or more entities)")
    held = np.isin(owners, order[:n_hold])
    split = {"holdout": fraction if n_hold else 0.0, "by": "entity", "train_entities": int(len(order) - n_hold),
             "holdout_entities": n_hold}
    if not n_hold:
        split["note"] = "no holdout: fewer than 10 entities" if fraction else "no holdout: holdout=0"
    return held, split


def _category_index(col, value: Any) -> int:
    labels = list(col.categories)
    for i, label in enumerate(labels):
        if _plain(value) == label or str(value) == str(label) or (col.type == "boolean" and str(value).lower() == str(label).lower()):
            return i
    raise TsganError(f"'{col.name}' was never '{value}' in training: choose one of {', '.join(map(str, labels))}")


def _number(col, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TsganError(f"'{col.name}' is numeric: pass a number (got {value!r})") from None
    if not col.low <= v <= col.high:
        raise TsganError(f"'{col.name}' = {v:g} was never seen in training (its range is {col.low:g} to {col.high:g}): "
                         "ask for a value inside it")
    return v
