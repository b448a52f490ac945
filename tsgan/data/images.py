"""Images: a folder of PNG/JPEG files (Pillow), a .npy array, or the built-in ``digits``.

Images become float32 ``(N, C, H, W)`` in [0, 1], square, resized to one size
between 8 and 64. A folder whose images sit in subfolders takes the subfolder
names as labels (condition on them with ``condition_columns=["label"]``).
"""

from __future__ import annotations

import copy

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import TsganError
from .windows import draw_indices

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
MIN_SIZE, MAX_SIZE = 8, 64


@dataclass
class ImageSpec:
    channels: int
    size: int
    n_images: int
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ImageSpec":
        return cls(**d)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits (1,797 images, labels 0-9), shipped with it."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32)[:, None], d.target.astype(np.int64)


def _from_array(x: np.ndarray, where: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        x = x.transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise TsganError(f"{where} has shape {x.shape}: expected (N, H, W), (N, H, W, C) or (N, C, H, W) with 1 or 3 channels")
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise TsganError(f"{where} has NaN or infinite pixels: fix them before fitting")
    if x.max() > 1.0 or x.min() < 0.0:
        if x.min() < 0 or x.max() > 255:
            raise TsganError(f"{where} has pixel values in [{x.min():g}, {x.max():g}]: scale them to [0, 1] or [0, 255]")
        x = x / 255.0
    return x


def _from_folder(folder: Path) -> tuple[list, np.ndarray | None]:
    from PIL import Image

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise TsganError(f"{folder} has no .png/.jpg images: put images in it (or in one subfolder per label)")
    images = []
    for f in files:
        try:
            images.append(Image.open(f))
        except OSError as e:
            raise TsganError(f"could not read image {f}: {e}") from None
    nested = [f.parent != folder for f in files]
    labels = np.array([f.parent.name for f in files], dtype=object) if all(nested) else None
    return images, labels


def load_images(source: Any, size: int | None = None) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """``(images (N, C, size, size) in [0, 1], labels or None, source name)``."""
    labels = None
    if isinstance(source, np.ndarray):
        x, name = _from_array(source, "the array"), None
    elif str(source) == "digits" and not Path(source).exists():
        x, labels = digits()
        name = "digits"
    else:
        path = Path(source)
        if not path.exists():
            raise TsganError(f"not found: {path}: pass an image folder, a .npy file or `digits`")
        name = str(path.resolve())
        if path.is_dir():
            pil, labels = _from_folder(path)
            mode = "L" if all(im.mode in ("L", "1", "LA", "I;16") for im in pil) else "RGB"
            first = pil[0].size
            if size is None:
                if first[0] != first[1]:
                    raise TsganError(f"images are {first[0]}x{first[1]}, not square: pass --param image_size=N (image_size=N) to resize them")
                size = first[0]
            arrays = [np.asarray(im.convert(mode).resize((size, size), _lanczos()), dtype=np.float32) / 255.0 for im in pil]
            x = np.stack(arrays)
            x = x[:, None] if mode == "L" else x.transpose(0, 3, 1, 2)
        else:
            try:
                x = _from_array(np.load(path, allow_pickle=False), str(path))
            except ValueError as e:
                raise TsganError(f"could not read {path}: {e}") from None
    if x.shape[2] != x.shape[3] and size is None:
        raise TsganError(f"images are {x.shape[2]}x{x.shape[3]}, not square: pass --param image_size=N (image_size=N) to resize them")
    if size is not None and (x.shape[2], x.shape[3]) != (size, size):
        x = torch.nn.functional.interpolate(torch.as_tensor(x), size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1).numpy()
    side = x.shape[2]
    if not MIN_SIZE <= side <= MAX_SIZE:
        raise TsganError(f"images are {side}x{side}: sizes from {MIN_SIZE} to {MAX_SIZE} are supported: pass --param image_size=N (image_size=N)")
    if len(x) < 2:
        raise TsganError(f"found {len(x)} image: at least 2 are needed")
    return np.ascontiguousarray(x, dtype=np.float32), labels, name


def _lanczos():
    from PIL import Image

    return Image.Resampling.LANCZOS


def save_images(x: np.ndarray, path: str | Path, scale: int | None = None) -> Path:
    """Write images ``(N, C, H, W)`` in [0, 1]: a ``.png`` path gets one grid, a
    directory gets one PNG per image. Small images are enlarged (nearest) to be seen."""
    from PIL import Image

    path = Path(path)
    x = np.clip(np.asarray(x), 0, 1)
    scale = scale or max(1, 64 // x.shape[2])
    to_pil = lambda a: Image.fromarray((a * 255).round().astype(np.uint8).squeeze(-1) if a.shape[-1] == 1 else (a * 255).round().astype(np.uint8))  # noqa: E731
    hwc = x.transpose(0, 2, 3, 1)
    if path.suffix.lower() == ".png":
        n = len(x)
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        h, w, c = hwc.shape[1:]
        pad = 1
        grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, c), dtype=np.float32)
        for i, img in enumerate(hwc):
            r, k = divmod(i, cols)
            grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + k * (w + pad) : pad + k * (w + pad) + w] = img
        im = to_pil(grid)
        im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST).save(path)
        return path
    path.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(hwc):
        im = to_pil(img)
        im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST).save(path / f"{i:05d}.png")
    return path


class ArrayData:
    """Training data that is one array ``(N, ...)`` (images, tables), with optional
    per-record conditions ``(N, C)``; batches are random records."""

    def __init__(self, x: np.ndarray, cond: np.ndarray | None = None):
        self.x = np.ascontiguousarray(x, dtype=np.float32)
        self.cond = None if cond is None else np.ascontiguousarray(cond, dtype=np.float32)
        self.poisson_rate: float | None = None

    def __len__(self) -> int:
        return len(self.x)

    def shard(self, rank: int, size: int) -> "ArrayData":
        """This process's share: every ``size``-th record from ``rank`` (a table's
        categories keep their shares in each process's rows)."""
        out = copy.copy(self)
        out.x = np.ascontiguousarray(self.x[rank::size])
        out.cond = None if self.cond is None else np.ascontiguousarray(self.cond[rank::size])
        return out

    def to(self, device) -> "ArraySampler":
        return ArraySampler(self, torch.device(device))


class ArraySampler:
    def __init__(self, data: ArrayData, device: torch.device):
        self.x = torch.as_tensor(data.x, device=device)
        self.cond = None if data.cond is None else torch.as_tensor(data.cond, device=device)
        self.poisson_rate = data.poisson_rate

    def batch(self, batch_size: int, generator: torch.Generator):
        idx = draw_indices(len(self.x), batch_size, generator, self.poisson_rate).to(self.x.device)
        return self.x[idx] if self.cond is None else (self.x[idx], self.cond[idx])
