"""bench/rescore.py --critic: the discriminator probe behind the README's C-RNN-GAN diagnosis."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import tsgan
from tsgan.data import sines

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rescore import critic_probe  # noqa: E402


@pytest.fixture(scope="module", params=["rcgan", "crnngan"])
def fitted(request):
    small = {"rcgan": {"hidden_g": 8, "hidden_d": 8}, "crnngan": {"hidden": 8}}[request.param]
    frame = sines(n=40, seq_len=8, dim=2, seed=0)
    syn = tsgan.Synthesizer(model=request.param, seq_len=8, steps=3, batch_size=8, holdout=0, **small)
    syn.fit(frame, id_column="sequence_id", time_column="step")
    real = np.stack([g[["s0", "s1"]].to_numpy() for _, g in frame.groupby("sequence_id")])
    return syn, real


def probe_scaled(syn, real, weight: float, bias: float = 1.0) -> dict:
    """The probe with the decision layer's weight and bias scaled, restored after."""
    out_layer = syn.module_.discriminator.out
    saved = {k: v.clone() for k, v in out_layer.state_dict().items()}
    with torch.no_grad():
        out_layer.weight.mul_(weight)
        out_layer.bias.mul_(bias)
    try:
        return critic_probe(syn, real, n=16)
    finally:
        out_layer.load_state_dict(saved)


def test_a_zeroed_decision_layer_reads_chance_and_no_saturation(fitted):
    syn, real = fitted
    out = probe_scaled(syn, real, 0.0, 0.0)
    for side in ("real", "fake"):
        assert out[side]["logit_std"] == 0 and out[side]["saturated"] == 0
        assert out[side]["decision_mean"] == pytest.approx(0.5) and out[side]["called_real"] == 0
        assert out[side]["grad_sq_median"] == 0 and out[side]["grad_sq_mean"] == 0  # a constant critic
    assert out["accuracy"] == 0.5


def test_a_huge_decision_layer_reads_saturated(fitted):
    syn, real = fitted
    out = probe_scaled(syn, real, 1e4)
    assert out["real"]["saturated"] > 0.9 and out["fake"]["saturated"] > 0.9
    assert 0.0 <= out["accuracy"] <= 1.0


def test_sharpness_scales_with_the_decision_layer_squared(fitted):
    # the summed logits are linear in the decision layer's weights (its bias has no
    # input gradient): scaling them by 10 scales |grad_x|^2 by 100
    syn, real = fitted
    if syn.model != "rcgan":
        pytest.skip("C-RNN-GAN's decision averages per-step sigmoids: not linear in the decision layer")
    before = critic_probe(syn, real, n=16)
    after = probe_scaled(syn, real, 10.0)
    for side in ("real", "fake"):
        assert before[side]["grad_sq_mean"] > 0
        assert after[side]["grad_sq_mean"] == pytest.approx(100 * before[side]["grad_sq_mean"], rel=1e-4)


def test_a_timegan_run_is_refused_with_a_one_line_error():
    frame = sines(n=40, seq_len=8, dim=2, seed=0)
    syn = tsgan.Synthesizer(model="timegan", seq_len=8, steps=3, batch_size=8, holdout=0, hidden=8)
    syn.fit(frame, id_column="sequence_id", time_column="step")
    with pytest.raises(SystemExit, match="drop --critic"):
        critic_probe(syn, np.zeros((4, 8, 2)))


def test_out_naming_a_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    import rescore

    monkeypatch.setattr(sys, "argv", ["rescore.py", str(tmp_path / "no-run"), "--data", "sines", "--critic", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="is a folder: pass a file path"):
        rescore.main()
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(("flag", "value", "message"), [("--sets", "0", "--sets must be at least 1"), ("--reps", "0", "--reps must be at least 1"), ("--pred", "-1", "--pred must be 0 or more")])
def test_counts_out_of_range_are_refused_before_any_work(tmp_path, monkeypatch, flag, value, message):
    import rescore

    monkeypatch.setattr(sys, "argv", ["rescore.py", str(tmp_path / "no-run"), "--data", "sines", flag, value])
    with pytest.raises(SystemExit, match=message):
        rescore.main()
