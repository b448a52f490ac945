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
