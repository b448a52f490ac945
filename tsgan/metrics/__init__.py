"""Scores on arrays: windows ``(N, T, F)`` in the scaled [0, 1] space, or embeddings ``(N, D)``."""

from .distances import correlational_score, frechet_distance, prdc
from .scores import check_pair, discriminative_score, predictive_score

__all__ = [
    "check_pair",
    "correlational_score",
    "discriminative_score",
    "frechet_distance",
    "prdc",
    "predictive_score",
]
