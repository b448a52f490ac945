"""How well InfoGAN's categorical codes recover a dataset's classes.

``share[k, c]``: the fraction of samples generated with code ``k`` that a classifier
trained on real data assigns to class ``c`` (rows sum to 1).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def code_alignment(share) -> dict:
    """Purity, one-to-one matched accuracy and distinct majority classes of a code table.

    * ``purity``: each code's share in its majority class, averaged over codes (Chen et
      al.'s reading of a categorical code); a generator that gives two codes one class
      can still score 1.
    * ``matched_accuracy``: the same after giving every code its own class (Hungarian
      matching, ``scipy.optimize.linear_sum_assignment``), so two codes cannot both score
      on one class; 1 only when the codes recover distinct classes.
    * ``majority``: each code's majority class index; ``distinct``: how many differ.
    """
    share = np.asarray(share, dtype=float)
    if share.ndim != 2 or not len(share) or not np.allclose(share.sum(1), 1.0, atol=1e-6):
        raise ValueError("share must be a (codes, classes) table whose rows sum to 1")
    codes, classes = linear_sum_assignment(-share)
    majority = share.argmax(1)
    return {
        "purity": float(share.max(1).mean()),
        "matched_accuracy": float(share[codes, classes].sum() / len(share)),
        "majority": majority.tolist(),
        "distinct": int(len(set(majority.tolist()))),
    }
