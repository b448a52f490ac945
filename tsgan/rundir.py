"""The run directory: what ``Synthesizer.save`` writes and ``tsgan.load`` reads.

* ``tsgan.json``: format version, model, the estimator's parameters
  (``get_params()``), the model config, the data spec and codec, training info,
  conditions, the holdout split and the data's source;
* ``model.pt``: the weights, a ``state_dict`` loaded with ``weights_only=True`` (no
  pickled objects, CPU-loadable whatever device trained it);
* ``history.csv``: one row per training step (phase, seconds, every loss);
* ``resume.pt``: a run stopped early, the loop's state to go on from;
* ``conditions.npy``: conditional runs, the conditions of training records drawn when
  ``sample`` gets none.

Every file is written to a temporary name and renamed, so a crash never leaves half a
file. Runs of format 1 (tsgan 0.1) load: their fields are mapped on read.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import __version__
from .config import build_config, to_dict
from .data.conditions import ConditionEncoder
from .data.kinds import BANK_SIZE, KINDS
from .errors import TsganError
from .fitting import model_class
from .models import build_model
from .torch_utils import resolve_device, to_cpu

FORMAT_VERSION = 2
META_FILE = "tsgan.json"
WEIGHTS_FILE = "model.pt"
HISTORY_FILE = "history.csv"
RESUME_FILE = "resume.pt"
CONDITIONS_FILE = "conditions.npy"
RETIRED_FILES = ("ensemble.pt",)  # format 1's checkpoint mixture (retired): removed when a run is saved again
RETIRED_CONFIG = {"crnngan": ("freeze_g",)}  # config fields that no longer exist: dropped on read (training-only)


def ensure_writable_dir(path: Path, force: bool) -> None:
    """Refuse to write into an existing directory unless ``force``; refuse files and
    places this process cannot write (checked before training, not after)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise TsganError(f"{path} exists and is not a directory: choose another --out")
    if path.exists() and not force and path.resolve() not in _CLAIMED:
        raise TsganError(f"{path} already exists: pass --force to overwrite it, or choose another --out")
    parent = path if path.exists() else next((p for p in path.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise TsganError(f"cannot write to {path} ({parent} is not writable): choose another --out")


_CLAIMED: dict[Path, Any] = {}  # run directories this process holds the lock of -> lock file


class claim_run_dir:
    """``with claim_run_dir(path, force):`` the run directory, created and locked for
    this process: a second process writing there (two fits into one ``--out``) gets
    an error instead of overwriting the first's run. A directory created here and
    left empty (the fit failed) is removed on exit."""

    LOCK = ".tsgan.lock"

    def __init__(self, path: Path, force: bool = False):
        self.path = Path(path)
        ensure_writable_dir(self.path, force)
        self.created = not self.path.exists()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TsganError(f"cannot create {self.path} ({e.strerror}): choose another --out") from None
        self.handle = open(self.path / self.LOCK, "a+")
        if not _try_lock(self.handle):
            self.handle.close()
            raise TsganError(f"another tsgan process is writing {self.path}: wait for it to finish, or choose another --out")
        _CLAIMED[self.path.resolve()] = self.handle

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc) -> None:
        _CLAIMED.pop(self.path.resolve(), None)
        (self.path / self.LOCK).unlink(missing_ok=True)
        self.handle.close()  # closing releases the lock
        if self.created and not any(self.path.iterdir()):
            self.path.rmdir()


def _try_lock(handle) -> bool:
    """An exclusive, non-blocking lock on an open file (fcntl; msvcrt on Windows)."""
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    except OSError:
        return False


def atomic_write(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run(syn, path: Path, force: bool = False) -> Path:
    """Write a fitted Synthesizer's run directory (files other than the run's are left alone)."""
    ensure_writable_dir(path, force)
    lock = path / claim_run_dir.LOCK
    if lock.exists() and path.resolve() not in _CLAIMED:  # another process's fit is writing there
        with open(lock, "a+") as handle:
            if not _try_lock(handle):
                raise TsganError(f"another tsgan process is writing {path}: wait for it to finish, or choose another path")
    kind = KINDS[syn.kind]
    params = syn.get_params()
    meta = {
        "format_version": FORMAT_VERSION,
        "tsgan_version": __version__,
        "model": syn.model,
        "kind": syn.kind,
        "params": params,
        "config": to_dict(syn.config_),
        **kind.save(syn.spec_, syn.codec_),
        "steps": syn.steps_,
        "train": syn.train_info_,
        "conditions": None if syn.conditions_ is None else syn.conditions_.to_dict(),
        "holdout": syn.split_,
        "source": syn.source_,
        "read_columns": getattr(syn, "read_columns_", None),
    }
    path.mkdir(parents=True, exist_ok=True)
    state = to_cpu(syn.module_.state_dict())
    atomic_write(path / WEIGHTS_FILE, lambda f: torch.save(state, f))
    atomic_write(path / HISTORY_FILE, lambda f: syn.history_.to_csv(f, index=False))
    if syn.condition_bank_ is not None:
        atomic_write(path / CONDITIONS_FILE, lambda f: np.save(f, syn.condition_bank_, allow_pickle=False))
    else:  # a run saved again without them (keep_conditions=0) keeps none
        (path / CONDITIONS_FILE).unlink(missing_ok=True)
    for name in RETIRED_FILES:
        (path / name).unlink(missing_ok=True)
    resume = getattr(syn, "resume_state_", None)
    if resume is not None:
        atomic_write(path / RESUME_FILE, lambda f: torch.save(to_cpu(resume), f))
    else:  # finished: an older stopped run's state in this directory no longer applies
        (path / RESUME_FILE).unlink(missing_ok=True)
    atomic_write(path / META_FILE, lambda f: f.write(json.dumps(meta, indent=2).encode()))
    return path


def _params_of_format_1(meta: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Format 1 kept the estimator's settings in "synthesizer" (None for off) and the
    config beside them; it had no recipes, so its runs are the paper's recipe plus
    what they set."""
    s = meta.get("synthesizer", {})
    params = {"model": meta["model"], "recipe": "paper", "seq_len": s.get("seq_len", 24), "stride": s.get("stride", 1),
              "seed": s.get("seed", 0), "steps": s.get("steps"), "precision": s.get("precision", "32")}
    for key in ("ema", "select_every", "lr_decay", "image_size"):
        if s.get(key):
            params[key] = s[key]
    return params, s.get("steps")


MAX_META_BYTES = 64 << 20  # a tsgan.json larger than this is not one tsgan wrote
MAX_PARAMETERS = 500_000_000  # settings asking for more weights than this (2 GB) are refused before allocating
MAX_STEPS_OR_FEATURES = 1_000_000  # seq_len, features: bounds a tampered spec puts on sampling
MAX_SETTING = 100_000  # any integer model setting (hidden units, layers, batch size) above this is not tsgan's


def _damaged(path: Path, what: str) -> TsganError:
    return TsganError(f"{path} is damaged or was not written by tsgan ({what}): re-run `tsgan fit`, or restore the file")


def _load_torch(path: Path, max_bytes: int) -> Any:
    """``torch.load`` of a tensors-only file (``weights_only``: never runs pickled code),
    its size bounded first; any failure is one line naming the file."""
    if path.stat().st_size > max_bytes:
        raise _damaged(path, f"{path.stat().st_size:,} bytes, more than its model can hold")
    try:
        with warnings.catch_warnings():  # torch's own warnings about a foreign file: the error below says it
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated zip, foreign pickle, refused globals: torch raises many kinds
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise _damaged(path, first) from None


def _load_array(path: Path, width: int) -> np.ndarray:
    """A float array saved by ``np.save`` whose last axis is ``width`` (read without pickles)."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)  # the header first: shape and dtype
        if arr.ndim not in (2, 3) or arr.shape[-1] != width or arr.dtype.kind != "f" or len(arr) > 10 * BANK_SIZE:
            raise ValueError(f"an array of {arr.dtype} {arr.shape}, not conditions of width {width}")
        return np.array(arr)
    except (ValueError, OSError, EOFError) as e:
        raise _damaged(path, str(e).splitlines()[0] if str(e) else type(e).__name__) from None


def _read_history(path: Path) -> pd.DataFrame:
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:  # a run stopped before its first step
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as e:
        raise _damaged(path, str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__) from None


def read_run(path: str | Path, device: str | None = None):
    """Load a run saved by :func:`write_run`: the weights onto ``device`` (default the
    CPU, whatever trained it); a given ``device`` also becomes the estimator's.

    Every file is checked before use: ``tsgan.json``'s size, types and the size of the
    model its settings describe (counted on the meta device, allocating nothing);
    the weights' file size against that model; arrays by their header. A damaged,
    truncated or foreign file is a one-line error naming it."""
    path = Path(path)
    meta_path = path / META_FILE
    if not path.is_dir() or not meta_path.exists():
        raise TsganError(f"{path} is not a tsgan run (no {META_FILE}): pass the --out directory of `tsgan fit`")
    if meta_path.stat().st_size > MAX_META_BYTES:
        raise _damaged(meta_path, f"{meta_path.stat().st_size:,} bytes")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise TsganError(f"{meta_path} is not valid JSON ({e.msg}): re-run `tsgan fit`") from None
    except (UnicodeDecodeError, OSError) as e:
        raise _damaged(meta_path, type(e).__name__) from None
    try:
        return _read_run(path, meta, device)
    except TsganError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
        raise _damaged(meta_path, f"{type(e).__name__}: {str(e)[:200]}") from None


def _read_run(path: Path, meta: Any, device: str | None):
    from .synthesizer import Synthesizer

    meta_path = path / META_FILE
    types = {"model": str, "config": dict, "params": dict, "train": dict, "data": dict, "holdout": (dict, type(None)),
             "source": (str, type(None)), "conditions": (dict, type(None)), "scaler": (dict, type(None))}
    if not isinstance(meta, dict):
        raise _damaged(meta_path, "not a JSON object")
    for key, typ in types.items():
        if key in meta and not isinstance(meta[key], typ):
            raise _damaged(meta_path, f"'{key}' is a {type(meta[key]).__name__}")
    if not isinstance(meta.get("format_version", 1), int):
        raise _damaged(meta_path, "'format_version' is not a number")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise TsganError(f"{path} was saved by a newer tsgan ({meta.get('tsgan_version')}): upgrade tsgan")
    cls = model_class(meta["model"])
    if meta.get("kind", cls.kind) not in (cls.kind, "entity" if cls.kind == "sequence" else cls.kind):
        raise _damaged(meta_path, f"kind {meta.get('kind')!r} for model {meta['model']}")
    kind = KINDS[meta.get("kind", cls.kind)]
    config_values = {k: v for k, v in meta["config"].items() if k not in RETIRED_CONFIG.get(meta["model"], ())}
    config = build_config(cls.config_cls, config_values, meta["model"])
    if meta.get("format_version", 1) < 2:
        params, steps = _params_of_format_1(meta)
        params.update({k: v for k, v in config_values.items()})
        params["holdout"] = (meta.get("holdout") or {}).get("holdout")
    else:
        params, steps = dict(meta["params"]), meta.get("steps")
    syn = Synthesizer(**params)
    if device is not None:
        syn.device = device
    spec, codec = kind.load(meta)
    for name in ("seq_len", "n_features"):
        value = getattr(spec, name, 1)
        if not isinstance(value, int) or not 1 <= value <= MAX_STEPS_OR_FEATURES:
            raise _damaged(meta_path, f"{name} {value!r}")
    encoder = ConditionEncoder.from_dict(meta["conditions"]) if meta.get("conditions") else None
    cond_dim = 0 if encoder is None else encoder.width
    for name, value in vars(config).items():  # no size a model takes comes near this
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SETTING:
            raise _damaged(meta_path, f"{name} {value:,}")
    try:
        with torch.device("meta"):  # count the weights its settings ask for, allocating nothing
            n_params = sum(p.numel() for p in build_model(kind, cls, config, spec, codec, cond_dim).parameters())
    except RuntimeError as e:
        if "meta" not in str(e):  # sizes beyond what torch can even describe
            raise _damaged(meta_path, f"its settings ask for too many weights ({str(e)[:100]})") from None
        n_params = None  # a model that reads its own tensors while it is built (CTGAN): the settings' bound holds
    if n_params is not None and n_params > MAX_PARAMETERS:
        raise _damaged(meta_path, f"its settings ask for {n_params:,} weights")
    module = build_model(kind, cls, config, spec, codec, cond_dim)
    n_params = n_params or sum(p.numel() for p in module.parameters())
    weights_cap = 8 * n_params + (16 << 20)  # float32 weights and buffers, with room for the zip's overhead
    state = _load_torch(path / WEIGHTS_FILE, weights_cap)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise _damaged(path / WEIGHTS_FILE, "not a dictionary of tensors")
    try:
        module.load_state_dict(state)
    except RuntimeError:
        raise TsganError(
            f"{path}: the saved weights do not fit tsgan {__version__}'s {meta['model']} (saved by version "
            f"{meta.get('tsgan_version', 'unknown')}?): refit the run with this version"
        ) from None
    module.to(resolve_device(device or "cpu")).eval()
    syn.config_, syn.spec_, syn.codec_, syn.module_, syn.conditions_ = config, spec, codec, module, encoder
    syn.kind_ = kind.name
    bank = path / CONDITIONS_FILE
    syn.condition_bank_ = _load_array(bank, encoder.width) if encoder is not None and bank.exists() else None
    syn.train_info_ = meta.get("train", {})
    syn.steps_ = steps if steps is not None else syn.train_info_.get("steps")
    syn.recipe_ = syn.train_info_.get("recipe", {"name": params.get("recipe", "paper"), "set": {}})
    syn.split_ = meta.get("holdout") or {"holdout": 0.0, "note": "run saved before holdout splits"}
    syn.source_ = meta.get("source")
    syn.read_columns_ = meta.get("read_columns")
    syn._prepared = syn._data = None
    syn.history_ = _read_history(path / HISTORY_FILE)
    resume = path / RESUME_FILE
    syn.resume_state_ = _load_torch(resume, 4 * weights_cap + (64 << 20)) if resume.exists() else None
    if syn.resume_state_ is not None and not isinstance(syn.resume_state_, dict):
        raise _damaged(resume, "not a dictionary")
    return syn
