"""The shared contract every registered model honours (new models are picked up here)."""

import numpy as np
import pandas as pd
import pytest
import torch

import tsgan
from tsgan.models import models_of_kind
from tsgan.data import sines

from conftest import needs_bf16


@pytest.fixture(scope="module")
def small_frame() -> pd.DataFrame:
    df = sines(n=40, seq_len=12, dim=3, seed=0)
    df["s2"] = df["s2"] * 1000 + 5  # a column far from [0, 1]
    return df


def fit_tiny(name, frame, seed=0, **kw):
    kw = {"steps": 6, "batch_size": 16, **kw}
    syn = tsgan.Synthesizer(model=name, seq_len=12, seed=seed, **kw)
    return syn.fit(frame, id_column="sequence_id", time_column="step")


@pytest.mark.parametrize("name", models_of_kind("sequence"))
def test_contract(name, small_frame, tmp_path):
    syn = fit_tiny(name, small_frame)
    assert syn.fit(small_frame, id_column="sequence_id", time_column="step") is syn  # fit returns self, refits

    x = syn.sample_array(9, seed=3)
    assert x.shape == (9, 12, 3) and np.isfinite(x).all()
    lo, hi = small_frame[["s0", "s1", "s2"]].min().to_numpy(), small_frame[["s0", "s1", "s2"]].max().to_numpy()
    span = hi - lo
    assert (x >= lo - 0.1 * span).all() and (x <= hi + 0.1 * span).all()  # original units

    frame = syn.sample(4, seed=3)  # a DataFrame for every kind of model
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["sequence_id", "step", "s0", "s1", "s2"] and len(frame) == 4 * 12
    np.testing.assert_allclose(frame[["s0", "s1", "s2"]].to_numpy().reshape(4, 12, 3), syn.sample_array(4, seed=3))
    pd.testing.assert_frame_equal(syn.sample_frame(4, seed=3), frame)  # sample()'s older name

    # same seed -> same samples; different seed -> different samples
    np.testing.assert_array_equal(syn.sample_array(9, seed=3), x)
    assert not np.array_equal(syn.sample_array(9, seed=4), x)

    # history: one row per step, with losses
    h = syn.history_
    assert len(h) == syn.train_info_["steps"] and any(c.endswith("/loss") for c in h.columns)

    # save / load gives identical samples for the same seed
    syn.save(tmp_path / "run")
    loaded = tsgan.load(tmp_path / "run", device="auto")  # the fit's device: bitwise on CPU and on GPU
    np.testing.assert_allclose(loaded.sample_array(9, seed=3), x, rtol=0, atol=1e-9)
    assert loaded.config_ == syn.config_ and loaded.spec_ == syn.spec_

    # same training seed -> same model
    again = fit_tiny(name, small_frame)
    np.testing.assert_allclose(again.sample_array(9, seed=3), x, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", models_of_kind("sequence"))
def test_state_dict_loads_with_weights_only(name, small_frame, tmp_path):
    fit_tiny(name, small_frame).save(tmp_path / "r")
    state = torch.load(tmp_path / "r" / "model.pt", weights_only=True)
    assert all(t.device.type == "cpu" for t in state.values())


def test_unknown_model_and_params(small_frame):
    with pytest.raises(tsgan.TsganError, match="unknown model 'nope'"):
        tsgan.Synthesizer(model="nope").fit(small_frame)
    with pytest.raises(tsgan.TsganError, match="unknown parameter 'hiden'"):
        tsgan.Synthesizer(model="rcgan", hiden=3).fit(small_frame)
    with pytest.raises(tsgan.TsganError, match="expects int"):
        tsgan.Synthesizer(model="rcgan", hidden_g="many").fit(small_frame)
    with pytest.raises(tsgan.TsganError, match="must be one of"):
        tsgan.Synthesizer(model="rcgan", cell="rnn").fit(small_frame)
    with pytest.raises(tsgan.TsganError, match=r"'batch_size' must be at least 1 \(got 0\): e.g. its default, --param batch_size=128"):
        tsgan.Synthesizer(model="timegan", batch_size=0).fit(small_frame)
    with pytest.raises(tsgan.TsganError, match="'lr' is NaN"):
        tsgan.Synthesizer(model="timegan", lr="nan").fit(small_frame)


@pytest.mark.parametrize("name", list(tsgan.MODELS))
def test_every_numeric_parameter_has_a_range_its_default_meets(name):
    """A numeric parameter without a range lets hidden=0 or lr=-1 reach torch as a traceback."""
    from tsgan.config import _check_within, describe

    for row in describe(tsgan.MODELS[name].config_cls):
        if row["type"] in ("int", "float"):
            assert row["within"] is not None, f"{name}.{row['name']} has no range"
            _check_within(row["name"], row["default"], row["within"], row["default"])


@pytest.mark.parametrize(
    "within, inside, outside, need",
    [
        ("[1, inf)", [1, 7], [0, -3], "at least 1"),
        ("(0, inf)", [1e-9, 5.0], [0.0, -1.0], "greater than 0"),
        ("[0, 1)", [0.0, 0.999], [1.0, -0.1], r"in \[0, 1\)"),
        ("(-inf, 2]", [-5.0, 2.0], [2.5], "at most 2"),
    ],
)
def test_ranges_accept_their_interval_and_name_it_when_refusing(within, inside, outside, need):
    from tsgan.config import _check_within

    for v in inside:
        _check_within("p", v, within, 0)
    for v in outside:
        with pytest.raises(tsgan.TsganError, match=rf"parameter 'p' must be {need} \(got {v:g}\)"):
            _check_within("p", v, within, 0)


def test_init_only_stores_and_fit_validates(small_frame):
    assert tsgan.Synthesizer().model == "timegan" and tsgan.Synthesizer().recipe == "tuned"  # the measured-best defaults
    syn = tsgan.Synthesizer(model="nope", seq_len=-1, hidden_g="x")  # nothing checked yet, as in scikit-learn
    assert syn.get_params()["seq_len"] == -1 and syn.get_params()["hidden_g"] == "x"
    with pytest.raises(tsgan.TsganError, match="unknown model 'nope'"):
        syn.fit(small_frame)
    with pytest.raises(tsgan.TsganError, match="seq_len must be a positive integer .*--seq-len"):
        tsgan.Synthesizer(model="rcgan", seq_len=0).fit(small_frame)
    assert syn.set_params(model="rcgan", seq_len=12).get_params()["model"] == "rcgan"


def _fit_any(name, tmp_path):
    """A few steps of any registered model on data of its kind."""
    kind = tsgan.MODELS[name].kind
    if kind == "image":
        return tsgan.Synthesizer(model=name, steps=2, batch_size=16, image_size=8).fit("digits")
    if kind == "table":
        frame = pd.DataFrame({"x": np.arange(60.0) % 7, "c": ["a", "b", "c"] * 20})
        return tsgan.Synthesizer(model=name, steps=2, batch_size=20, pac=1).fit(frame)
    return tsgan.Synthesizer(model=name, seq_len=12, steps=2, batch_size=8).fit(sines(n=20, seq_len=12, dim=2), id_column="sequence_id", time_column="step")


@pytest.mark.parametrize("name", list(tsgan.MODELS))
def test_load_of_save_gives_back_the_parameters_and_a_dataframe(name, tmp_path):
    syn = _fit_any(name, tmp_path)
    syn.save(tmp_path / "run")
    back = tsgan.load(tmp_path / "run")
    assert back.get_params() == syn.get_params()
    first, again = syn.sample(4, seed=1), back.sample(4, seed=1)
    assert isinstance(first, pd.DataFrame) and len(first) >= 4  # sample() is a DataFrame for every kind
    pd.testing.assert_frame_equal(first, again, atol=1e-6)


def test_sample_before_fit():
    with pytest.raises(tsgan.TsganError, match="not fitted"):
        tsgan.Synthesizer(model="rcgan").sample(3)


def test_existing_run_dir_needs_force(small_frame, tmp_path):
    syn = fit_tiny("rcgan", small_frame)
    target = tmp_path / "run"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    with pytest.raises(tsgan.TsganError, match="--force"):
        syn.save(target)
    assert not (target / "tsgan.json").exists()
    syn.save(target, force=True)
    assert (target / "mine.txt").read_text() == "keep me" and (target / "tsgan.json").exists()


def test_constant_column_is_modelled_as_constant(small_frame):
    df = small_frame.assign(flat=3.25)
    syn = tsgan.Synthesizer(model="rcgan", seq_len=12, steps=3, batch_size=8).fit(df, id_column="sequence_id", time_column="step")
    assert np.all(syn.sample_array(5, seed=0)[..., -1] == 3.25)


def test_max_minutes_stops_training(small_frame):
    syn = tsgan.Synthesizer(model="rcgan", seq_len=12, steps=10_000_000, max_minutes=0.02, batch_size=8)
    syn.fit(small_frame, id_column="sequence_id", time_column="step")
    assert syn.train_info_["stopped"] == "time" and 0 < syn.train_info_["steps"] < 10_000_000


@pytest.mark.parametrize("name", ["rcgan", "timegan"])
def test_max_minutes_alone_fits_the_steps_to_the_clock(name, small_frame):
    """No --steps: a probe times each phase and the run plans as many steps as the clock holds."""
    syn = tsgan.Synthesizer(model=name, seq_len=12, max_minutes=0.1, batch_size=8, recipe="paper")
    syn.fit(small_frame, id_column="sequence_id", time_column="step")
    info = syn.train_info_
    probe = info["clock_fit"]
    assert probe["steps"] == syn.steps_ == info["planned_steps"] and len(probe["seconds_per_step"]) == len(syn.module_.schedule())
    assert info["steps"] >= 0.5 * probe["steps"]  # the plan roughly fills the clock (the clock stays the limit)
    assert info["seconds"] + probe["probe_seconds"] < 0.1 * 60 + 3
    assert syn.get_params()["steps"] is None  # the user's setting stays; the plan is fitted state


def test_recipes_set_defaults_that_given_values_override(small_frame):
    tuned = fit_tiny("rcgan", small_frame)
    assert tuned.recipe_["name"] == "tuned" and tuned.recipe_["set"]["corr_weight"] == 10.0 and tuned.config_.corr_weight == 10.0
    assert tuned.train_info_["ema"]["decay"] == 0.999 and "steps" not in tuned.recipe_["set"]  # --steps given: not the recipe's
    paper = fit_tiny("rcgan", small_frame, recipe="paper", corr_weight=2.0)
    assert paper.config_.corr_weight == 2.0 and "ema" not in paper.train_info_ and paper.recipe_ == {"name": "paper", "set": {}}
    with pytest.raises(tsgan.TsganError, match="unknown recipe 'best'"):
        fit_tiny("rcgan", small_frame, recipe="best")
    # under DP the recipe leaves out what reads real data outside the accounting
    private = fit_tiny("rcgan", small_frame, dp_noise=1.0, steps=2)
    assert private.config_.corr_weight == 0.0 and "selection" not in private.train_info_


def test_without_steps_or_clock_the_recipe_budget_applies():
    from tsgan.fitting import make_plan

    assert make_plan(tsgan.Synthesizer(model="timegan")).steps == 150_000
    assert make_plan(tsgan.Synthesizer(model="rcgan", recipe="paper")).steps == 50_000
    assert make_plan(tsgan.Synthesizer(model="rcgan", max_minutes=5)).steps is None  # fitted to the clock at fit
    assert make_plan(tsgan.Synthesizer(model="rcgan", max_minutes=5, steps=300)).steps == 300


class _Interrupted(torch.nn.Module):
    """One parameter, one update per step; its loss sends Ctrl-C ``times`` times at step ``at``."""

    def __init__(self, at, times=1):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))
        self.at, self.times, self.calls = at, times, 0

    def loss(self, batch):
        import os
        import signal

        self.calls += 1
        if self.calls == self.at:
            for _ in range(self.times):
                os.kill(os.getpid(), signal.SIGINT)
        return (self.w - batch.x.mean()) ** 2

    def optimizers(self):
        return {"o": torch.optim.SGD(self.parameters(), lr=0.1)}

    def schedule(self):
        from tsgan.training import Phase, Update

        return [Phase("p", [Update("a", "o", self.loss)])]


def test_ctrl_c_ends_training_after_the_step_and_keeps_what_was_trained():
    import signal

    from tsgan.data import Windows
    from tsgan.training import Callback, Interrupt, train

    x = Windows.from_array(np.ones((20, 3, 1), dtype=np.float32))
    before = signal.getsignal(signal.SIGINT)
    model = _Interrupted(at=7)
    class Last(Callback):
        def after_step(self, run, phase, done, last):
            return {"last": float(last)}

    result = train(model, x, steps=1000, batch_size=4, progress=False, device="cpu", callbacks=[Interrupt(), Last()])
    assert result.stopped == "interrupted" and result.steps == 7 and model.calls == 7
    assert result.history["last"].tolist() == [0.0] * 6 + [1.0]  # callbacks (selection) see the stop as the last step
    torch.testing.assert_close(model.w.detach(), torch.tensor(1 - 0.8**7))  # seven SGD steps towards 1 were kept
    assert signal.getsignal(signal.SIGINT) is before  # the caller's handler is back
    with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C aborts
        train(_Interrupted(at=3, times=2), x, steps=1000, batch_size=4, progress=False, device="cpu", callbacks=[Interrupt()])
    assert signal.getsignal(signal.SIGINT) is before


def test_same_batch_updates_see_the_batch_before_them():
    # TimeGAN's code trains g and then e on one X_mb; the loop's same_batch does that
    from torch import nn

    from tsgan.data import Windows
    from tsgan.training import Phase, Update, train

    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(()))

        def loss(self, batch):
            seen.append(batch.x.clone())
            return self.w * batch.x.mean()

        def optimizers(self):
            return {"o": torch.optim.SGD(self.parameters(), lr=0.0)}

        def schedule(self):
            return [Phase("p", [Update("a", "o", self.loss), Update("b", "o", self.loss, same_batch=True), Update("c", "o", self.loss)])]

    x = np.random.default_rng(0).random((50, 4, 2)).astype(np.float32)
    train(Spy(), Windows.from_array(x), steps=2, batch_size=8, progress=False, device="cpu")
    assert len(seen) == 6
    for a, b, c in (seen[:3], seen[3:]):
        assert torch.equal(a, b) and not torch.equal(b, c)


def test_an_update_differentiates_only_its_own_optimizers_parameters():
    # a generator update's loss runs through the critic; the critic's gradients would
    # be cleared before its own update, so the loop does not compute them at all
    from torch import nn

    from tsgan.data import Windows
    from tsgan.training import Phase, Update, train

    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.g, self.d = nn.Parameter(torch.ones(())), nn.Parameter(torch.full((), 3.0))
            self.frozen = nn.Parameter(torch.ones(()), requires_grad=False)  # a user froze it; its optimizer still holds it

        def loss(self, batch):
            return self.g * self.d * self.frozen * batch.x.mean()

        def optimizers(self):
            return {"g": torch.optim.SGD([self.g, self.frozen], lr=0.0), "d": torch.optim.SGD([self.d], lr=0.0)}

        def schedule(self):
            return [Phase("p", [Update("g", "g", self.loss)])]

    x = np.ones((20, 4, 2), dtype=np.float32)
    m = Pair()
    train(m, Windows.from_array(x), steps=1, batch_size=8, progress=False, device="cpu")
    assert m.d.grad is None and float(m.g.grad) == pytest.approx(3.0)


@needs_bf16
def test_bf16_precision_runs_matrix_products_in_bfloat16_and_keeps_float32_weights():
    from torch import nn

    from tsgan.data import Windows
    from tsgan.training import Phase, Update, train

    seen = []

    class Lin(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def loss(self, batch):
            y = self.fc(batch.x)
            seen.append(y.dtype)
            return (y.float() ** 2).mean()

        def optimizers(self):
            return {"o": torch.optim.SGD(self.parameters(), lr=0.1)}

        def schedule(self):
            return [Phase("p", [Update("a", "o", self.loss)])]

    x = np.random.default_rng(0).random((50, 4, 2)).astype(np.float32)
    for precision, dtype in (("32", torch.float32), ("bf16", torch.bfloat16)):
        seen.clear()
        m = Lin()
        train(m, Windows.from_array(x), steps=3, batch_size=8, progress=False, device="cpu", precision=precision)
        assert seen == [dtype] * 3
        assert m.fc.weight.dtype == torch.float32 and m.fc.weight.grad.dtype == torch.float32


@needs_bf16
@pytest.mark.parametrize("name", ["rcgan", "timegan", "crnngan"])
def test_bf16_training_matches_float32_closely(name, small_frame):
    # mixed precision changes rounding, not the model: first losses agree to bfloat16's precision
    a = fit_tiny(name, small_frame, steps=2)
    b = fit_tiny(name, small_frame, steps=2, precision="bf16")
    assert b.train_info_["precision"] == "bf16"
    la, lb = a.history_.filter(like="/loss").iloc[0].dropna(), b.history_.filter(like="/loss").iloc[0].dropna()
    np.testing.assert_allclose(lb.to_numpy(), la.to_numpy(), rtol=0.05, atol=0.02)
    assert np.isfinite(b.sample_array(4, seed=0)).all()


def test_bf16_is_refused_clearly_where_the_cpu_lacks_it(small_frame, monkeypatch):
    import tsgan.torch_utils

    monkeypatch.setattr(tsgan.torch_utils, "bf16_supported", lambda device: False)
    with pytest.raises(tsgan.TsganError, match="no bfloat16 arithmetic .*drop --precision bf16"):
        fit_tiny("rcgan", small_frame, precision="bf16")


def test_precision_errors(small_frame):
    with pytest.raises(tsgan.TsganError, match="--precision must be one of 32, bf16"):
        fit_tiny("rcgan", small_frame, precision="16")
    with pytest.raises(tsgan.TsganError, match="DP training runs in float32"):
        fit_tiny("rcgan", small_frame, precision="bf16", dp_noise=1.0)


def test_weights_of_another_shape_are_refused_clearly(small_frame, tmp_path):
    fit_tiny("rcgan", small_frame).save(tmp_path / "r")
    state = torch.load(tmp_path / "r" / "model.pt", weights_only=True)
    key = next(iter(state))
    state[key] = torch.zeros(3, 3, 3)
    torch.save(state, tmp_path / "r" / "model.pt")
    with pytest.raises(tsgan.TsganError, match="refit the run with this version"):
        tsgan.load(tmp_path / "r")


def test_training_keeps_freed_memory_on_glibc(monkeypatch):
    import sys

    from tsgan.torch_utils import keep_freed_memory

    keep_freed_memory.cache_clear()
    monkeypatch.setenv("TSGAN_KEEP_FREED", "0")
    assert keep_freed_memory() is False
    keep_freed_memory.cache_clear()
    monkeypatch.delenv("TSGAN_KEEP_FREED")
    if sys.platform.startswith("linux") and "glibc" in " ".join(__import__("platform").libc_ver()):
        assert keep_freed_memory() is True


def test_fit_on_a_3d_array_samples_its_shape_and_checks_privacy_after_loading(tmp_path):
    """TimeGAN's ori_data layout (sequences, time, features) goes straight into fit."""
    data = tsgan.data.sines_array(n=60, seq_len=12, dim=2)
    syn = tsgan.Synthesizer(model="rcgan", seq_len=12, steps=3, batch_size=8).fit(data)
    assert syn.spec_.columns == ["f0", "f1"] and syn.spec_.n_entities == 60
    assert syn.spec_.n_windows == 48  # one window per sequence, 20 % held out
    assert syn.sample_array(5, seed=0).shape == (5, 12, 2)
    fresh = syn.privacy(n=20)
    syn.save(tmp_path / "run")
    again = tsgan.load(tmp_path / "run")
    with pytest.raises(tsgan.TsganError, match="fitted on a DataFrame or an array: pass its data"):
        again.privacy()
    reread = again.privacy(data=data, n=20)  # the array again gives the same split and scores
    assert reread["split"]["train_windows"] == 48 and reread["records"] == 12
    assert reread["mia_auc"] == fresh["mia_auc"] and reread["dcr_share_closer_to_train"] == fresh["dcr_share_closer_to_train"]
