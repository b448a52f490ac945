"""InfoGAN's latent codes for sampling: the parts a user fixes, the rest drawn."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .errors import TsganError


def latent_codes(controls, n: int, codes: Any, rng: torch.Generator) -> torch.Tensor | None:
    """Codes ``(n, K + M)`` for a model's :class:`~tsgan.models.base.Controls`: drawn at
    random, with the categorical part (``codes`` an index, a list of ``n`` indices or
    ``{"category": ...}``) and/or the continuous part (``{"continuous": ...}``) fixed."""
    drawn = controls.draw_codes(n, rng)
    if codes is None:
        return drawn
    if drawn is None:
        raise TsganError("this model has no latent codes: fit with info_categories=K (--param info_categories=K, InfoGAN) to steer by code")
    spec = codes if isinstance(codes, dict) else {"category": codes}
    unknown = set(spec) - {"category", "continuous"}
    if unknown:
        raise TsganError(f"unknown code part(s) {', '.join(sorted(unknown))}: use 'category' and/or 'continuous'")
    k, m = controls.n_categories, controls.n_continuous
    if spec.get("category") is not None:
        cat = np.broadcast_to(np.asarray(spec["category"]), (n,))
        if not k:
            raise TsganError("this model has no categorical code: fit with info_categories=K (--param info_categories=K)")
        if not np.issubdtype(cat.dtype, np.integer) or cat.min() < 0 or cat.max() >= k:
            raise TsganError(f"category codes must be integers 0..{k - 1}")
        drawn[:, :k] = torch.nn.functional.one_hot(torch.as_tensor(cat.copy(), device=drawn.device), k).float()
    if spec.get("continuous") is not None:
        if not m:
            raise TsganError("this model has no continuous codes: fit with info_continuous=M (--param info_continuous=M)")
        try:
            cont = np.broadcast_to(np.asarray(spec["continuous"], dtype=np.float32), (n, m))
        except ValueError:
            raise TsganError(f"continuous codes need {m} value(s) per sample") from None
        drawn[:, k:] = torch.as_tensor(cont.copy(), device=drawn.device)
    return drawn
