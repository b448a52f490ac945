"""Differentially private training: the budget is met and recorded, bad settings are refused."""

import json

import numpy as np
import pytest

import tsgan
from tsgan.data import sines
from tsgan.errors import TsganError

from conftest import run_cli

pytest.importorskip("opacus")


@pytest.fixture(scope="module")
def frame():
    return sines(n=100, seq_len=6, dim=2, seed=0)


def fit(frame, model="rcgan", steps=4, **kw):
    small = {"rcgan": {"hidden_g": 8, "hidden_d": 8}, "crnngan": {"hidden": 8}, "timegan": {"hidden": 8}}[model]
    syn = tsgan.Synthesizer(model=model, seq_len=6, steps=steps, batch_size=8, **small, **kw)
    return syn.fit(frame, id_column="sequence_id", time_column="step")


@pytest.mark.parametrize("model", ["rcgan", "crnngan"])
def test_dp_run_spends_its_target_epsilon(frame, model, tmp_path):
    syn = fit(frame, model, dp_epsilon=2.0, dp_delta=1e-4)
    d = syn.train_info_["dp"]
    assert d["epsilon"] == pytest.approx(2.0, rel=0.02) and d["delta"] == 1e-4 and d["noise_multiplier"] > 0.5
    assert d["sample_rate"] == pytest.approx(8 / 80) and d["windows_per_row"] == 6
    type_names = {type(m).__name__ for m in syn.module_.discriminator.modules()}
    assert "DPLSTM" in type_names  # per-sample gradients through opacus' recurrent layers
    assert np.isfinite(syn.sample_array(3, seed=0)).all()
    syn.save(tmp_path / "run")
    assert json.loads((tmp_path / "run" / "tsgan.json").read_text())["train"]["dp"]["epsilon"] == d["epsilon"]
    assert np.isfinite(tsgan.load(tmp_path / "run").sample_array(3, seed=0)).all()


def test_dp_timegan_privatises_every_update_that_reads_real_data(frame):
    # 9 steps: 3 embedding (e+r), 3 supervised (s), 3 joint x (2 e+r updates + 1 d update)
    syn = fit(frame, "timegan", steps=9, dp_epsilon=3.0, dp_delta=1e-4)
    d, m = syn.train_info_["dp"], syn.module_
    assert d["epsilon"] == pytest.approx(3.0, rel=0.02) and d["private_steps"] == 3 + 3 + 3 * 3
    for net in (m.embedder, m.recovery, m.supervisor, m.discriminator):
        assert "DPGRU" in {type(x).__name__ for x in net.modules()}
    assert "DPGRU" not in {type(x).__name__ for x in m.generator.modules()}  # never reads real data
    assert np.isfinite(syn.sample_array(3, seed=0)).all()


def test_private_timegan_generator_loss_reads_no_real_data(frame):
    # the generator's private update must not depend on the real batch at all
    import torch

    from tsgan.training import Batch

    m = fit(frame, "timegan", steps=3, dp_noise=1.0, device="cpu").module_
    x1, x2 = torch.rand(4, 6, 2), torch.rand(4, 6, 2)
    l1, _ = m.generator_loss(Batch(x1, torch.Generator().manual_seed(0)))
    l2, _ = m.generator_loss(Batch(x2, torch.Generator().manual_seed(0)))
    assert torch.equal(l1, l2)


def test_per_window_sqrt_mse_known_answer():
    import torch

    from tsgan.objectives import sqrt_mse_per_window

    a = torch.zeros(2, 3, 1)
    b = torch.tensor([[[1.0], [1.0], [1.0]], [[2.0], [2.0], [2.0]]])
    assert sqrt_mse_per_window(a, b).item() == pytest.approx(1.5)  # (1 + 2) / 2; sqrt of the batch MSE is sqrt(2.5)


def test_more_noise_spends_less(frame):
    low = fit(frame, dp_noise=0.8).train_info_["dp"]["epsilon"]
    high = fit(frame, dp_noise=3.0).train_info_["dp"]["epsilon"]
    assert high < low


def test_dp_refusals(frame):
    with pytest.raises(TsganError, match=r"exactly one of dp_epsilon \(--dp-epsilon\) or dp_noise"):
        fit(frame, dp_epsilon=1.0, dp_noise=1.0)
    with pytest.raises(TsganError, match="dp_epsilon must be positive .*leave it out to train without DP"):
        fit(frame, dp_epsilon=0)
    with pytest.raises(TsganError, match="parameter 'dp_delta' must be in"):
        fit(frame, dp_epsilon=1.0, dp_delta=1.5)
    with pytest.raises(TsganError, match="dp_epsilon must be positive"):  # as --param gives it: a string
        fit(frame, dp_epsilon="0")
    assert fit(frame, dp_noise="1.0", select_every="0", steps=2).train_info_["dp"]["noise_multiplier"] == 1.0  # 0 = off, as said
    with pytest.raises(TsganError, match="double backward"):
        fit(frame, dp_epsilon=1.0, objective="wgan-gp")
    with pytest.raises(TsganError, match="double backward"):
        fit(frame, "timegan", dp_epsilon=1.0, objective="wgan-gp")
    with pytest.raises(TsganError, match="r1_weight=0"):
        fit(frame, dp_epsilon=1.0, r1_weight=1.0)
    with pytest.raises(TsganError, match="feature_matching=false"):
        fit(frame, "crnngan", dp_epsilon=1.0, feature_matching=True)
    with pytest.raises(TsganError, match="minibatch_d=false"):
        fit(frame, "crnngan", dp_epsilon=1.0, minibatch_d=True)


def test_dp_from_the_cli(tmp_path, monkeypatch, capsys, frame):
    data = tmp_path / "s.csv"
    frame.to_csv(data, index=False)
    code, out, err = run_cli(["fit", "--model", "rcgan", data, "--seq-len", "6", "--steps", "3", "-p", "batch_size=8", "-q", "--id-column", "sequence_id",
                              "-p", "hidden_g=8", "-p", "hidden_d=8", "--dp-epsilon", "5", "--out", tmp_path / "run"], monkeypatch, capsys)
    assert code == 0, err
    assert "differential privacy: epsilon 5.0" in out
    code, out, err = run_cli(["privacy", tmp_path / "run"], monkeypatch, capsys)
    assert code == 0 and "differential privacy: epsilon 5.0" in out
