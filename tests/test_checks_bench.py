"""bench/checks.py: every check's weights saved during a fit, and the run folders built
from them that the README's RCGAN Sines experiments score."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import tsgan
import tsgan.selection
from tsgan.errors import TsganError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import checks  # noqa: E402

ARGS = ["--seq-len", "6", "--steps", "8", "--select-every", "2", "--holdout", "0", "--ema", "0.9", "-q",
        "--id-column", "sequence_id", "--time-column", "step"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A run fitted through checks.py fit, its saved checks, and the same run fitted by
    `tsgan fit --select-ensemble 2`; short checks (the saving, not the classifier, is tested)."""
    tmp = tmp_path_factory.mktemp("checks")
    data = tmp / "data.csv"
    tsgan.data.sines(n=20, seq_len=6, dim=2, seed=0).to_csv(data, index=False)
    init = tsgan.selection.CheckpointSelector.__init__
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tsgan.selection.CheckpointSelector, "__init__", lambda self, *a, **k: init(self, *a, **{**k, "iterations": 50}))
        mp.setattr(sys, "argv", list(sys.argv))  # fit sets sys.argv for the CLI
        try:
            checks.fit(tmp / "checks", [str(data), *ARGS, "--out", str(tmp / "run")])
        except SystemExit as e:
            assert e.code in (0, None)
        from tsgan_cli.main import main

        mp.setattr(sys, "argv", ["tsgan", "fit", str(data), *ARGS, "--select-ensemble", "2", "--out", str(tmp / "direct")])
        try:
            main()
        except SystemExit as e:
            assert e.code in (0, None)
    return tmp / "run", tmp / "checks", tmp / "direct"


def test_fit_saves_every_check_and_the_best_is_the_kept_weights(fitted):
    run, saved, _ = fitted
    syn = tsgan.load(run)
    sel = syn.train_info_["selection"]
    assert sorted(p.name for p in saved.iterdir()) == sorted(f"check-{s}.pt" for s in (2, 4, 6, 8))
    best = torch.load(saved / f"check-{sel['best_step']}.pt")
    assert all(torch.equal(v, best[k]) for k, v in syn.module_.state_dict().items())


def test_a_built_mixture_is_what_select_ensemble_keeps(fitted, tmp_path):
    run, saved, direct = fitted
    built = checks.build(run, saved, tmp_path / "mix", mixture=2)
    direct = tsgan.load(direct)
    loaded = tsgan.load(tmp_path / "mix")
    assert loaded.train_info_["selection"]["kept"] == direct.train_info_["selection"]["kept"]
    assert np.array_equal(loaded.sample(30, seed=3), direct.sample(30, seed=3))
    assert np.array_equal(built.sample(30, seed=3), direct.sample(30, seed=3))


def test_built_steps_and_window_averages(fitted, tmp_path):
    run, saved, _ = fitted
    one = checks.build(run, saved, tmp_path / "one", step=4)
    w4 = torch.load(saved / "check-4.pt")
    assert all(torch.equal(v, w4[k]) for k, v in tsgan.load(tmp_path / "one").module_.state_dict().items())
    assert one.ensemble_ is None and not (tmp_path / "one" / "ensemble.pt").exists()
    best = tsgan.load(run).train_info_["selection"]["best_step"]
    checks.build(run, saved, tmp_path / "avg", window=2)
    near = [s for s in (2, 4, 6, 8) if abs(s - best) <= 2]
    meta = json.loads((tmp_path / "avg" / "tsgan.json").read_text())
    assert meta["train"]["built_from_checks"] == {"window": 2, "averaged_steps": near}
    mean = {k: sum(torch.load(saved / f"check-{s}.pt")[k] for s in near) / len(near) for k in w4}
    got = tsgan.load(tmp_path / "avg").module_.state_dict()
    assert all(torch.allclose(got[k], mean[k]) for k in w4 if w4[k].is_floating_point())


def test_build_refuses_checks_of_another_run(fitted, tmp_path):
    run, saved, _ = fitted
    other = tmp_path / "other"
    other.mkdir()
    for p in saved.iterdir():
        state = torch.load(p)
        torch.save({k: v + 1 if v.is_floating_point() else v for k, v in state.items()}, other / p.name)
    with pytest.raises(TsganError, match="not .*model.pt"):
        checks.build(run, other, tmp_path / "x", step=2)
    with pytest.raises(TsganError, match="one of --step"):
        checks.build(run, saved, tmp_path / "x", step=2, window=2)
    with pytest.raises(TsganError, match="no weights for the check at step 3"):
        checks.build(run, saved, tmp_path / "x", step=3)


def test_score_reads_every_saved_check(fitted):
    run, saved, _ = fitted
    syn = tsgan.load(run)
    real = syn.sample(40, seed=0).astype(np.float32)
    scored = checks.score_checks(syn, saved, real, lambda x: x, start=4, reps=2, iterations=20)
    assert sorted(scored) == [4, 6, 8]
    checked = {r["step"]: r["disc"] for r in syn.train_info_["selection"]["scores"]}
    for step, r in scored.items():
        assert r["check"] == checked[step] and len(r["scores"]) == 2 and r["mean"] == pytest.approx(np.mean(r["scores"]))
