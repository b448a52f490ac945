"""Conditional GAN and InfoGAN on every sequence model: encoding, training, steering, persistence."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

import tsgan
from tsgan.models import models_of_kind
from tsgan.data import ConditionEncoder
from tsgan.data.builtin import sine_bands
from tsgan.errors import TsganError
from tsgan.objectives import info_loss
from conftest import SMALL



@pytest.fixture(scope="module")
def bands():
    return sine_bands(n=60, seq_len=8, dim=2, seed=0)


def fit(model, frame, steps=6, **kw):
    syn = tsgan.Synthesizer(model=model, seq_len=8, steps=steps, batch_size=8, **SMALL[model], **kw)
    return syn


# ------------------------------------------------------------------ encoder


def test_encoder_one_hot_numeric_and_inverse():
    frame = pd.DataFrame({"site": ["b", "a", "b"], "age": [20.0, 40.0, 30.0], "flag": [True, False, True]})
    enc = ConditionEncoder.fit(frame)
    assert enc.width == 2 + 1 + 2
    got = enc.transform(frame)
    np.testing.assert_array_equal(got[:, :2], [[0, 1], [1, 0], [0, 1]])  # labels sorted: a, b
    np.testing.assert_allclose(got[:, 2], [0.0, 1.0, 0.5])
    back = enc.inverse_transform(got)
    assert back["site"].tolist() == ["b", "a", "b"] and back["age"].tolist() == [20.0, 40.0, 30.0]
    assert back["flag"].tolist() == [True, False, True]
    again = ConditionEncoder.from_dict(enc.to_dict())
    np.testing.assert_array_equal(again.transform(frame), got)


def test_encoder_requests_and_unseen_label():
    enc = ConditionEncoder.fit(pd.DataFrame({"band": ["low", "mid", "high"]}))
    assert enc.request("mid", 4, 3).shape == (4, 3, 3)
    assert (enc.request("mid", 4, 3).argmax(-1) == 2).all()  # labels sorted: high, low, mid
    per_seq = enc.request(["low", "high"], 2, 3)
    assert per_seq[0, :, :].argmax(-1).tolist() == [1, 1, 1] and per_seq[1, 0].argmax() == 0  # sorted: high, low, mid
    per_step = enc.request(pd.DataFrame({"band": ["low", "mid", "high"] * 2}), 2, 3)
    assert per_step[1].argmax(-1).tolist() == [1, 2, 0]
    with pytest.raises(TsganError, match="unknown label 'ultra' for condition 'band'.*high, low, mid"):
        enc.request("ultra", 2, 3)
    with pytest.raises(TsganError, match="got 5 conditions for 2 sequences"):
        enc.request(["low"] * 5, 2, 3)


def test_info_loss_known_answers():
    # uniform logits over K categories: cross-entropy log K; continuous: 0.5 |c - mu|^2 summed over codes
    logits = torch.zeros(4, 3)
    cat = torch.tensor([0, 1, 2, 0])
    assert info_loss(logits, cat, None, None).item() == pytest.approx(math.log(3))
    mu, c = torch.zeros(2, 2), torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    assert info_loss(None, None, mu, c, weight=2.0).item() == pytest.approx(2.0 * 0.5 * (2.0 + 4.0) / 2)
    assert info_loss(logits, cat, mu, c).item() == pytest.approx(math.log(3) + 1.5)


# ------------------------------------------------------------------ conditional GAN


@pytest.mark.parametrize("model", models_of_kind("sequence"))
def test_conditional_model_samples_requested_label(model, bands, tmp_path):
    syn = fit(model, bands).fit(bands, id_column="sequence_id", time_column="step", condition_columns=["band"])
    assert syn.module_.cond_dim == 3
    frame = syn.sample_frame(5, seed=1, condition="high")
    assert list(frame.columns) == ["sequence_id", "step", "band", "s0", "s1"]
    assert (frame["band"] == "high").all() and np.isfinite(frame[["s0", "s1"]].to_numpy()).all()
    mixed = syn.sample_frame(3, seed=1, condition=["low", "mid", "high"])
    assert mixed.groupby("sequence_id")["band"].first().tolist() == ["low", "mid", "high"]
    # the condition changes the output; the same condition and seed repeat it
    np.testing.assert_array_equal(syn.sample_array(4, seed=2, condition="low"), syn.sample_array(4, seed=2, condition="low"))
    assert not np.array_equal(syn.sample_array(4, seed=2, condition="low"), syn.sample_array(4, seed=2, condition="high"))
    # no condition: drawn from the training mix
    assert set(syn.sample_frame(40, seed=0)["band"]) <= {"low", "mid", "high"}
    with pytest.raises(TsganError, match="unknown label 'ultra'"):
        syn.sample_array(2, condition="ultra")
    # persistence keeps the encoder and the condition bank
    syn.save(tmp_path / "run")
    back = tsgan.load(tmp_path / "run", device="auto")  # the fit's device
    np.testing.assert_allclose(back.sample_array(4, seed=2, condition="mid"), syn.sample_array(4, seed=2, condition="mid"), atol=1e-6)
    np.testing.assert_allclose(back.sample_array(4, seed=5), syn.sample_array(4, seed=5), atol=1e-6)


def test_rcgan_per_step_numeric_condition():
    rng = np.random.default_rng(0)
    n, t = 40, 8
    load = rng.uniform(0, 10, size=n * t)
    frame = pd.DataFrame({"sequence_id": np.repeat(np.arange(n), t), "step": np.tile(np.arange(t), n),
                          "load": load, "y": 0.5 * load + rng.normal(size=n * t)})
    syn = fit("rcgan", frame).fit(frame, id_column="sequence_id", time_column="step", condition_columns=["load"])
    steps = pd.DataFrame({"load": np.linspace(0, 10, 2 * t)})
    out = syn.sample_frame(2, seed=0, condition=steps)
    np.testing.assert_allclose(out["load"].to_numpy(), steps["load"].to_numpy(), atol=1e-4)
    with pytest.raises(TsganError, match="fitted without conditions"):
        fit("rcgan", frame.drop(columns="load")).fit(frame.drop(columns="load"), id_column="sequence_id", time_column="step").sample(2, condition=1.0)


def test_condition_column_errors(bands):
    with pytest.raises(TsganError, match="--condition-column 'colour' is not a column"):
        fit("rcgan", bands).fit(bands, id_column="sequence_id", time_column="step", condition_columns=["colour"])
    with pytest.raises(TsganError, match="pass --condition-column band"):
        fit("rcgan", bands).fit(bands, id_column="sequence_id", time_column="step", condition_columns=[])


# ------------------------------------------------------------------ InfoGAN


@pytest.mark.parametrize("model", models_of_kind("sequence"))
def test_infogan_codes_train_and_steer(model, bands):
    data = bands.drop(columns="band")
    syn = fit(model, data, info_categories=3, info_continuous=1)
    syn.fit(data, id_column="sequence_id", time_column="step")
    info = syn.history_.filter(like="/info").to_numpy(dtype=float)
    assert np.isfinite(info[~np.isnan(info)]).all() and (~np.isnan(info)).any()
    a = syn.sample_array(6, seed=0, codes=0)
    b = syn.sample_array(6, seed=0, codes=2)
    assert a.shape == (6, 8, 2) and not np.array_equal(a, b)  # the code steers the generator
    np.testing.assert_array_equal(syn.sample_array(6, seed=0, codes={"category": 1, "continuous": [0.5]}),
                                  syn.sample_array(6, seed=0, codes={"category": 1, "continuous": [0.5]}))
    with pytest.raises(TsganError, match="category codes must be integers 0..2"):
        syn.sample_array(2, codes=3)
    with pytest.raises(TsganError, match="continuous codes need 1 value"):
        syn.sample_array(2, codes={"continuous": [0.1, 0.2]})


def test_infogan_q_learns_the_code(bands):
    # the mutual-information term falls well below its chance value log 3 as Q and G learn the code
    data = bands.drop(columns="band")
    syn = tsgan.Synthesizer(model="rcgan", recipe="paper", seq_len=8, steps=300, batch_size=32, hidden_g=16, hidden_d=16, info_categories=3)
    syn.fit(data, id_column="sequence_id", time_column="step")
    info = syn.history_["g/info"].to_numpy()
    assert info[:5].mean() > 0.95 * math.log(3) and info[-50:].mean() < 0.5 * math.log(3)


def test_info_hidden_gives_q_a_hidden_layer(bands):
    data = bands.drop(columns="band")
    roles = {"id_column": "sequence_id", "time_column": "step"}
    linear = fit("rcgan", data, info_categories=3).fit(data, **roles).module_.controls.q
    mlp = fit("rcgan", data, info_categories=3, info_hidden=8).fit(data, **roles).module_.controls.q
    assert isinstance(linear, torch.nn.Linear) and linear.out_features == 3
    assert [type(m).__name__ for m in mlp] == ["Linear", "LeakyReLU", "Linear"] and mlp[0].out_features == 8 and mlp[2].out_features == 3


def test_no_codes_model_refuses_codes(bands):
    syn = fit("rcgan", bands.drop(columns="band")).fit(bands.drop(columns="band"), id_column="sequence_id", time_column="step")
    with pytest.raises(TsganError, match="no latent codes"):
        syn.sample_array(2, codes=0)
