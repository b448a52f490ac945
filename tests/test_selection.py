"""Checkpoint selection (tsgan.training.selection): the best-scoring weights are the ones kept,
training itself is unchanged by the checks, and bad settings get one-line errors."""

import numpy as np
import pytest
import torch

import tsgan
from tsgan.data.windows import Windows
from tsgan.errors import TsganError
from tsgan.evaluate import loss_figure
from tsgan.training.selection import SEED_OFFSET, CheckpointSelector

from conftest import run_cli


class Shifted(torch.nn.Module):
    """Generates the real windows' distribution (U(0, 0.5)) moved up by ``shift``."""

    def __init__(self):
        super().__init__()
        self.shift = torch.nn.Parameter(torch.zeros(()))

    def generate(self, n, rng, cond=None, codes=None):
        return 0.5 * torch.rand(n, 6, 2, generator=rng, device=rng.device) + self.shift


def test_selector_keeps_and_restores_the_best_checkpoint():
    real = 0.5 * np.random.default_rng(0).random((400, 6, 2)).astype(np.float32)
    model = Shifted()
    sel = CheckpointSelector(model, Windows.from_array(real), every=10, phase="adversarial", n=300, iterations=300)
    for done, shift in [(10, 0.5), (20, 0.0), (25, 0.3)]:  # 25: the phase's last step, off the grid
        model.shift.data.fill_(shift)
        sel.after_step(None, "adversarial", done, last=done == 25)
    sel.after_step(None, "embedding", 10, last=False)  # other phases are never checked
    sel.after_step(None, "adversarial", 15, last=False)  # off the grid
    assert [s["step"] for s in sel.scores] == [10, 20, 25]
    far, near, mid = (s["disc"] for s in sel.scores)
    assert far > 0.45 and near < 0.1 and near < mid
    record = sel.restore()
    assert record["best_step"] == 20 and record["best_disc"] == near
    assert model.shift.item() == 0.0


def test_a_failed_classifier_cannot_pick_a_checkpoint(monkeypatch):
    """A classifier that failed to train scores ~0 whatever the samples: a candidate
    best is scored again by a second classifier and counts with the larger score."""
    import tsgan.training.selection as selection

    real = np.full((50, 6, 2), 0.25, np.float32)

    def scorer(r, synth, iterations, seed):  # the shift, except a first classifier that fails on shift .3
        shift = float(synth.mean() - 0.25)
        return 0.0 if seed == selection.SEED_OFFSET and abs(shift - 0.3) < 0.05 else shift

    monkeypatch.setattr(selection, "discriminative_check", scorer)
    model = Shifted()
    sel = CheckpointSelector(model, Windows.from_array(real), every=1, phase="p")
    for done, shift in [(1, 0.2), (2, 0.3), (3, 0.25), (4, 0.1)]:
        model.shift.data.fill_(shift)
        sel.after_step(None, "p", done, last=False)
    first, failed, worse, best = sel.scores
    assert failed["classifiers"][0] == 0.0 and failed["disc"] == pytest.approx(0.3, abs=0.02)
    assert "classifiers" not in worse  # not a candidate: scored once
    assert best["disc"] == pytest.approx(0.1, abs=0.02) and len(best["classifiers"]) == 2
    assert sel.restore()["best_step"] == 4 and model.shift.item() == pytest.approx(0.1)


def test_a_checkpoint_saved_with_only_its_best_copy_resumes_with_it():
    """A stopped run's checkpoint from before ensembles holds "best" and no "kept"; one
    of format 1 (tsgan 0.1) may hold several "kept", the best first."""
    model = Shifted()
    sel = CheckpointSelector(model, Windows.from_array(np.full((50, 6, 2), 0.25, np.float32)), every=1, phase="p")
    sel.load_state_dict({"scores": [{"step": 3, "disc": 0.1}], "best": {"disc": 0.1, "step": 3, "state": {"shift": torch.tensor(0.4)}}})
    assert sel.restore()["best_step"] == 3 and model.shift.item() == pytest.approx(0.4)
    (kept,) = sel.state_dict()["kept"]  # saved again in the one format
    assert (kept["disc"], kept["step"], kept["state"]["shift"].item()) == (0.1, 3, pytest.approx(0.4))
    several = [{"disc": d, "step": k, "state": {"shift": torch.tensor(v)}} for d, k, v in ((0.05, 4, 0.2), (0.1, 2, 0.1))]
    sel.load_state_dict({"scores": [], "kept": several})
    assert sel.restore()["best_step"] == 4 and model.shift.item() == pytest.approx(0.2)


def test_selector_that_never_ran_keeps_the_last_weights():
    model = Shifted()
    model.shift.data.fill_(0.2)
    sel = CheckpointSelector(model, Windows.from_array(np.zeros((10, 6, 2), np.float32)), every=5, phase="joint")
    record = sel.restore()
    assert "no checkpoint was checked" in record["note"] and model.shift.item() == pytest.approx(0.2)


def test_a_phase_shorter_than_select_every_is_not_checked_at_its_end():
    """A final check needs an earlier one to compare with: a short phase keeps its last weights unscored."""
    model = Shifted()
    sel = CheckpointSelector(model, Windows.from_array(np.zeros((10, 6, 2), np.float32)), every=5, phase="p")
    assert sel.after_step(None, "p", 4, last=True) is None and sel.scores == []


@pytest.fixture
def quick_checks(monkeypatch):
    """Checks whose classifier trains 300 iterations (what these tests pin does not
    depend on how well it separates)."""
    from tsgan.training import selection

    monkeypatch.setattr(selection, "CHECK_ITERATIONS", 300)


def test_fit_with_selection_trains_the_same_run_and_records_its_checks(quick_checks):
    kw = dict(model="rcgan", recipe="paper", seq_len=8, steps=30, holdout=0, seed=3, hidden_g=8, hidden_d=8)
    data = np.sin(np.linspace(0, 40, 600))[:, None] * np.ones((1, 2)) + np.linspace(0, 1, 2)
    import pandas as pd

    frame = pd.DataFrame(data, columns=["a", "b"])
    plain = tsgan.Synthesizer(**kw).fit(frame)
    chosen = tsgan.Synthesizer(select_every=10, **kw).fit(frame)
    # the checks draw their own noise: training's losses are identical step by step
    pd.testing.assert_frame_equal(plain.history_.drop(columns="seconds"), chosen.history_.drop(columns=["seconds", "select/disc"]))
    sel = chosen.train_info_["selection"]
    assert [s["step"] for s in sel["scores"]] == [10, 20, 30] and sel["phase"] == "adversarial"
    logged = chosen.history_.dropna(subset=["select/disc"])  # the history has each check's score at its step
    assert logged["step"].tolist() == [10, 20, 30]
    assert np.allclose(logged["select/disc"], [s["disc"] for s in sel["scores"]], atol=5e-5)
    assert loss_figure(chosen.history_) is not None  # the report's loss figure draws the checks too
    assert sel["best_disc"] == min(s["disc"] for s in sel["scores"])
    if sel["best_step"] == 30:  # the last checkpoint won: the final weights are kept
        assert all(torch.equal(a, b) for a, b in zip(plain.module_.state_dict().values(), chosen.module_.state_dict().values()))


def test_selection_bad_settings(csv_path):
    with pytest.raises(TsganError, match="parameter 'select_every' must be at least 0"):
        tsgan.Synthesizer(model="rcgan", select_every=-1, seq_len=5, steps=1).fit(csv_path)
    with pytest.raises(TsganError, match="drop select_every"):
        tsgan.Synthesizer(model="rcgan", select_every=10, dp_noise=1.0, seq_len=5, steps=1).fit(csv_path)
    with pytest.raises(TsganError, match="select_every scores windows"):
        tsgan.Synthesizer(model="dcgan", select_every=10, steps=1).fit("digits")


def test_cli_select_every(tmp_path, monkeypatch, capsys, csv_path, quick_checks):
    run = tmp_path / "run"
    code, out, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "6", "--param", "select_every=3", "--out", run, "-q"], monkeypatch, capsys)
    assert code == 0, err
    assert "kept the checkpoint at step" in out and "2 checkpoints scored" in out.replace("\n", " ")
    assert tsgan.load(run).train_info_["selection"]["every"] == 3
    code, out, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "6", "--param", "select_every=-3", "--out", tmp_path / "r2", "-q"],
                             monkeypatch, capsys)
    assert code == 2 and "parameter 'select_every' must be at least 0" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r2").exists()
