"""Models, one paper per file, and the explicit registry ``MODELS``."""

from .base import SequenceModel
from .crnngan import CRNNGAN
from .rcgan import RCGAN
from .timegan import TimeGAN

MODELS: dict[str, type[SequenceModel]] = {
    "rcgan": RCGAN,
    "timegan": TimeGAN,
    "crnngan": CRNNGAN,
}

__all__ = ["MODELS", "SequenceModel"]
