"""bench/diagnose_sines.py: the altered Sines and the statistics behind the README's
"what the classifier sees"."""

import sys
from pathlib import Path

import numpy as np
import pytest

from tsgan.data import sines_array

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from diagnose_sines import copula_sines, coupling, coupling_all_steps, roughness  # noqa: E402


def test_copula_sines_keep_the_marginals_and_couple_the_features():
    real = sines_array(n=4000)
    free, coupled = copula_sines(0.0, n=4000), copula_sines(0.6, n=4000)
    assert free.shape == coupled.shape == real.shape
    for x in (free, coupled):  # uniform frequencies: the last values' spread is Sines'
        assert x[:, -1].mean() == pytest.approx(real[:, -1].mean(), abs=0.01)
        assert x[:, -1].std() == pytest.approx(real[:, -1].std(), abs=0.01)
    assert coupling(real) < 0.05 and coupling(free) < 0.05 and coupling(coupled) > 0.4


def test_known_answers():
    t = np.arange(6, dtype=np.float32)
    x = np.stack([np.stack([t, t**2], axis=1)] * 3)  # second differences 0 and 2
    assert roughness(x) == pytest.approx(1.0)
    y = np.random.default_rng(0).random((500, 4, 3)).astype(np.float32)
    y[:, -1, 1] = y[:, -1, 0]  # features 0 and 1 equal at the last step: |corr| 1 for that pair
    assert coupling(y) == pytest.approx((2 * 1 + 4 * abs(np.corrcoef(y[:, -1].T)[0, 2])) / 6, abs=1e-5)
    # one step at a time, and their mean over steps: zero-mean orthogonal columns correlate exactly 0
    a, b, c = np.array([1, -1, 1, -1.0]), np.array([1, 1, -1, -1.0]), np.array([1, -1, -1, 1.0])
    z = np.stack([np.stack(step, 1) for step in ((a, b, c), (a, a, b), (a, -a, -a))], 1)  # (4, 3 steps, 3)
    assert [coupling(z, t) for t in range(3)] == pytest.approx([0.0, 1 / 3, 1.0], abs=1e-9)
    assert coupling_all_steps(z) == pytest.approx(4 / 9, abs=1e-9)
