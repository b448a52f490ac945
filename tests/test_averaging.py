"""Weight averaging (tsgan.training.averaging): the known moving average of the weights, kept
only over the last phase, sampled from after training, and scored by checkpoint
selection when both are on."""

import numpy as np
import pandas as pd
import pytest
import torch

import tsgan
from tsgan.training.averaging import WeightAverage
from tsgan.errors import TsganError

from conftest import run_cli


def test_known_average_over_the_last_phase_only():
    model = torch.nn.Linear(1, 1, bias=False)
    model.register_buffer("count", torch.zeros((), dtype=torch.long))  # integer buffers are copied, not averaged
    avg = WeightAverage(model, decay=0.5, phase="adversarial")
    for phase, w in [("pretrain", 100.0), ("adversarial", 2.0), ("adversarial", 4.0), ("adversarial", 8.0)]:
        model.weight.data.fill_(w)
        model.count += 1
        avg.after_step(None, phase, 1, False)
    # starts at the phase's first weights: 2 -> .5*2 + .5*4 = 3 -> .5*3 + .5*8 = 5.5
    with avg.swapped():
        assert model.weight.item() == 5.5 and model.count.item() == 4
    assert model.weight.item() == 8.0  # the trained weights are back after the block
    assert avg.apply() == {"decay": 0.5, "phase": "adversarial", "updates": 3}
    assert model.weight.item() == 5.5


def test_average_that_never_started_keeps_the_weights():
    model = torch.nn.Linear(1, 1)
    before = model.weight.clone()
    record = WeightAverage(model, 0.9, "joint").apply()
    assert "no average" in record["note"] and torch.equal(model.weight, before)


def _frame():
    data = np.sin(np.linspace(0, 40, 600))[:, None] * np.ones((1, 2)) + np.linspace(0, 1, 2)
    return pd.DataFrame(data, columns=["a", "b"])


def test_fit_samples_from_the_average_and_trains_the_same_run():
    kw = dict(model="rcgan", recipe="paper", seq_len=8, steps=30, holdout=0, seed=3, hidden_g=8, hidden_d=8)
    plain = tsgan.Synthesizer(**kw).fit(_frame())
    averaged = tsgan.Synthesizer(ema=0.9, **kw).fit(_frame())
    pd.testing.assert_frame_equal(plain.history_.drop(columns="seconds"), averaged.history_.drop(columns="seconds"))
    assert averaged.train_info_["ema"] == {"decay": 0.9, "phase": "adversarial", "updates": 30}
    # the weights differ from the last iterate's: the samples come from the average
    w_plain, w_avg = plain.module_.state_dict(), averaged.module_.state_dict()
    assert any(not torch.equal(w_plain[k], w_avg[k]) for k in w_plain)
    assert not np.array_equal(plain.sample_array(5, seed=0), averaged.sample_array(5, seed=0))


def test_selection_scores_and_keeps_the_averaged_weights(monkeypatch):
    import tsgan.training.selection as selection

    seen = []
    monkeypatch.setattr(selection.CheckpointSelector, "score", lambda self, second=False: seen.append(
        {k: v.clone() for k, v in self.model.state_dict().items()}) or 0.5 - 0.01 * len(seen))
    syn = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=20, holdout=0, seed=3, hidden_g=8, hidden_d=8, ema=0.9, select_every=10)
    syn.fit(_frame())
    assert syn.train_info_["selection"]["best_step"] == 20 and syn.train_info_["ema"]["updates"] == 20
    # the last check scored the averaged weights, and those are the ones kept
    kept = syn.module_.state_dict()
    assert all(torch.equal(seen[-1][k], kept[k]) for k in kept)


def test_ema_bad_values(tmp_path, monkeypatch, capsys, csv_path):
    with pytest.raises(TsganError, match=r"parameter 'ema' must be in \[0, 1\) \(got 1\)"):
        tsgan.Synthesizer(model="rcgan", ema=1.0, seq_len=5, steps=1).fit(csv_path)
    code, out, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "2", "--param", "ema=-0.5", "--out", tmp_path / "r", "-q"], monkeypatch, capsys)
    assert code == 2 and "parameter 'ema' must be in [0, 1)" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
    code, out, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "4", "--param", "ema=0.9", "--out", tmp_path / "ok", "-q"], monkeypatch, capsys)
    assert code == 0 and "moving average (decay 0.9) over the 4 steps of adversarial" in out.replace("\n", " ")
