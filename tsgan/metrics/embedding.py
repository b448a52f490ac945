"""A learned embedding for FID and precision/recall, fitted once per dataset.

Sequences get a GRU encoder, images a small CNN (image augmentations: shifts,
brightness, noise), table rows an MLP over their standardised / one-hot encoding
(augmentations: noise, masked entries); all trained the same way.

Choice: a GRU encoder trained by instance contrast (NT-Xent / InfoNCE, as in
SimCLR and TS2Vec's instance-wise loss) between two augmented views of each real
window (jitter, amplitude scaling, random time masking). It needs no labels and
no pretrained weights (nothing can be downloaded at run time), it is fitted on
the real data only, and it embeds any window of the same shape.

Comparability: the encoder is saved with a format version, its config and a
SHA-256 of its training windows and config (``fingerprint``). ``encoder_for``
reuses a saved encoder whose fingerprint matches, so FID/PR of different models
and runs on the same real data use the very same embedding.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import TsganError
from ..torch_utils import adam

ENCODER_VERSION = 1


@dataclass
class EncoderConfig:
    hidden: int = 64  # GRU hidden units
    layers: int = 2  # GRU layers
    dim: int = 32  # embedding size
    steps: int = 600  # contrastive training steps
    batch_size: int = 128
    lr: float = 1e-3
    temperature: float = 0.1  # NT-Xent temperature
    jitter: float = 0.03  # std of additive noise in an augmented view
    seed: int = 0


class SequenceEncoder(nn.Module):
    """(B, T, F) -> (B, dim): GRU, then mean- and last-state pooling, then a linear map."""

    def __init__(self, n_features: int, c: EncoderConfig):
        super().__init__()
        self.rnn = nn.GRU(n_features, c.hidden, num_layers=c.layers, batch_first=True)
        self.head = nn.Linear(2 * c.hidden, c.dim)

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self.rnn(x)
        return self.head(torch.cat([h.mean(1), h[:, -1]], dim=1))


class ImageEncoder(nn.Module):
    """(B, C, S, S) -> (B, dim): three strided convolutions, global average pooling, a linear map."""

    def __init__(self, channels: int, c: EncoderConfig):
        super().__init__()
        w = c.hidden // 2
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, 2, 1), nn.ReLU(),
        )
        self.head = nn.Linear(2 * w, c.dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.net(x).mean((2, 3)))


class TableEncoder(nn.Module):
    """(B, D) encoded rows (standardised numbers, one-hot labels) -> (B, dim): a two-layer MLP."""

    def __init__(self, width: int, c: EncoderConfig):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, c.hidden), nn.ReLU(), nn.Linear(c.hidden, c.hidden), nn.ReLU(), nn.Linear(c.hidden, c.dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def make_encoder(shape: tuple[int, ...], c: EncoderConfig) -> nn.Module:
    """The encoder for one record shape: ``(T, F)`` windows, ``(C, S, S)`` images or ``(D,)`` table rows."""
    if len(shape) == 1:
        return TableEncoder(shape[0], c)
    return SequenceEncoder(shape[1], c) if len(shape) == 2 else ImageEncoder(shape[0], c)


def _augment_images(x: Tensor, c: EncoderConfig, g: torch.Generator) -> Tensor:
    """Random shifts of up to 1/8 of the side (reflect-padded crops), brightness, noise."""
    b, _, s, _ = x.shape
    p = max(1, s // 8)
    padded = F.pad(x, (p, p, p, p), mode="reflect")
    dx, dy = torch.randint(0, 2 * p + 1, (2,), generator=g).tolist()
    out = padded[:, :, dy : dy + s, dx : dx + s]
    return out * (1 + 0.1 * torch.randn(b, 1, 1, 1, generator=g)) + c.jitter * torch.randn(out.shape, generator=g)


def _augment(x: Tensor, c: EncoderConfig, g: torch.Generator) -> Tensor:
    if x.dim() == 4:
        return _augment_images(x, c, g)
    if x.dim() == 2:  # table rows: noise and ~10 % of the entries masked
        keep = (torch.rand(x.shape, generator=g) > 0.1).float()
        return (x + c.jitter * torch.randn(x.shape, generator=g)) * keep
    b, t, f = x.shape
    scale = 1 + 0.1 * torch.randn(b, 1, f, generator=g)
    noise = c.jitter * torch.randn(x.shape, generator=g)
    keep = (torch.rand(b, t, 1, generator=g) > 0.1).float()  # mask ~10 % of steps
    return (x * scale + noise) * keep


def nt_xent(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    """NT-Xent (Chen et al. 2020): each view must pick its partner among 2B - 1 others."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / temperature
    n = z1.shape[0]
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def fingerprint(real: np.ndarray, config: EncoderConfig) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(real, dtype=np.float32).tobytes())
    h.update(str(real.shape).encode())
    h.update(json.dumps(asdict(config), sort_keys=True).encode())
    h.update(str(ENCODER_VERSION).encode())
    return h.hexdigest()


class Embedding:
    """A fitted encoder plus what identifies it; ``embed`` maps windows to ``(N, dim)``."""

    def __init__(self, encoder: nn.Module, config: EncoderConfig, shape: tuple[int, ...], fp: str):
        self.encoder, self.config, self.shape, self.fingerprint = encoder.eval(), config, tuple(shape), fp

    @torch.no_grad()
    def embed(self, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if tuple(x.shape[1:]) != self.shape:
            what = "windows" if len(self.shape) == 2 else "images"
            raise TsganError(f"the embedding was fitted on {what} of {' x '.join(map(str, self.shape))}, got {x.shape[1:]}")
        out = [self.encoder(torch.from_numpy(x[i : i + chunk])) for i in range(0, len(x), chunk)]
        return torch.cat(out).numpy().astype(np.float64)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {"version": ENCODER_VERSION, "config": asdict(self.config), "shape": list(self.shape), "fingerprint": self.fingerprint}
        torch.save(self.encoder.state_dict(), path / "encoder.pt")
        (path / "encoder.json").write_text(json.dumps(meta, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Embedding":
        path = Path(path)
        meta = json.loads((path / "encoder.json").read_text())
        if meta["version"] != ENCODER_VERSION:
            raise TsganError(f"{path} holds an embedding of version {meta['version']}, this tsgan uses {ENCODER_VERSION}: delete it to refit")
        config = EncoderConfig(**meta["config"])
        enc = make_encoder(tuple(meta["shape"]), config)
        enc.load_state_dict(torch.load(path / "encoder.pt", map_location="cpu", weights_only=True))
        return cls(enc, config, tuple(meta["shape"]), meta["fingerprint"])


def fit_embedding(real: np.ndarray, config: EncoderConfig | None = None) -> Embedding:
    """Fit the contrastive encoder on real windows ``(N, T, F)`` or images ``(N, C, S, S)``."""
    c = config or EncoderConfig()
    real = np.asarray(real, dtype=np.float32)
    if real.ndim not in (2, 3, 4) or len(real) < 4:
        raise TsganError(f"fitting an embedding needs at least 4 rows (N, D), windows (N, T, F) or images (N, C, S, S), got {real.shape}")
    g = torch.Generator().manual_seed(c.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(c.seed)
        enc = make_encoder(real.shape[1:], c)
    opt = adam(enc.parameters(), lr=c.lr)
    x_all = torch.from_numpy(real)
    bs = min(c.batch_size, len(real))
    for _ in range(c.steps):
        x = x_all[torch.randperm(len(real), generator=g)[:bs]]
        loss = nt_xent(enc(_augment(x, c, g)), enc(_augment(x, c, g)), c.temperature)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return Embedding(enc, c, real.shape[1:], fingerprint(real, c))


def embedding_for(real: np.ndarray, cache_dir: str | Path | None = None, config: EncoderConfig | None = None) -> Embedding:
    """The embedding for ``real``: loaded from ``cache_dir/<fingerprint>`` when present, else fitted and saved there."""
    c = config or EncoderConfig()
    fp = fingerprint(np.asarray(real, dtype=np.float32), c)
    if cache_dir is not None:
        path = Path(cache_dir) / fp[:16]
        if (path / "encoder.json").exists():
            try:
                emb = Embedding.load(path)
            except Exception:  # a damaged or foreign cache entry (ours to replace): fit afresh below
                emb = None
            if emb is not None and emb.fingerprint == fp:
                return emb
    emb = fit_embedding(real, c)
    if cache_dir is not None:
        emb.save(Path(cache_dir) / fp[:16])
    return emb
