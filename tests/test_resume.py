"""Stopping and resuming: a run stopped early and resumed equals the run that never stopped."""

import signal

import numpy as np
import pandas as pd
import pytest
import torch

import tsgan
import tsgan.training.callbacks
import tsgan.training.loop
from conftest import CheckpointAt, run_cli
from tsgan.data import Windows, sines, sines_array
from tsgan.models import models_of_kind
from tsgan.training import Interrupt, LRDecay, Phase, Update, train
from tsgan.training.callbacks import decay_factor


@pytest.fixture(scope="module")
def small_frame() -> pd.DataFrame:
    return sines(n=40, seq_len=12, dim=2, seed=0)


@pytest.fixture
def stop_at(monkeypatch):
    """``stop_at(k)``: the loop stops as if Ctrl-C came during its k-th update (k-th batch drawn)."""

    def arm(k):
        """Only the next training run stops; its batches are counted from 1."""
        state = {"drawn": 0, "event": None, "armed": True}

        def on_start(self, run):  # no signal handler: the test sets the event itself
            state["event"], state["drawn"] = self.event, 0

        real_batch = tsgan.training.loop.Batch

        def counting(*args, **kwargs):
            state["drawn"] += 1
            if state["armed"] and state["drawn"] == k:
                state["event"].set()
                state["armed"] = False
            return real_batch(*args, **kwargs)

        monkeypatch.setattr(tsgan.training.callbacks.Interrupt, "on_start", on_start)
        monkeypatch.setattr(tsgan.training.loop, "Batch", counting)

    yield arm
    monkeypatch.undo()


class Noisy(torch.nn.Module):
    """Adam, noise from the loop's generator, dropout from the global one, two phases."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(3, 1)

    def loss(self, b):
        z = torch.randn(b.x.shape[0], 3, generator=b.rng)
        h = torch.nn.functional.dropout(b.x[:, 0, :] + z, 0.3)
        return (self.lin(h) - 1).pow(2).mean()

    def optimizers(self):
        return {"a": torch.optim.Adam(self.parameters(), lr=0.01)}

    def schedule(self):
        return [Phase("one", [Update("u", "a", self.loss)]), Phase("two", [Update("v", "a", self.loss, repeat=2)])]


def test_the_loop_resumes_exactly_where_it_stopped(stop_at):
    x = Windows.from_array(np.random.default_rng(0).random((30, 2, 3)).astype(np.float32))
    kw = dict(steps=20, batch_size=4, progress=False, device="cpu", seed=3)
    whole_model = Noisy()
    whole = train(whole_model, x, **kw)
    stop_at(15)  # the 15th batch: phase two's 3rd step (10 steps of one batch, then two per step)
    cut = train(Noisy(), x, **kw, callbacks=[Interrupt()])
    assert cut.stopped == "interrupted" and cut.steps == 13 and cut.phases == {"one": 10, "two": 3}
    resumed_model = Noisy()
    torch.nn.init.zeros_(resumed_model.lin.weight)  # the state's weights replace whatever the model has
    rest = train(resumed_model, x, **kw, resume=cut.state, callbacks=[Interrupt()])
    assert rest.stopped == "steps" and rest.steps == 20 and rest.phases == {"one": 10, "two": 10}
    for a, b in zip(resumed_model.parameters(), whole_model.parameters()):
        assert torch.equal(a, b)
    joined = pd.concat([cut.history, rest.history], ignore_index=True)
    pd.testing.assert_frame_equal(joined.drop(columns="seconds"), whole.history.drop(columns="seconds"))
    assert joined["seconds"].is_monotonic_increasing  # the clock goes on


class Recording(Noisy):
    """Noisy, remembering the learning rate each update ran at."""

    def optimizers(self):
        self.opt, self.seen = torch.optim.Adam(self.parameters(), lr=0.01), []
        return {"a": self.opt}

    def loss(self, b):
        self.seen.append(self.opt.param_groups[0]["lr"])
        return super().loss(b)


def test_lr_decay_falls_linearly_over_the_last_phase_and_resumes():
    assert [decay_factor(d, 10, 0.4) for d in (0, 5, 6, 7, 9)] == [1.0, 1.0, 1.0, 0.75, 0.25]
    assert decay_factor(0, 3, 0.1) == 1.0  # a window under one step never exceeds 1
    x = Windows.from_array(np.random.default_rng(0).random((30, 2, 3)).astype(np.float32))
    kw = dict(steps=20, batch_size=4, progress=False, device="cpu", seed=3, callbacks=[LRDecay(0.4)])
    m = Recording()
    train(m, x, **kw)
    # phase one (10 steps) at the full rate; phase two's last 4 steps at 4/4 .. 1/4, two updates a step
    assert m.seen == pytest.approx([0.01] * 10 + [0.01] * 12 + [0.01 * f for f in (1, 1, .75, .75, .5, .5, .25, .25)])
    assert m.opt.param_groups[0]["initial_lr"] == 0.01
    with pytest.raises(tsgan.TsganError, match="between 0 and 1"):
        LRDecay(0)


def test_a_finished_run_has_no_state_to_resume():
    x = Windows.from_array(np.zeros((10, 2, 3), dtype=np.float32))
    assert train(Noisy(), x, steps=3, batch_size=2, progress=False, device="cpu").state is None


@pytest.mark.parametrize("name", models_of_kind("sequence"))
def test_a_saved_stopped_run_resumes_to_the_uninterrupted_run(name, small_frame, tmp_path, stop_at):
    def fit():
        syn = tsgan.Synthesizer(model=name, seq_len=12, steps=12, batch_size=8, ema=0.9, lr_decay=0.5)
        return syn.fit(small_frame, id_column="sequence_id", time_column="step")

    whole = fit()
    stop_at(7)
    cut = fit()
    assert cut.train_info_["stopped"] == "interrupted" and cut.train_info_["steps"] < 12
    cut.save(tmp_path / "run")
    assert (tmp_path / "run" / "resume.pt").exists()
    torch.load(tmp_path / "run" / "resume.pt", weights_only=True)  # tensors and plain data only
    again = tsgan.load(tmp_path / "run").resume(small_frame)
    assert again.train_info_["steps"] == 12 and again.train_info_["stopped"] == "steps"
    np.testing.assert_array_equal(again.sample_array(6, seed=1), whole.sample_array(6, seed=1))
    pd.testing.assert_frame_equal(again.history_.drop(columns="seconds"), whole.history_.drop(columns="seconds"))
    again.save(tmp_path / "run", force=True)
    assert not (tmp_path / "run" / "resume.pt").exists()  # finished: nothing left to resume
    with pytest.raises(tsgan.TsganError, match="finished its 12 steps: nothing to resume"):
        tsgan.load(tmp_path / "run").resume(small_frame)


def test_checkpoint_selection_resumes_without_the_check_made_at_the_stop(monkeypatch, stop_at):
    import tsgan.training.selection

    quick = tsgan.training.selection.CheckpointSelector.__init__

    def fewer(self, *args, **kwargs):  # a short classifier: the selection's logic, not its accuracy, is tested
        quick(self, *args, **{**kwargs, "iterations": 10, "n": 40})

    monkeypatch.setattr(tsgan.training.selection.CheckpointSelector, "__init__", fewer)
    data = sines_array(n=60, seq_len=12, dim=2)

    def fit():
        return tsgan.Synthesizer(model="rcgan", seq_len=12, steps=20, batch_size=8, select_every=5).fit(data)

    whole = fit()
    stop_at(7 * 6)  # RCGAN draws 6 batches a step (5 for D, 1 for G): stop in step 7, between checks
    cut = fit()
    assert cut.train_info_["steps"] == 7 and [r["step"] for r in cut.train_info_["selection"]["scores"]] == [5, 7]
    again = cut.resume()
    assert again.train_info_["selection"] == whole.train_info_["selection"]  # checks at 5, 10, 15, 20 only
    np.testing.assert_array_equal(again.sample_array(4, seed=0), whole.sample_array(4, seed=0))


def test_resume_refuses_other_data_and_runs_without_their_data(small_frame, tmp_path, stop_at):
    stop_at(3)
    syn = tsgan.Synthesizer(model="rcgan", seq_len=12, steps=10, batch_size=8).fit(small_frame, id_column="sequence_id", time_column="step")
    syn.save(tmp_path / "run")
    loaded = tsgan.load(tmp_path / "run")
    with pytest.raises(tsgan.TsganError, match="fitted on a DataFrame or an array: pass its data"):
        loaded.resume()
    with pytest.raises(tsgan.TsganError, match="the data differs from the run's .*: pass the training data"):
        loaded.resume(small_frame.iloc[: 12 * 30])


def test_cli_resume(tmp_path, monkeypatch, capsys, stop_at):
    data = tmp_path / "d.npy"
    np.save(data, sines_array(n=40, seq_len=12, dim=2))
    stop_at(20)
    code, out, err = run_cli(["fit", "--model", "rcgan", data, "--seq-len", "12", "--steps", "10", "--out", tmp_path / "run", "-q"], monkeypatch, capsys)
    assert code == 130, err  # stopped by Ctrl-C: saved, but a `&&` chain stops
    assert "(stopped by Ctrl-C)" in out and f"`tsgan resume {tmp_path / 'run'}` trains the remaining 6 steps" in out  # batch 20 is in step 4 (6 batches a step)
    code, out, err = run_cli(["resume", tmp_path / "run", "-q"], monkeypatch, capsys)
    assert code == 0, err
    assert "for 10 steps" in out and "stopped" not in out
    whole = tsgan.Synthesizer(model="rcgan", seq_len=12, steps=10).fit(data)
    np.testing.assert_array_equal(tsgan.load(tmp_path / "run").sample_array(3, seed=2), whole.sample_array(3, seed=2))
    code, out, err = run_cli(["resume", tmp_path / "run"], monkeypatch, capsys)
    assert code == 2 and "nothing to resume" in err and "Traceback" not in err + out
    code, out, err = run_cli(["fit", "--model", "rcgan", data, "--seq-len", "12", "--steps", "10", "--out", tmp_path / "ck", "-q", "--checkpoint-minutes", "1e-9"], monkeypatch, capsys)
    assert code == 0, err
    np.testing.assert_array_equal(tsgan.load(tmp_path / "ck").sample_array(3, seed=2), whole.sample_array(3, seed=2))
    assert not (tmp_path / "ck" / "resume.pt").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_stopped_dp_run_cannot_be_resumed(small_frame, tmp_path, stop_at):
    stop_at(2)
    syn = tsgan.Synthesizer(model="rcgan", seq_len=12, steps=10, batch_size=8, dp_noise=1.0).fit(small_frame, id_column="sequence_id", time_column="step")
    assert syn.train_info_["stopped"] == "interrupted" and syn.train_info_["dp"]["epsilon"] > 0
    syn.save(tmp_path / "run")
    assert not (tmp_path / "run" / "resume.pt").exists()
    with pytest.raises(tsgan.TsganError, match="a DP-SGD run cannot be resumed"):
        tsgan.load(tmp_path / "run").resume(small_frame)


def test_checkpoints_during_training_resume_to_the_uninterrupted_run(small_frame, tmp_path, monkeypatch):
    """A run killed after a checkpoint resumes from it: here every step is a checkpoint,
    and the one after step 4 (of 12) stands in for the last before a crash."""
    at_4 = CheckpointAt(monkeypatch, 4)
    kw = dict(model="timegan", seq_len=12, steps=12, batch_size=8, ema=0.9)
    whole = tsgan.Synthesizer(**kw).fit(small_frame, id_column="sequence_id", time_column="step", checkpoint_dir=tmp_path / "run", checkpoint_minutes=1e-9)
    finished = tsgan.load(tmp_path / "run")  # the directory ends with the finished run
    assert finished.train_info_["stopped"] == "steps" and not (tmp_path / "run" / "resume.pt").exists()
    # a seed repeats a run only on the same torch build and thread count: both are recorded
    assert finished.train_info_["torch"] == torch.__version__ and finished.train_info_["threads"] >= 1 and finished.train_info_["threads_why"]
    np.testing.assert_array_equal(finished.sample_array(6, seed=1), whole.sample_array(6, seed=1))
    run = tsgan.load(at_4.crash(tmp_path / "crashed"))
    assert run.train_info_["stopped"] == "checkpoint" and run.train_info_["steps"] == 4
    # the threads the training used (fewer than the process has when the machine is busy: tsgan.torch_utils)
    assert (run.train_info_["torch"], run.train_info_["threads"]) == (torch.__version__, whole.train_info_["threads"])
    assert len(run.sample_array(3, seed=0)) == 3  # a checkpoint samples (from the weights as trained then)
    again = run.resume(small_frame)
    np.testing.assert_array_equal(again.sample_array(6, seed=1), whole.sample_array(6, seed=1))
    pd.testing.assert_frame_equal(again.history_.drop(columns="seconds"), whole.history_.drop(columns="seconds"))


def test_checkpoint_dir_is_not_overwritten_without_force(small_frame, tmp_path):
    (tmp_path / "mine").mkdir()
    with pytest.raises(tsgan.TsganError, match="already exists: pass --force"):
        tsgan.Synthesizer(model="rcgan", seq_len=12, steps=2).fit(small_frame, checkpoint_dir=tmp_path / "mine")
    with pytest.raises(tsgan.TsganError, match="DP-SGD run cannot be checkpointed"):
        tsgan.Synthesizer(model="rcgan", seq_len=12, steps=2, dp_noise=1.0).fit(small_frame, checkpoint_dir=tmp_path / "new")
