"""DoppelGANger (issue #36): known answers for its pieces, entity tables, partial
conditions, DP and the generator pass the two updates share."""

import numpy as np
import pandas as pd
import pytest
import torch

import tsgan
from conftest import SMALL, run_cli
from test_entities import stays
from tsgan.data import sines
from tsgan.models.doppelganger import DoppelGANger, DoppelGANgerConfig, activate, harden
from tsgan.training.schedule import Batch


def entity_model(sample_len=3, lengths=(1.0, 6.0), **kw):
    """Six steps of [number, indicator, 2-way label]; statics [start, length, sex (2)]."""
    static = [{"name": "__start__", "kind": "number", "start": 0, "width": 1},
              {"name": "__length__", "kind": "number", "start": 1, "width": 1},
              {"name": "sex", "kind": "one_hot", "start": 2, "width": 2}]
    config = DoppelGANgerConfig(sample_len=sample_len, **{**SMALL["doppelganger"], **kw})
    return DoppelGANger.build(DoppelGANger, config, 4, 6, static, [(2, 2)], lengths, [1])


def test_real_flags_follow_the_released_code():
    # the code's docstring: max length 6, sample_len 3; lengths 1, 3, 4
    m = torch.tensor([[1, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 0, 0]], dtype=torch.float32)
    flags = entity_model(3).real_flags(m)
    assert flags.tolist() == [[[0, 1], [0, 1], [0, 1], [0, 0], [0, 0], [0, 0]],
                              [[1, 0], [1, 0], [0, 1], [0, 0], [0, 0], [0, 0]],
                              [[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]]]
    flags1 = entity_model(1).real_flags(m)  # sample_len 1: [0, 1] at the last step only
    assert flags1[2].tolist() == [[1, 0], [1, 0], [1, 0], [0, 1], [0, 0], [0, 0]]


def test_self_normalisation_scales_observed_steps_and_gives_mid_and_range():
    model = entity_model(1)
    x = torch.zeros(1, 6, 4)
    x[0, :4, 0] = torch.tensor([0.2, 0.6, 0.0, 0.4])
    x[0, 2, 1] = 1.0  # step 2 missing: its 0 is not the minimum
    m = torch.tensor([[1, 1, 1, 1, 0, 0]], dtype=torch.float32)
    scaled, addi = model.self_normalise(x, m)
    assert scaled[0, :4, 0].tolist() == pytest.approx([0.0, 1.0, 0.0, 0.5])
    assert addi[0].tolist() == pytest.approx([0.4, 0.4])  # mid (0.6 + 0.2) / 2, range 0.6 - 0.2
    # and back: the decoded values are the originals (the missing one stays 0)
    back = model.decode_steps(scaled, torch.cat([torch.zeros(1, model.attr_dim), addi], 1))
    assert back[0, :4, 0].tolist() == pytest.approx([0.2, 0.6, 0.0, 0.4])


def test_outputs_are_activated_hardened_and_the_entity_ends_at_its_first_end_flag():
    kinds = [("number", 0, 1), ("indicator", 1, 1), ("one_hot", 2, 2)]
    y = torch.tensor([[[0.0, 10.0, 2.0, -2.0]]])
    a = activate(y, kinds)
    assert a[0, 0, 0] == pytest.approx(0.5 * (1 - torch.sigmoid(torch.tensor(10.0))))  # value zeroed as its flag says missing
    assert a[0, 0, 2:].sum() == pytest.approx(1.0)
    assert harden(a, kinds)[0, 0].tolist() == [0.0, 1.0, 1.0, 0.0]
    model = entity_model(1)
    steps = torch.zeros(2, 6, 6)
    steps[..., 4] = 1.0  # "goes on" everywhere ...
    steps[0, 2, 4:] = torch.tensor([0.0, 1.0])  # ... except entity 0 ends at step 2
    assert model.step_alive(steps).tolist() == [[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]]


def test_the_generator_update_reuses_the_critic_updates_pass():
    model = entity_model(2)
    x, cond = torch.rand(8, 6, 4), torch.cat([torch.rand(8, 1, 4).expand(-1, 6, -1), torch.ones(8, 6, 1)], -1)
    rng = torch.Generator().manual_seed(0)
    calls = []
    model.lstm.register_forward_hook(lambda *a: calls.append(1))
    model.d_loss(Batch(x, rng, cond))
    loss, _ = model.g_loss(Batch(x, rng, cond))
    assert len(calls) == 1 and loss.requires_grad
    model.g_loss(Batch(x, rng, cond))  # nothing cached: a fresh pass
    assert len(calls) == 2


def test_entities_with_partial_conditions_on_labels_and_numbers():
    real = stays(40)
    syn = tsgan.Synthesizer(model="doppelganger", steps=8, batch_size=16, **SMALL["doppelganger"]).fit(
        real, id_column="stay_id", time_column="ts")
    out = syn.sample(20, seed=0, condition={"sex": "F", "age": 30})
    first = out.groupby("stay_id")[["sex", "age"]].first()
    assert len(first) == 20 and (first["sex"] == "F").all() and (first["age"] == 30).all()
    assert syn.module_.sample_len == 1 and syn.module_.rnn_steps == syn.codec_.max_length
    with pytest.raises(tsgan.TsganError, match="'sex' was never 'X' in training"):
        syn.sample(3, condition={"sex": "X"})


def test_long_entities_take_several_steps_per_rnn_step():
    rng = np.random.default_rng(0)
    rows = [{"id": k, "t": t, "v": float(np.sin(t / 20 + k) + rng.normal(0, 0.1))}
            for k in range(12) for t in range(int(rng.integers(400, 600)))]
    syn = tsgan.Synthesizer(model="doppelganger", steps=3, batch_size=8, **SMALL["doppelganger"]).fit(
        pd.DataFrame(rows), id_column="id", time_column="t")
    m = syn.module_
    assert m.sample_len == 12 and m.rnn_steps <= 50 and m.padded_len >= syn.codec_.max_length  # ceil(599 / 50)
    out = syn.sample(4, seed=0)
    assert out["id"].nunique() == 4 and out.groupby("id").size().max() <= syn.codec_.max_length


def test_dp_holds_on_windows_with_a_penalty_free_objective_and_is_refused_otherwise():
    frame = sines(n=100, seq_len=6, dim=2, seed=0)
    kw = dict(model="doppelganger", seq_len=6, steps=3, batch_size=8, **SMALL["doppelganger"])
    with pytest.raises(tsgan.TsganError, match="choose --objective nonsaturating, minimax, hinge or wgan"):
        tsgan.Synthesizer(**kw, dp_epsilon=2.0).fit(frame, id_column="sequence_id", time_column="step")
    syn = tsgan.Synthesizer(**kw, objective="wgan", dp_epsilon=2.0, dp_delta=1e-4).fit(
        frame, id_column="sequence_id", time_column="step")
    assert syn.train_info_["dp"]["epsilon"] == pytest.approx(2.0, rel=0.02)
    assert np.isfinite(syn.sample_array(3, seed=0)).all()


def test_cli_fits_and_samples_doppelganger_entities(tmp_path, monkeypatch, capsys):
    data = tmp_path / "stays.csv"
    stays(30).to_csv(data, index=False)
    code, out, err = run_cli(["fit", data, "--id-column", "stay_id", "--time-column", "ts", "--model", "doppelganger",
                              "--steps", "4", "--param", "batch_size=16", "--param", "feature_units=8", "--out", tmp_path / "run", "-q"],
                             monkeypatch, capsys)
    assert code == 0, err
    code, out, err = run_cli(["sample", tmp_path / "run", "-n", "12", "--condition", "sex=M", "--out", tmp_path / "s.csv"],
                             monkeypatch, capsys)
    assert code == 0, err
    synth = pd.read_csv(tmp_path / "s.csv")
    assert synth["stay_id"].nunique() == 12 and (synth["sex"] == "M").all()


def test_a_missing_flag_is_a_bernoulli_draw_at_its_probability():
    kinds = [("number", 0, 1), ("indicator", 1, 1)]
    y = torch.zeros(20000, 2)
    y[:, 1] = torch.logit(torch.tensor(0.2))
    drawn = harden(activate(y, kinds, torch.Generator().manual_seed(0)), kinds)
    assert drawn[:, 1].mean().item() == pytest.approx(0.2, abs=0.01)  # a threshold on p = 0.2 would give 0
    assert (drawn[drawn[:, 1] == 1, 0] == 0).all()  # missing values are zero


def test_dp_on_entity_tables_privatises_the_critics_per_entity():
    syn = tsgan.Synthesizer(model="doppelganger", steps=4, batch_size=16, objective="wgan", dp_epsilon=3.0, dp_delta=1e-4,
                            **SMALL["doppelganger"]).fit(stays(40), id_column="stay_id", time_column="ts")
    d = syn.train_info_["dp"]
    assert d["unit"] == "entity" and d["epsilon"] == pytest.approx(3.0, rel=0.02) and d["sample_rate"] == pytest.approx(16 / 32)
    out = syn.sample(5, seed=0)
    assert out["stay_id"].nunique() == 5
    with pytest.raises(tsgan.TsganError, match="DP-SGD covers entity tables with --model doppelganger only"):
        tsgan.Synthesizer(model="rcgan", steps=2, dp_epsilon=3.0, objective="wgan").fit(stays(20), id_column="stay_id", time_column="ts")
