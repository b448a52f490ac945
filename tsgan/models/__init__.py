"""Models, one paper per file, and the explicit registry ``MODELS``."""

from .base import SequenceModel
from .crnngan import CRNNGAN
from .ctgan import CTGAN
from .dcgan import DCGAN
from .doppelganger import DoppelGANger
from .entity import EntityGAN
from .rcgan import RCGAN
from .timegan import TimeGAN

MODELS: dict[str, type] = {
    "rcgan": RCGAN,
    "timegan": TimeGAN,
    "crnngan": CRNNGAN,
    "doppelganger": DoppelGANger,
    "dcgan": DCGAN,
    "ctgan": CTGAN,
}


WRAPPERS: dict[str, type] = {"entity": EntityGAN}  # models around a registered one, for a data kind


def build_model(kind, cls: type, config, spec, codec, cond_dim: int = 0):
    """The module a data kind (``tsgan.data.kinds``) trains: ``cls`` itself, or its wrapper."""
    if kind.wrapper is None:
        return cls(config, *kind.model_shape(spec, codec), cond_dim=cond_dim)
    builder = cls if getattr(cls, "native_entities", False) else WRAPPERS[kind.wrapper]  # DoppelGANger models entities itself
    return builder.build(cls, config, **kind.wrapper_args(spec, codec))


def models_of_kind(kind: str) -> list[str]:
    """Names of the registered models for one data kind: sequence, image or table."""
    return [name for name, cls in MODELS.items() if cls.kind == kind]

__all__ = ["MODELS", "WRAPPERS", "SequenceModel", "build_model", "models_of_kind"]
