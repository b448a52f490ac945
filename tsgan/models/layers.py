"""Shared network pieces.

``gru_wavefront`` evaluates a multi-layer ``nn.GRU`` (batch first) along the
anti-diagonals of the (layer, time) grid: layer ``l`` at time ``t`` needs only
layer ``l - 1`` at ``t`` and layer ``l`` at ``t - 1``, so all layers on one
diagonal run as one batched matmul. Same weights, same maths as ``nn.GRU``
(tests pin the equality); ``L + T - 1`` sequential steps instead of ``L * T``.
Measured ~1.4x faster than ``nn.GRU`` for inference at TimeGAN's sizes on a
CPU, but slower under autograd, so it is used without gradients only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def gru_wavefront(gru: nn.GRU, x: Tensor) -> Tensor:
    """Outputs of the last layer of ``gru`` (batch_first, unidirectional) for ``x`` (B, T, F)."""
    L, H = gru.num_layers, gru.hidden_size
    B, T, _ = x.shape
    w = gru._flat_weights  # per layer: w_ih, w_hh, b_ih, b_hh
    w_hh = torch.stack([w[4 * k + 1] for k in range(L)]).transpose(1, 2)  # (L, H, 3H)
    b_hh = torch.stack([w[4 * k + 3] for k in range(L)])[:, None]  # (L, 1, 3H)
    gi0 = F.linear(x, w[0], w[2]).transpose(0, 1)  # layer 0 input gates for every t: (T, B, 3H)
    if L > 1:
        w_ih = torch.stack([w[4 * k] for k in range(1, L)]).transpose(1, 2)  # (L-1, H, 3H)
        b_ih = torch.stack([w[4 * k + 2] for k in range(1, L)])[:, None]
    h = x.new_zeros(L, B, H)
    outs = []
    for s in range(T + L - 1):
        lo, hi = max(0, s - T + 1), min(L, s + 1)  # layers active on this diagonal
        hs = h[lo:hi]
        gh = torch.baddbmm(b_hh[lo:hi], hs, w_hh[lo:hi])
        parts = [gi0[s][None]] if lo == 0 else []
        up = max(lo, 1)
        if hi > up:  # upper layers read the layer below at the same t (computed last diagonal)
            parts.append(torch.baddbmm(b_ih[up - 1 : hi - 1], h[up - 1 : hi - 1], w_ih[up - 1 : hi - 1]))
        gi = parts[0] if len(parts) == 1 else torch.cat(parts)
        r, z = torch.sigmoid(gi[..., : 2 * H] + gh[..., : 2 * H]).chunk(2, -1)
        n = torch.tanh(torch.addcmul(gi[..., 2 * H :], r, gh[..., 2 * H :]))
        new = torch.addcmul(n, z, hs - n)  # (1 - z) n + z h
        h = new if (lo == 0 and hi == L) else torch.cat([h[:lo], new, h[hi:]])
        if hi == L:
            outs.append(new[-1])
    return torch.stack(outs, 1)


def run_rnn(module: nn.RNNBase, x: Tensor) -> Tensor:
    """All-step outputs of a batch-first RNN, taking the wavefront path for GRU inference."""
    if (
        isinstance(module, nn.GRU)
        and not torch.is_grad_enabled()
        and module.num_layers > 1
        and not module.bidirectional
        and x.device.type == "cpu"
    ):
        return gru_wavefront(module, x)
    return module(x)[0]
