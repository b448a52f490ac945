"""Known answers for the TimeGAN scores (short training keeps them fast)."""

import numpy as np
import pytest

from tsgan.data import sines_array
from tsgan.errors import TsganError
from tsgan.metrics import discriminative_score, predictive_score


@pytest.fixture(scope="module")
def sines_split():
    x = sines_array(1200, 24, 4, seed=0)
    return x[:600], x[600:]


def test_discriminative_is_seeded(sines_split):
    a, b = sines_split
    assert discriminative_score(a, b, iterations=50, seed=1) == discriminative_score(a, b, iterations=50, seed=1)


def test_discriminative_real_vs_real_is_near_zero_and_real_vs_noise_far(sines_split):
    a, b = sines_split
    noise = np.random.default_rng(0).uniform(size=a.shape)
    assert discriminative_score(a, b, iterations=300) < 0.08
    assert discriminative_score(a, noise, iterations=300) > 0.4


def test_predictive_real_beats_noise(sines_split):
    a, b = sines_split
    noise = np.random.default_rng(0).uniform(size=a.shape)
    on_real = predictive_score(b, a, iterations=600)
    on_noise = predictive_score(b, noise, iterations=600)
    assert on_real < 0.12 and on_noise > on_real + 0.05


def test_score_bad_input(sines_split):
    a, _ = sines_split
    with pytest.raises(TsganError, match="at least 2 features"):
        predictive_score(a[..., :1], a[..., :1], iterations=1)
    with pytest.raises(TsganError, match="differ"):
        discriminative_score(a, a[:, :12], iterations=1)
    bad = a.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(TsganError, match="NaN"):
        discriminative_score(a, bad, iterations=1)


def test_code_alignment_known_answers():
    from tsgan.metrics import code_alignment

    # codes 0 and 1 both give class 0 purely, code 2 splits 0.6 / 0.4 between classes 1 and 2
    share = [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.6, 0.4]]
    a = code_alignment(share)
    assert a["purity"] == pytest.approx((1 + 1 + 0.6) / 3)
    # one-to-one: code 0 -> class 0 (1.0), code 2 -> class 1 (0.6), code 1 -> class 2 (0.0)
    assert a["matched_accuracy"] == pytest.approx(1.6 / 3)
    assert a["majority"] == [0, 0, 1] and a["distinct"] == 2
    perm = code_alignment([[0.0, 0.9, 0.1], [0.05, 0.05, 0.9], [1.0, 0.0, 0.0]])  # a permutation recovered
    assert perm["matched_accuracy"] == pytest.approx(perm["purity"]) == pytest.approx(2.8 / 3)
    with pytest.raises(ValueError, match="rows sum to 1"):
        code_alignment([[0.5, 0.2]])


def test_a_classifier_that_separated_and_then_collapsed_is_caught():
    """The protocol's classifier sometimes tells the samples apart (low loss) and then
    collapses to one label; its score then reads near 0. discriminative_check reads .5."""
    from tsgan.metrics.scores import COLLAPSE_LOSS, collapsed

    assert collapsed([0.69, 0.2, 0.05, 1.3], share_one_label=1.0)  # separated, then all one label
    assert not collapsed([0.69, 0.2, 0.05, 0.04], share_one_label=0.5)  # separated and still separating
    assert not collapsed([0.70, 0.69, 0.69], share_one_label=1.0)  # never separated: the samples look real
    assert not collapsed([], share_one_label=1.0) and COLLAPSE_LOSS == 0.3


def test_discriminative_check_reads_collapse_as_distinguishable(sines_split, monkeypatch):
    import tsgan.metrics.scores as scores
    from tsgan.metrics import discriminative_check

    a, b = sines_split
    assert discriminative_check(a, b, iterations=60, seed=1) == discriminative_score(a, b, iterations=60, seed=1)
    monkeypatch.setattr(scores, "_discriminate", lambda *args: (0.01, True))
    assert discriminative_check(a, b, iterations=60) == 0.5 and discriminative_score(a, b, iterations=60) == 0.01
