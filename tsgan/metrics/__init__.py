"""Scores on arrays of windows ``(N, T, F)`` in the scaled [0, 1] space."""

from .scores import check_pair, discriminative_score, predictive_score

__all__ = ["check_pair", "discriminative_score", "predictive_score"]
