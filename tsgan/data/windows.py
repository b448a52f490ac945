"""Sliding windows over one or many series, without copying the data per window.

The rows of all entities are concatenated once into a base array ``(rows, F)``;
a window is just its start row. ``starts`` never lets a window cross an entity
boundary. Batches gather ``base[start + arange(T)]`` for a few starts only.
"""

from __future__ import annotations


import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import TsganError


def window_starts(lengths: list[int] | np.ndarray, seq_len: int, stride: int = 1) -> np.ndarray:
    """Start rows of every window of ``seq_len`` that fits inside one entity.

    ``lengths`` are the row counts of consecutive entities in the base array.
    """
    starts = []
    offset = 0
    for n in lengths:
        if n >= seq_len:
            starts.append(offset + np.arange(0, n - seq_len + 1, stride))
        offset += n
    return np.concatenate(starts).astype(np.int64) if starts else np.zeros(0, dtype=np.int64)


def gather_windows(base: np.ndarray, starts: np.ndarray, seq_len: int) -> np.ndarray:
    """Materialise windows ``(N, T, F)`` for the given starts (a view, then one gather)."""
    view = sliding_window_view(base, seq_len, axis=0)  # (rows - T + 1, F, T), no copy
    return np.ascontiguousarray(view[starts].transpose(0, 2, 1))


def draw_indices(n: int, batch_size: int, generator: torch.Generator, poisson_rate: float | None = None) -> torch.Tensor:
    """``batch_size`` uniform record indices, or with ``poisson_rate`` a Poisson sample
    (each record independently), as the DP accountant assumes; an empty draw is redrawn."""
    if poisson_rate is None:
        return torch.randint(n, (batch_size,), generator=generator, device=generator.device)
    idx = torch.zeros(0, dtype=torch.long)
    while idx.numel() == 0:
        idx = torch.nonzero(torch.rand(n, generator=generator, device=generator.device) < poisson_rate)[:, 0]
    return idx


class WindowSampler:
    """Random batches of windows ``(B, T, F)`` on a device, drawn with a torch generator.

    With per-step conditions ``cond`` ``(rows, C)`` a batch is ``(x, cond)``, both
    gathered at the same rows.
    """

    def __init__(
        self, base: np.ndarray, starts: np.ndarray, seq_len: int, device: torch.device | str = "cpu",
        cond: np.ndarray | None = None,
    ):
        self.device = torch.device(device)
        self.base = torch.as_tensor(np.ascontiguousarray(base), dtype=torch.float32, device=self.device)
        self.cond = None if cond is None else torch.as_tensor(np.ascontiguousarray(cond), dtype=torch.float32, device=self.device)
        self.starts = torch.as_tensor(starts, dtype=torch.long, device=self.device)
        self.offsets = torch.arange(seq_len, device=self.device)
        self.seq_len = seq_len
        self.poisson_rate: float | None = None  # DP-SGD: each window joins a batch with this probability

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def batch(self, batch_size: int, generator: torch.Generator) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        idx = draw_indices(len(self), batch_size, generator, self.poisson_rate)
        rows = self.starts[idx.to(self.device)][:, None] + self.offsets  # (B, T)
        if self.cond is None:
            return self.base[rows]  # (B, T, F)
        return self.base[rows], self.cond[rows]  # (B, T, F), (B, T, C)


class Windows:
    """All windows of a dataset: a base array ``(rows, F)`` plus window start rows."""

    def __init__(self, base: np.ndarray, starts: np.ndarray, seq_len: int, cond: np.ndarray | None = None):
        self.base = np.ascontiguousarray(base, dtype=np.float32)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.seq_len = seq_len
        self.cond = None if cond is None else np.ascontiguousarray(cond, dtype=np.float32)
        self.poisson_rate: float | None = None

    @classmethod
    def from_lengths(cls, base: np.ndarray, lengths, seq_len: int, stride: int = 1, cond: np.ndarray | None = None) -> "Windows":
        return cls(base, window_starts(lengths, seq_len, stride), seq_len, cond)

    @classmethod
    def from_array(cls, x: np.ndarray) -> "Windows":
        """Windows from an array ``(N, T, F)`` of separate sequences."""
        n, t, f = x.shape
        return cls(x.reshape(n * t, f), np.arange(n) * t, t)

    def __len__(self) -> int:
        return len(self.starts)

    def array(self) -> np.ndarray:
        """All windows as ``(N, T, F)`` float32."""
        return gather_windows(self.base, self.starts, self.seq_len)

    def subset(self, index: np.ndarray) -> "Windows":
        """The windows at ``index`` (same base rows, no copy)."""
        return Windows(self.base, self.starts[index], self.seq_len, self.cond)

    def shard(self, rank: int, size: int) -> "Windows":
        """This process's share: the ``rank``-th of ``size`` consecutive blocks of windows
        (in row order), over the rows they cover alone (a view here; the device gets
        just those rows). Each global batch then draws equally from every block."""
        starts = np.sort(self.starts)
        part = starts[rank * len(starts) // size : (rank + 1) * len(starts) // size]
        if len(part) == 0:
            raise TsganError(f"{len(starts)} training windows cannot be shared among {size} processes: run fewer processes")
        lo, hi = int(part[0]), int(part[-1]) + self.seq_len
        out = Windows(self.base[lo:hi], part - lo, self.seq_len, None if self.cond is None else self.cond[lo:hi])
        out.poisson_rate = self.poisson_rate
        return out

    def cond_array(self) -> np.ndarray | None:
        """The per-step conditions of every window ``(N, T, C)``, or None."""
        return None if self.cond is None else gather_windows(self.cond, self.starts, self.seq_len)

    def to(self, device) -> WindowSampler:
        sampler = WindowSampler(self.base, self.starts, self.seq_len, device, self.cond)
        sampler.poisson_rate = self.poisson_rate
        return sampler


HOLDOUT_BLOCKS = 5


def _block_starts(blocks, seq_len: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Window starts inside each (start row, length) block; never across a block's end."""
    s = [lo + np.arange(0, n - seq_len + 1, stride) for lo, n in blocks if n >= seq_len]
    starts = np.concatenate(s).astype(np.int64) if s else np.zeros(0, np.int64)
    return starts, np.zeros(len(starts), np.int64)


def holdout_split(
    lengths, seq_len: int, stride: int, fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """Split windows into training and holdout sets that share no row.

    Panel data (two or more entities): a ``fraction`` of the entities, drawn with
    ``seed``, is held out whole. One series: ``fraction`` of its rows is held out as
    up to five contiguous time blocks spread evenly over the series; windows never
    cross a block boundary, so no window mixes training and holdout rows. Returns the
    training and holdout window starts, the entity index of each, and a summary.
    """
    from ..errors import TsganError

    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    if not 0 <= fraction < 1:
        raise TsganError(f"--holdout must be in [0, 1) (got {fraction})")

    def starts_of(entities, cut=None):
        s, g = [], []
        for e in entities:
            lo, n = offsets[e], lengths[e]
            if cut is not None:  # (lo, n) of a sub-block
                lo, n = cut
            if n >= seq_len:
                st = lo + np.arange(0, n - seq_len + 1, stride)
                s.append(st)
                g.append(np.full(len(st), e))
        return (np.concatenate(s) if s else np.zeros(0, np.int64)), (np.concatenate(g) if g else np.zeros(0, np.int64))

    if fraction == 0:
        s, g = starts_of(range(len(lengths)))
        return s, np.zeros(0, np.int64), g, np.zeros(0, np.int64), {"holdout": 0.0}
    if len(lengths) >= 2:
        n_hold = int(round(fraction * len(lengths)))
        n_hold = min(max(n_hold, 1), len(lengths) - 1)
        perm = np.random.default_rng(seed).permutation(len(lengths))
        hold = np.sort(perm[:n_hold])
        train = np.sort(perm[n_hold:])
        ts, tg = starts_of(train)
        hs, hg = starts_of(hold)
        info = {"holdout": fraction, "by": "entity", "holdout_entities": int(n_hold), "train_entities": int(len(train))}
    else:
        # one series: up to HOLDOUT_BLOCKS contiguous blocks spread evenly over time, so a
        # trend or drift does not make the holdout unlike the training data
        n = int(lengths[0])
        total = int(round(fraction * n))
        k = max(1, min(HOLDOUT_BLOCKS, total // seq_len, (n - total) // seq_len))
        size = total // k
        if size < seq_len or n - total < seq_len:
            raise TsganError(
                f"the series has {n} rows: too short to hold out {fraction:.0%} of it as windows of {seq_len} steps: "
                "pass --holdout 0, lower --seq-len or add rows"
            )
        starts = [int(round((i + 0.5) * n / k - size / 2)) for i in range(k)]
        starts = [min(max(st, 0), n - size) for st in starts]
        hold_blocks = [(st, size) for st in starts]
        edges = [0] + [e for st in starts for e in (st, st + size)] + [n]
        train_blocks = [(edges[i], edges[i + 1] - edges[i]) for i in range(0, len(edges), 2)]
        ts, tg = _block_starts(train_blocks, seq_len, stride)
        hs, hg = _block_starts(hold_blocks, seq_len, stride)
        # training blocks shaped like the holdout's (k blocks of `size` rows), for privacy checks:
        # overlapping windows of a few blocks are less diverse than windows spread over the whole
        # series, so members and non-members must be drawn the same way
        rng = np.random.default_rng(seed)
        fits = [(a, n_) for a, n_ in train_blocks if n_ >= size]
        picks = [fits[i] for i in np.sort(rng.permutation(len(fits))[:k])]
        reference = [[int(a + rng.integers(0, n_ - size + 1)), 0] for a, n_ in picks]
        reference = [[a, a + size] for a, _ in reference]
        info = {"holdout": fraction, "by": "time", "blocks": [[int(a), int(a + b)] for a, b in hold_blocks], "reference_blocks": reference}
    info.update(train_windows=int(len(ts)), holdout_windows=int(len(hs)))
    return ts, hs, tg, hg, info
