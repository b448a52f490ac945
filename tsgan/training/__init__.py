"""Training: the model contract (:mod:`.schedule`), the one loop (:mod:`.loop`) and
what plugs into it (:mod:`.callbacks`, :mod:`.averaging`, :mod:`.selection`,
:mod:`.private`)."""

from .callbacks import Callback, Checkpoints, FiniteLosses, Interrupt, LRDecay, WallClock, decay_window
from .loop import Run, TrainResult, train
from .schedule import Batch, Phase, Update, split_steps

__all__ = ["Batch", "Callback", "Checkpoints", "FiniteLosses", "Interrupt", "LRDecay", "Phase", "Run", "TrainResult", "Update", "WallClock",
           "decay_window", "split_steps", "train"]
