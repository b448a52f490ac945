"""Models, one paper per file, and the explicit registry ``MODELS``."""

from .base import SequenceModel
from .rcgan import RCGAN

MODELS: dict[str, type[SequenceModel]] = {
    "rcgan": RCGAN,
}

__all__ = ["MODELS", "SequenceModel"]
