"""Shared network pieces: a fused CPU GRU behind ``run_rnn``.

At TimeGAN's sizes (batch 128, hidden 24, 3 layers) ``nn.GRU`` on a CPU spends most
of its time in per-operator overhead and strided element-wise kernels. ``fused_gru.cpp``
computes the same maths (nn.GRU's gates and weights, unchanged) with one GEMM for
each layer's input projections, one small GEMM plus one vectorised loop per step, and
a hand-written backward whose weight gradients are one GEMM each over all steps.
Tests pin outputs and every gradient to ``nn.GRU``'s.

The kernel is compiled with ``torch.utils.cpp_extension`` on first use (about 30 s,
once per machine; cached under ``TORCH_EXTENSIONS_DIR`` or ``~/.cache/torch_extensions``).
Where that fails (no compiler), or with ``TSGAN_FUSED_RNN=0``, ``nn.GRU`` runs instead,
with the same results. The fused backward is not itself differentiable, so gradient
penalties (which need double backward) run inside ``plain_rnns()``.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

_SOURCE = Path(__file__).with_name("fused_gru.cpp")
_plain = False  # set inside plain_rnns()
_CHUNK = 512  # rows per fused pass without gradients


@lru_cache(maxsize=None)
def fused_kernel():
    """The compiled extension, or None where it cannot be built or is switched off."""
    if os.environ.get("TSGAN_FUSED_RNN", "1") == "0":
        return None
    try:
        with _quiet("torch.utils.cpp_extension"):  # CUDA builds of torch on a machine without CUDA log a warning at import
            from torch.utils.cpp_extension import _get_build_directory, load

        name = "tsgan_fused_gru_" + _cpu_tag()  # -march=native: one build per kind of CPU, even in a shared cache
        if not any(Path(_get_build_directory(name, False)).glob(f"{name}*.so")):
            print("tsgan: compiling the fused CPU GRU (once per machine, about 30 s)", file=sys.stderr)
        flags = ["-O3", "-ffast-math", "-fopenmp"] + (["-march=native"] if _native_ok() else [])
        return load(name=name, sources=[str(_SOURCE)], extra_cflags=flags, extra_ldflags=["-fopenmp"], verbose=False)
    except Exception as e:  # no compiler, no headers, ...: the plain nn.GRU gives the same results
        warnings.warn(f"tsgan: fused GRU unavailable ({type(e).__name__}: {e}); using nn.GRU (slower)", stacklevel=2)
        return None


@contextmanager
def _quiet(logger: str):
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _cpu_tag() -> str:
    import hashlib
    import platform

    try:
        flags = next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith(("flags", "Features"))), "")
    except OSError:
        flags = ""
    return hashlib.sha1((platform.machine() + flags).encode()).hexdigest()[:10]


def _native_ok() -> bool:
    return sys.platform.startswith("linux") and os.uname().machine in ("x86_64", "aarch64")


@contextmanager
def plain_rnns():
    """Run RNNs through PyTorch's own modules (double-differentiable) inside this block."""
    global _plain
    old, _plain = _plain, True
    try:
        yield
    finally:
        _plain = old


class _FusedGRU(torch.autograd.Function):
    @staticmethod
    @torch.amp.custom_fwd(device_type="cpu", cast_inputs=torch.float32)  # float32 inside, autocast or not
    def forward(ctx, x: Tensor, *weights: Tensor) -> Tensor:
        out, *saved = fused_kernel().forward(x, list(weights), True)
        ctx.save_for_backward(x, *weights, *saved)
        ctx.n_weights = len(weights)
        return out

    @staticmethod
    @once_differentiable
    @torch.amp.custom_bwd(device_type="cpu")
    def backward(ctx, grad: Tensor):
        x, *rest = ctx.saved_tensors
        weights, saved = rest[: ctx.n_weights], rest[ctx.n_weights :]
        need_x, need_w = ctx.needs_input_grad[0], any(ctx.needs_input_grad[1:])
        grads = fused_kernel().backward(grad.contiguous(), x, weights, saved, need_x, need_w)
        return tuple(g if (g is not None and need) else None for g, need in zip(grads, ctx.needs_input_grad))


def _fusable(module: nn.RNNBase, x: Tensor) -> bool:
    if _plain or type(module) is not nn.GRU or module.bidirectional or not module.bias or not module.batch_first:
        return False
    if module.dropout and module.training and module.num_layers > 1:
        return False
    if x.device.type != "cpu" or x.dtype != torch.float32 or x.dim() != 3:
        return False
    return fused_kernel() is not None


def run_rnn(module: nn.RNNBase, x: Tensor) -> Tensor:
    """All-step outputs of a batch-first RNN started from zeros: the fused kernel for a
    CPU GRU, the module itself otherwise. Under bfloat16 autocast the recurrence
    still runs in float32 (its inputs are cast back)."""
    if x.dtype in (torch.bfloat16, torch.float16):  # autocast made the input half precision
        x = x.float()
    if _fusable(module, x):
        weights = module._flat_weights
        if torch.is_grad_enabled() and (x.requires_grad or any(w.requires_grad for w in weights)):
            return _FusedGRU.apply(x.contiguous(), *weights)
        # no gradient needed: nothing saved for a backward; sequences are independent,
        # so large batches (sampling) run in chunks to keep memory flat
        ws = [w.detach() for w in weights]
        with torch.autocast("cpu", enabled=False):
            return torch.cat([fused_kernel().forward(c.contiguous(), ws, False)[0] for c in x.detach().split(_CHUNK)])
    return module(x)[0]


class Dropout(nn.Dropout):
    """``nn.Dropout`` with its mask drawn as one uniform draw and a comparison: the same
    distribution (keep with probability 1 - p, scale by 1 / (1 - p)) at about half the
    cost on a CPU, where ``bernoulli_`` draws at ~12 ns per element."""

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        keep = (torch.rand(x.shape, device=x.device) >= self.p).to(x.dtype)
        return x * keep * (1.0 / (1.0 - self.p))
