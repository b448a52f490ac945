"""tsgan: time-series GANs for faithful, private synthetic data."""

__version__ = "0.1.0"

from .api import Synthesizer, load  # noqa: E402
from .errors import TsganError  # noqa: E402
from .models import MODELS  # noqa: E402

__all__ = ["MODELS", "Synthesizer", "TsganError", "load", "__version__"]
