"""TimeGAN's post-hoc scores, as the TimeGAN paper's released code computes them (lower is better).

* discriminative: a one-layer GRU classifier (hidden ``max(F // 2, 1)``, linear head
  on the last hidden state), Adam 1e-3, 2,000 iterations of 128 real + 128 synthetic
  windows from independent 80/20 splits; score = ``|accuracy - 0.5|`` on the 20 %.
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
from ..torch_utils import adam


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


def _split(n: int, rng: np.random.Generator, train_share: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.permutation(n)
    cut = int(n * train_share)
    return idx[:cut], idx[cut:]


def discriminative_score(
    real: np.ndarray,
    synth: np.ndarray,
    iterations: int = 2000,
    batch_size: int = 128,
    seed: int = 0,
) -> float:
    """``|accuracy - 0.5|`` of a post-hoc GRU classifier on held-out windows (0 is best)."""
    return _discriminate(real, synth, iterations, batch_size, seed)[0]


COLLAPSE_LOSS = 0.3  # a smoothed training loss this low: the classifier separated real from synthetic
COLLAPSE_SHARE = 0.95  # then a final classifier giving this share of the test windows one label has collapsed


def discriminative_check(real: np.ndarray, synth: np.ndarray, iterations: int = 2000, batch_size: int = 128, seed: int = 0) -> float:
    """The discriminative score for decisions (checkpoint selection): as
    :func:`discriminative_score`, except that a classifier which separated the
    training batches (a 50-iteration mean loss below ``COLLAPSE_LOSS``) and then
    collapsed (its last iterate labels at least ``COLLAPSE_SHARE`` of the test
    windows alike) reads 0.5. The protocol's classifier does that now and then when
    real and synthetic are easy to tell apart (Adam's steps on separable data grow
    the logits until one step overshoots), and its score then reads near 0, the best
    possible, for samples it had told apart perfectly."""
    score, collapsed = _discriminate(real, synth, iterations, batch_size, seed)
    return 0.5 if collapsed else score


def collapsed(smoothed_losses: list[float], share_one_label: float) -> bool:
    """Whether a classifier collapsed: it once separated the classes (a smoothed
    loss below ``COLLAPSE_LOSS``) and its last iterate gives one label to at least
    ``COLLAPSE_SHARE`` of the test windows."""
    return min(smoothed_losses, default=1.0) < COLLAPSE_LOSS and share_one_label >= COLLAPSE_SHARE


def _discriminate(real, synth, iterations: int, batch_size: int, seed: int) -> tuple[float, bool]:
    """The discriminative score and whether its classifier collapsed (:func:`collapsed`)."""
    real, synth = check_pair(real, synth, min_windows=5)
    n_feat = real.shape[2]
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    r_tr, r_te = _split(len(real), rng)
    s_tr, s_te = _split(len(synth), rng)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        hidden = max(n_feat // 2, 1)
        net = _GRUHead(n_feat, hidden, 1)
    opt = adam(net.parameters(), lr=1e-3)
    real_t, synth_t = torch.from_numpy(real), torch.from_numpy(synth)
    r_tr_t, s_tr_t = torch.from_numpy(r_tr), torch.from_numpy(s_tr)
    labels = torch.cat([torch.ones(batch_size), torch.zeros(batch_size)])

    def logits(x: torch.Tensor) -> torch.Tensor:  # (B, T, F) -> (B,), from the last hidden state
        _, h = net.rnn(x)  # h: (1, B, H)
        return net.head(h[-1]).squeeze(-1)

    losses = torch.empty(iterations)
    for i in range(iterations):
        bi = r_tr_t[torch.randint(len(r_tr_t), (batch_size,), generator=gen)]
        bj = s_tr_t[torch.randint(len(s_tr_t), (batch_size,), generator=gen)]
        x = torch.cat([real_t[bi], synth_t[bj]])
        loss = F.binary_cross_entropy_with_logits(logits(x), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses[i] = loss.detach()
    with torch.no_grad():
        pr = logits(real_t[r_te]) > 0
        ps = logits(synth_t[s_te]) > 0
    acc = (pr.sum().item() + (~ps).sum().item()) / (len(pr) + len(ps))
    said_real = (pr.sum().item() + ps.sum().item()) / (len(pr) + len(ps))
    smoothed = [float(v) for v in losses[: iterations // 50 * 50].reshape(-1, 50).mean(1)] if iterations >= 50 else []
    return abs(acc - 0.5), collapsed(smoothed, max(said_real, 1 - said_real))


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
