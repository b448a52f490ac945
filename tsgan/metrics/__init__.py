"""Scores on arrays: windows ``(N, T, F)`` in the scaled [0, 1] space, or embeddings ``(N, D)``."""

from .codes import code_alignment
from .distances import (
    autocorrelation,
    autocorrelation_difference,
    correlational_score,
    frechet_distance,
    marginal_distance,
    mmd_rbf,
    prdc,
)
from .scores import check_pair, discriminative_check, discriminative_score, predictive_score

__all__ = [
    "autocorrelation",
    "autocorrelation_difference",
    "check_pair",
    "code_alignment",
    "correlational_score",
    "discriminative_check",
    "discriminative_score",
    "frechet_distance",
    "marginal_distance",
    "mmd_rbf",
    "prdc",
    "predictive_score",
]
