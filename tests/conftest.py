import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def wide_frame() -> pd.DataFrame:
    """60 daily rows of 3 columns (one int) plus a date column, shuffled out of order."""
    rng = np.random.default_rng(0)
    t = np.arange(60)
    df = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=60, freq="D"),
            "a": np.sin(t / 5) + 0.1 * rng.standard_normal(60),
            "b": np.cos(t / 7) * 10 + 50,
            "count": rng.integers(100, 200, 60),
        }
    )
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


# small networks of each sequence model, for tests that train every one of them
SMALL = {"rcgan": {"hidden_g": 8, "hidden_d": 8}, "timegan": {"hidden": 8}, "crnngan": {"hidden": 8},
         "doppelganger": {"feature_units": 8, "attribute_units": 8, "disc_units": 8}}


@pytest.fixture
def csv_path(tmp_path, wide_frame) -> Path:
    p = tmp_path / "data.csv"
    wide_frame.to_csv(p, index=False)
    return p


def run_cli(args, monkeypatch, capsys):
    """Run the real `tsgan` entry point in-process; returns (exit code, stdout, stderr)."""
    from tsgan_cli.main import main

    monkeypatch.setattr(sys, "argv", ["tsgan", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _bf16_here() -> bool:
    import torch

    from tsgan.torch_utils import bf16_supported

    return bf16_supported(torch.device("cpu"))


needs_bf16 = pytest.mark.skipif(not _bf16_here(), reason="this CPU has no bfloat16 arithmetic (AVX512-BF16 or AMX)")


class CheckpointAt:
    """Keeps the files of the checkpoint a fit writes after ``step`` (``checkpoint_minutes``
    tiny makes every step one); ``crash(path)`` lays them out as the run directory a crash
    after that step would leave."""

    def __init__(self, monkeypatch, step: int):
        import tsgan.rundir

        self.saved: dict[str, bytes] = {}
        real_write = tsgan.rundir.write_run

        def keep(syn, path, force=False):
            real_write(syn, path, force)
            if syn.train_info_["stopped"] == "checkpoint" and syn.train_info_["steps"] == step:
                self.saved.update({p.name: p.read_bytes() for p in path.iterdir()})

        monkeypatch.setattr(tsgan.rundir, "write_run", keep)

    def crash(self, path):
        path.mkdir()
        for name, content in self.saved.items():
            (path / name).write_bytes(content)
        return path
