"""Device, precision and optimizer helpers shared by training and metrics.

Nothing here trains: metrics that fit a classifier (:mod:`tsgan.metrics`) and the
training loop (:mod:`tsgan.training`) both use these, so neither imports the other.
"""

from __future__ import annotations

import ctypes
import functools
import numbers
import os
import sys
from contextlib import nullcontext
from typing import Any, Callable

import torch

from .errors import TsganError

PRECISIONS = ("32", "bf16")


def adam(params, **kw) -> torch.optim.Optimizer:
    """``torch.optim.Adam`` with its fused kernel (one call per parameter instead of a
    dozen small ops; CPU and CUDA, torch >= 2.4), else its multi-tensor path. Same maths."""
    params = list(params)
    try:
        return torch.optim.Adam(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, foreach=True, **kw)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' picks CUDA when available, else the CPU; anything else is passed through."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise TsganError(f"unknown device {device!r}: use device='auto', 'cpu' or 'cuda' (--device)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise TsganError("--device cuda was asked for but no CUDA GPU is visible: use --device cpu or auto")
    return dev


def check_precision(precision: str) -> str:
    """``precision`` if it is one of PRECISIONS, else a TsganError naming them."""
    if precision not in PRECISIONS:
        raise TsganError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` computes in bfloat16 natively: a CUDA GPU that says so, or a
    CPU whose oneDNN has bfloat16 kernels (AVX512-BF16, AMX). Elsewhere oneDNN's LSTM
    refuses bfloat16 inputs and matrix products fall back to slow emulation."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN: let torch decide
        return True


def autocast(device: torch.device, precision: str) -> Callable[[], Any]:
    """A factory of the context the losses run in: nothing for "32"; for "bf16",
    ``torch.autocast`` with bfloat16, so matrix products and convolutions run in
    bfloat16 (about 4x the float32 rate on CPUs with AVX512-BF16 or AMX, and on
    tensor-core GPUs) while reductions and losses stay float32. bfloat16 keeps
    float32's exponent range, so no loss scaling is needed. Backward runs outside."""
    if check_precision(precision) == "32":
        return nullcontext
    if not bf16_supported(device):
        raise TsganError(
            f"this {device.type.upper()} has no bfloat16 arithmetic (CPUs need AVX512-BF16 or AMX), so bf16 would run slower "
            "and its recurrent layers fail: drop --precision bf16 (precision='32')"
        )
    return lambda: torch.autocast(device.type, dtype=torch.bfloat16)


def to_cpu(obj: Any) -> Any:
    """A copy of nested dicts / lists / tuples with every tensor detached on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the model's state (weights and buffers) that later steps leave alone."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@functools.lru_cache(maxsize=None)
def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse instead of handing them back
    to the OS and faulting fresh pages in on the next step (the mmap threshold up to
    its 32 MiB maximum, trimming off). A training step frees and reallocates the same
    tensors thousands of times, so this saves most of its page faults; peak memory is
    unchanged. It changes the whole process, so the program that owns the process
    calls it (the ``tsgan`` command does, once); ``TSGAN_KEEP_FREED=0`` leaves malloc
    alone. Returns whether the setting was applied (glibc only)."""
    if os.environ.get("TSGAN_KEEP_FREED", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        return False


def cpu_budget() -> tuple[int, str]:
    """How many CPU threads this process can use without oversubscribing, and why:
    ``OMP_NUM_THREADS`` when set; else the CPUs this process may run on (affinity),
    capped by a cgroup CPU quota (containers) and by the CPUs the machine's load
    (the 1-minute load average) leaves free. At least one."""
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env), "OMP_NUM_THREADS"
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    n, why = cpus, f"{cpus} CPUs"
    quota = _cgroup_quota()
    if quota is not None and quota < n:
        n, why = quota, f"a CPU quota of {quota}"
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    free = cpus - int(load)  # CPUs the other processes leave idle (a fraction of one busy CPU still leaves it free)
    if free < n:
        n, why = max(free, 1), f"{cpus} CPUs with load {load:.1f}"
    return max(n, 1), why


def _cgroup_quota() -> int | None:
    """The cgroup's CPU quota in whole CPUs (v2 ``cpu.max`` or v1 ``cfs_quota_us``), if any."""
    def read(path: str) -> str:
        with open(path) as f:
            return f.read()

    try:
        quota, period = read("/sys/fs/cgroup/cpu.max").split()[:2]
        return None if quota == "max" else max(int(int(quota) / int(period)), 1)
    except (OSError, ValueError):
        pass
    try:
        quota, period = int(read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")), int(read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
        return max(int(quota / period), 1) if quota > 0 else None
    except (OSError, ValueError):
        return None


def check_seed(seed: Any, name: str = "seed") -> int:
    """``seed`` validated: an integer in [0, 2**32), as NumPy's and torch's generators take."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise TsganError(f"{name} must be an integer from 0 to 4294967295 (got {seed!r}): e.g. {name}=0 (--seed 0)")
    return int(seed)


def check_threads(threads: Any) -> int | None:
    """``threads`` validated: None (choose) or a positive integer."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1:
        raise TsganError(f"threads must be a positive integer (got {threads!r}): e.g. threads=2 (--threads 2), or leave it out to choose")
    return int(threads)


def pick_threads(threads: int | None = None) -> tuple[int, str]:
    """The thread count to use and why: the one asked for, else :func:`cpu_budget`."""
    threads = check_threads(threads)
    return (threads, "asked for") if threads is not None else cpu_budget()


class use_threads:
    """``with use_threads(n) as (count, why):`` torch's intra-op threads set to
    :func:`pick_threads`'s choice, and set back afterwards (a library call leaves
    the process as it found it)."""

    def __init__(self, threads: int | None = None):
        self.count, self.why = pick_threads(threads)

    def __enter__(self) -> tuple[int, str]:
        self._before = torch.get_num_threads()
        if self.count != self._before:
            torch.set_num_threads(self.count)
        return self.count, self.why

    def __exit__(self, *exc) -> None:
        if torch.get_num_threads() != self._before:
            torch.set_num_threads(self._before)


def mean_over_ranks(value: torch.Tensor) -> torch.Tensor:
    """``value`` averaged over the processes of a torch.distributed run (itself in one
    process): for decisions that read a loss, which every process must take alike."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value
    v = value.detach().clone().float()
    dist.all_reduce(v)
    return v / dist.get_world_size()


def peak_memory_mb() -> float | None:
    """This process's peak resident memory so far, in MiB (None where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)  # bytes on macOS, KiB on Linux
