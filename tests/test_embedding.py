"""The learned embedding: reproducible, cached by fingerprint, and FID/PR behave on it."""

import numpy as np
import pytest

from tsgan.data import sines_array
from tsgan.errors import TsganError
from tsgan.metrics import frechet_distance, prdc
from tsgan.metrics.embedding import EncoderConfig, Embedding, embedding_for, fit_embedding, nt_xent

TINY = EncoderConfig(hidden=16, layers=1, dim=8, steps=60, batch_size=64)


@pytest.fixture(scope="module")
def data():
    x = sines_array(900, 24, 3, seed=0)
    return x[:300], x[300:600], np.random.default_rng(0).uniform(size=(300, 24, 3))


def test_nt_xent_known_value():
    import torch

    z = torch.eye(2)  # two orthogonal pairs, each view identical to its partner
    # each row: partner sim 1/t, others 0/t (one) and 0/t: loss = -log(e^(1/t) / (e^(1/t) + 2))
    t = 0.5
    expected = -np.log(np.exp(1 / t) / (np.exp(1 / t) + 2))
    assert nt_xent(z, z, t).item() == pytest.approx(expected, rel=1e-5)


def test_fid_and_pr_on_embedding(data, tmp_path):
    a, b, noise = data
    emb = fit_embedding(a, TINY)
    ea, eb, en = emb.embed(a), emb.embed(b), emb.embed(noise)
    assert frechet_distance(ea, eb) < 0.2 * frechet_distance(ea, en)
    same, far = prdc(ea, eb), prdc(ea, en)
    assert same["precision"] > 0.7 and same["recall"] > 0.7
    # noise collapses to a small region of the embedding: recall, coverage and density expose it
    assert far["recall"] < 0.1 and far["coverage"] < 0.1 and far["density"] < 0.3


def test_embedding_cache_reuses_by_fingerprint(data, tmp_path):
    a, b, _ = data
    e1 = embedding_for(a, tmp_path, TINY)
    e2 = embedding_for(a, tmp_path, TINY)
    np.testing.assert_allclose(e1.embed(b), e2.embed(b), rtol=1e-6)
    assert len(list(tmp_path.iterdir())) == 1
    assert embedding_for(b, tmp_path, TINY).fingerprint != e1.fingerprint
    assert Embedding.load(tmp_path / e1.fingerprint[:16]).fingerprint == e1.fingerprint
    with pytest.raises(TsganError, match="fitted on windows of 24 x 3"):
        e1.embed(a[:, :12])
