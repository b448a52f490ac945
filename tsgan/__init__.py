"""tsgan: time-series GANs for faithful, private synthetic data."""

__version__ = "0.2.0"

from .errors import TsganError  # noqa: E402
from .models import MODELS  # noqa: E402
from .synthesizer import Synthesizer  # noqa: E402


def load(path, device: str | None = None) -> Synthesizer:
    """Load a run directory written by :meth:`Synthesizer.save` or ``tsgan fit``: the
    weights onto ``device`` (default: the CPU, whatever device trained the run)."""
    from .rundir import read_run

    return read_run(path, device)


__all__ = ["MODELS", "Synthesizer", "TsganError", "load", "__version__"]
