"""Scores on arrays: windows ``(N, T, F)`` in the scaled [0, 1] space, or embeddings ``(N, D)``.

The names load their module on first use (PEP 562): training imports the
discriminative check alone, so ``import tsgan`` and every CLI command start without
scikit-learn's and SciPy's metrics (about 2 s on a small CPU)."""

from importlib import import_module

_WHERE = {
    "code_alignment": "codes",
    "autocorrelation": "distances",
    "autocorrelation_difference": "distances",
    "correlational_score": "distances",
    "frechet_distance": "distances",
    "marginal_distance": "distances",
    "mmd_rbf": "distances",
    "prdc": "distances",
    "check_pair": "scores",
    "discriminative_check": "scores",
    "discriminative_score": "scores",
    "predictive_score": "scores",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
