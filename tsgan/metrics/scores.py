"""TimeGAN's post-hoc scores, exactly as PROTOCOL.md specifies (lower is better).

* discriminative: a one-layer GRU classifier (hidden ``max(F // 2, 1)``, linear head
  on the last hidden state), Adam 1e-3, 2,000 iterations of 128 real + 128 synthetic
  windows from independent 80/20 splits; score = ``|accuracy - 0.5|`` on the 20 %.
  ``classifier="tf1"`` swaps in the released TimeGAN code's classifier cell: TF1's
  ``GRUCell`` (reset applied to the state before the recurrent product, gate bias 1,
  Glorot-uniform kernels) instead of PyTorch's ``nn.GRU`` and its initialisation.
* predictive (train on synthetic, test on real): a one-layer GRU (hidden
  ``max(F // 2, 1)``) with a per-step sigmoid head predicts the last feature at
  steps 1..T-1 from the other features at steps 0..T-2; L1 loss, Adam 1e-3, 5,000
  iterations of 128 synthetic windows; score = MAE over all real windows.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import TsganError
from ..train import adam


def check_pair(real: np.ndarray, synth: np.ndarray, min_windows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Validate two window arrays ``(N, T, F)``: same T and F, finite, enough windows."""
    real, synth = np.asarray(real, dtype=np.float32), np.asarray(synth, dtype=np.float32)
    for name, a in (("real", real), ("synthetic", synth)):
        if a.ndim != 3:
            raise TsganError(f"{name} data must be windows of shape (N, T, F), got shape {a.shape}")
        if not np.isfinite(a).all():
            raise TsganError(f"{name} data has NaN or infinite values: drop or fill them first")
        if len(a) < min_windows:
            raise TsganError(f"{name} data has {len(a)} windows, fewer than the {min_windows} needed for a train/test split")
    if real.shape[1:] != synth.shape[1:]:
        raise TsganError(
            f"real and synthetic windows differ: real is {real.shape[1]} steps x {real.shape[2]} features, "
            f"synthetic {synth.shape[1]} x {synth.shape[2]}: sample with the same --seq-len and columns"
        )
    return real, synth


class _GRUHead(nn.Module):
    def __init__(self, d_in: int, hidden: int, d_out: int):
        super().__init__()
        self.rnn = nn.GRU(d_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, d_out)


class _TF1GRUHead(nn.Module):
    """The released TimeGAN code's post-hoc classifier: ``tf.nn.rnn_cell.GRUCell`` and
    ``fully_connected`` with TensorFlow 1's initialisers. It differs from ``nn.GRU`` in
    where the reset gate acts (TF: on the state before ``W_h``; PyTorch: after) and in
    its initial weights (Glorot-uniform over the fused kernels; gate bias 1, so both
    gates start mostly open)."""

    def __init__(self, d_in: int, hidden: int):
        super().__init__()
        self.d_in, self.hidden = d_in, hidden
        self.gates = nn.Parameter(_glorot(d_in + hidden, 2 * hidden))  # [x, h] -> [r, u]
        self.gates_bias = nn.Parameter(torch.ones(2 * hidden))
        self.cand = nn.Parameter(_glorot(d_in + hidden, hidden))  # [x, r * h] -> c
        self.cand_bias = nn.Parameter(torch.zeros(hidden))
        self.head = nn.Linear(hidden, 1)
        with torch.no_grad():
            self.head.weight.copy_(_glorot(hidden, 1).T)
            self.head.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, F) -> (B,) logits from the last state
        d, h = self.d_in, self.hidden
        xg = x @ self.gates[:d] + self.gates_bias  # input parts of every step at once
        xc = x @ self.cand[:d] + self.cand_bias
        state = x.new_zeros(x.shape[0], h)
        for t in range(x.shape[1]):
            r, u = torch.sigmoid(xg[:, t] + state @ self.gates[d:]).split(h, dim=1)
            c = torch.tanh(xc[:, t] + (r * state) @ self.cand[d:])
            state = u * state + (1 - u) * c
        return self.head(state).squeeze(-1)


def _glorot(fan_in: int, fan_out: int) -> torch.Tensor:
    bound = (6.0 / (fan_in + fan_out)) ** 0.5
    return torch.empty(fan_in, fan_out).uniform_(-bound, bound)


def _split(n: int, rng: np.random.Generator, train_share: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.permutation(n)
    cut = int(n * train_share)
    return idx[:cut], idx[cut:]


CLASSIFIERS = ("gru", "tf1")


def discriminative_score(
    real: np.ndarray,
    synth: np.ndarray,
    iterations: int = 2000,
    batch_size: int = 128,
    seed: int = 0,
    classifier: str = "gru",
) -> float:
    """``|accuracy - 0.5|`` of a post-hoc GRU classifier on held-out windows (0 is best).

    ``classifier``: ``"gru"`` (PyTorch's ``nn.GRU``) or ``"tf1"`` (the released
    TimeGAN code's TF1 ``GRUCell`` and initialisation, to compare with its numbers)."""
    if classifier not in CLASSIFIERS:
        raise TsganError(f"unknown classifier {classifier!r}: use one of {', '.join(CLASSIFIERS)}")
    real, synth = check_pair(real, synth, min_windows=5)
    n_feat = real.shape[2]
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    r_tr, r_te = _split(len(real), rng)
    s_tr, s_te = _split(len(synth), rng)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        hidden = max(n_feat // 2, 1)
        net = _TF1GRUHead(n_feat, hidden) if classifier == "tf1" else _GRUHead(n_feat, hidden, 1)
    opt = adam(net.parameters(), lr=1e-3)
    real_t, synth_t = torch.from_numpy(real), torch.from_numpy(synth)
    r_tr_t, s_tr_t = torch.from_numpy(r_tr), torch.from_numpy(s_tr)
    labels = torch.cat([torch.ones(batch_size), torch.zeros(batch_size)])

    def last_state_logits(x: torch.Tensor) -> torch.Tensor:
        _, h = net.rnn(x)  # h: (1, B, H), the last hidden state
        return net.head(h[-1]).squeeze(-1)

    logits = net if classifier == "tf1" else last_state_logits  # (B, T, F) -> (B,)

    for _ in range(iterations):
        bi = r_tr_t[torch.randint(len(r_tr_t), (batch_size,), generator=gen)]
        bj = s_tr_t[torch.randint(len(s_tr_t), (batch_size,), generator=gen)]
        x = torch.cat([real_t[bi], synth_t[bj]])
        loss = F.binary_cross_entropy_with_logits(logits(x), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        pr = logits(real_t[r_te]) > 0
        ps = logits(synth_t[s_te]) > 0
    acc = (pr.sum().item() + (~ps).sum().item()) / (len(pr) + len(ps))
    return abs(acc - 0.5)


def predictive_score(
    real: np.ndarray, synth: np.ndarray, iterations: int = 5000, batch_size: int = 128, seed: int = 0
) -> float:
    """MAE on real windows of a next-step predictor trained on synthetic ones (lower is better)."""
    real, synth = check_pair(real, synth, min_windows=1)
    n_feat = real.shape[2]
    if n_feat < 2:
        raise TsganError(
            "the predictive score needs at least 2 features (it predicts the last from the others): "
            "skip it for single-feature data"
        )
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _GRUHead(n_feat - 1, max(n_feat // 2, 1), 1)
    opt = adam(net.parameters(), lr=1e-3)

    def predict(x: torch.Tensor) -> torch.Tensor:  # (B, T, F) -> (B, T-1) predictions of the last feature
        h, _ = net.rnn(x[:, :-1, :-1])
        return torch.sigmoid(net.head(h)).squeeze(-1)

    synth_t = torch.from_numpy(synth)
    for _ in range(iterations):
        x = synth_t[torch.randint(len(synth_t), (batch_size,), generator=gen)]
        loss = F.l1_loss(predict(x), x[:, 1:, -1])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        real_t = torch.from_numpy(real)
        mae = (predict(real_t) - real_t[:, 1:, -1]).abs().mean(1)  # per window: mean over steps
    return float(mae.mean())
