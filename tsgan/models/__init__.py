"""Models, one paper per file, and the explicit registry ``MODELS``."""

from .base import SequenceModel
from .crnngan import CRNNGAN
from .ctgan import CTGAN
from .dcgan import DCGAN
from .rcgan import RCGAN
from .timegan import TimeGAN

MODELS: dict[str, type] = {
    "rcgan": RCGAN,
    "timegan": TimeGAN,
    "crnngan": CRNNGAN,
    "dcgan": DCGAN,
    "ctgan": CTGAN,
}


def models_of_kind(kind: str) -> list[str]:
    """Names of the registered models for one data kind: sequence, image or table."""
    return [name for name, cls in MODELS.items() if cls.kind == kind]

__all__ = ["MODELS", "SequenceModel", "models_of_kind"]
