"""Known answers for FID, PRDC and the correlational score."""

import numpy as np
import pytest

from tsgan.metrics.distances import correlational_score, frechet_distance, prdc


def test_frechet_distance_closed_form():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((200_00, 3))
    b = rng.standard_normal((200_00, 3)) * 2 + 1
    # N(0, I) vs N(1, 4I): |mu|^2 = 3, trace term 3 * (1 + 4 - 2 * 2) = 3
    assert frechet_distance(a, b) == pytest.approx(6.0, rel=0.03)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_singular_covariance_is_finite():
    rng = np.random.default_rng(1)
    a = np.repeat(rng.standard_normal((50, 1)), 4, axis=1)  # rank-1 covariance
    b = a + 0.01
    assert np.isfinite(frechet_distance(a, b)) and frechet_distance(a, b) < 0.01


def test_prdc_hand_computed():
    real = np.array([[0.0], [1.0], [2.0], [10.0]])
    fake = np.array([[0.5], [20.0]])
    # k = 1 radii of real: 1, 1, 1, 8; of fake: 19.5, 19.5
    out = prdc(real, fake, k=1)
    assert out["precision"] == 0.5  # 0.5 inside; 20 outside every ball
    assert out["recall"] == 1.0  # every real point within 19.5 of some fake point
    assert out["density"] == pytest.approx((2 + 0) / 2)  # 0.5 sits in the balls of 0 and 1
    assert out["coverage"] == pytest.approx(2 / 4)  # nearest fake inside the balls of 0 and 1 only


def test_prdc_same_vs_shifted():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((500, 4)), rng.standard_normal((500, 4))
    same = prdc(a, b)
    assert same["precision"] > 0.8 and same["recall"] > 0.8
    far = prdc(a, b + 10)
    assert far["precision"] == 0 and far["recall"] == 0 and far["coverage"] == 0


def test_correlational_score():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((400, 24, 1))
    corr = np.concatenate([base, base + 0.01 * rng.standard_normal(base.shape)], axis=2)  # corr ~ 1
    indep = rng.standard_normal((400, 24, 2))  # corr ~ 0
    assert correlational_score(corr, corr) == 0
    # only the off-diagonal entry differs, by ~1: score ~ 1 / 10
    assert correlational_score(corr, indep) == pytest.approx(0.1, abs=0.01)


def test_marginal_distance_known_values():
    from tsgan.metrics.distances import marginal_distance

    real = np.zeros((10, 4, 2))
    fake = np.zeros((10, 4, 2))
    fake[..., 1] = 3.0  # second feature shifted by 3
    out = marginal_distance(real, fake)
    assert out["ks"].tolist() == [0.0, 1.0] and out["wasserstein"].tolist() == pytest.approx([0.0, 3.0])


def test_autocorrelation_known_values():
    from tsgan.metrics.distances import autocorrelation, autocorrelation_difference

    alt = np.tile([1.0, -1.0], 12)[None, :, None].repeat(5, 0)  # lag 1: -1, lag 2: +1
    acf = autocorrelation(alt, 2)
    assert acf[:, 0] == pytest.approx([-1.0, 1.0])
    assert autocorrelation_difference(alt, alt) == 0
    assert autocorrelation_difference(alt, -alt) == 0  # sign flip keeps the autocorrelation
    assert autocorrelation_difference(alt, np.roll(alt, 1, axis=1), 1) == pytest.approx(0.0)


def test_mmd_rbf():
    from tsgan.metrics.distances import mmd_rbf

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 3)), rng.standard_normal((300, 3))
    assert abs(mmd_rbf(a, b)) < 0.01  # unbiased: ~0 for the same distribution
    assert mmd_rbf(a, b + 3) > 0.3
    # two points each, bandwidth 1: k(x, x') = exp(-|x - x'|^2 / 2)
    x, y = np.array([[0.0], [1.0]]), np.array([[2.0], [3.0]])
    k = lambda d: np.exp(-(d**2) / 2)
    expected = k(1) + k(1) - 2 * (k(2) + k(3) + k(1) + k(2)) / 4
    assert mmd_rbf(x, y, bandwidth=1.0) == pytest.approx(expected)
