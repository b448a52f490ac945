"""Best of n initialisations (Synthesizer(n_init=...), `tsgan fit --n-init`): the candidate
with the best selection check goes on, and the result is exactly that seed's run."""

import numpy as np
import pytest
import torch

import tsgan
import tsgan.selection
from conftest import run_cli
from tsgan.data import sines_array
from tsgan.errors import TsganError

KW = dict(model="rcgan", seq_len=12, steps=20, batch_size=8, holdout=0, select_every=5, hidden_g=8, hidden_d=8)


@pytest.fixture
def quick_checks(monkeypatch):
    """A short classifier: the choice's logic, not the classifier's accuracy, is tested."""
    init = tsgan.selection.CheckpointSelector.__init__

    def fewer(self, *args, **kwargs):
        init(self, *args, **{**kwargs, "iterations": 10, "n": 40})

    monkeypatch.setattr(tsgan.selection.CheckpointSelector, "__init__", fewer)


@pytest.fixture(scope="module")
def data():
    return sines_array(n=60, seq_len=12, dim=2)


def test_the_best_candidate_goes_on_and_equals_its_uninterrupted_run(quick_checks, data):
    best_of = tsgan.Synthesizer(n_init=3, init_share=0.5, seed=4, **KW).fit(data)
    record = best_of.train_info_["n_init"]
    assert record["n"] == 3 and record["steps"] == 10  # half of 20 steps, on the check at 10
    assert [c["seed"] for c in record["candidates"]] == [4, 5, 6]
    for c in record["candidates"]:  # each candidate's best is its best check up to step 10
        alone = tsgan.Synthesizer(seed=c["seed"], **{**KW, "steps": 20}).fit(data)
        up_to = [s["disc"] for s in alone.train_info_["selection"]["scores"] if s["step"] <= 10]
        assert c["best_disc"] == min(up_to)
    chosen = min(record["candidates"], key=lambda c: c["best_disc"])["seed"]
    assert record["chosen_seed"] == chosen == best_of.seed == best_of.train_info_["seed"]
    whole = tsgan.Synthesizer(seed=chosen, **KW).fit(data)
    assert best_of.train_info_["steps"] == 20 and best_of.train_info_["stopped"] == "steps"
    assert best_of.train_info_["selection"] == whole.train_info_["selection"]
    for a, b in zip(best_of.module_.state_dict().values(), whole.module_.state_dict().values()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(best_of.sample(5, seed=0), whole.sample(5, seed=0))
    assert len(best_of.history_) == len(whole.history_)  # the chosen candidate's history, continued


def test_candidates_share_one_holdout_and_the_saved_run_records_them(quick_checks, tmp_path):
    frame = tsgan.data.sines(n=30, seq_len=12, dim=2, seed=0)
    kw = {**KW, "holdout": 0.2}
    best_of = tsgan.Synthesizer(n_init=2, seed=1, **kw).fit(frame, id_column="sequence_id", time_column="step", checkpoint_dir=tmp_path / "run")
    alone = tsgan.Synthesizer(seed=1, **kw).fit(frame, id_column="sequence_id", time_column="step")
    assert best_of.split_ == alone.split_  # the first candidate's split, whichever goes on
    loaded = tsgan.load(tmp_path / "run")
    assert loaded.train_info_["n_init"] == best_of.train_info_["n_init"]
    assert loaded.split_seed == 1 and loaded.seed == best_of.seed


def test_best_of_bad_settings(data):
    with pytest.raises(TsganError, match="add --select-every"):
        tsgan.Synthesizer(n_init=2)
    with pytest.raises(TsganError, match="--n-init must be at least 1"):
        tsgan.Synthesizer(n_init=0)
    for share in (0, 1, 1.5):
        with pytest.raises(TsganError, match="--init-share must be between 0 and 1"):
            tsgan.Synthesizer(init_share=share)
    with pytest.raises(TsganError, match="drop --max-minutes"):
        tsgan.Synthesizer(n_init=2, select_every=5, max_minutes=1)
    with pytest.raises(TsganError, match="holds no check every 15"):  # half of 20 steps is before the first check
        tsgan.Synthesizer(n_init=2, **{**KW, "select_every": 15}).fit(data)


def test_cli_n_init(quick_checks, tmp_path, monkeypatch, capsys, csv_path):
    run = tmp_path / "run"
    args = ["fit", csv_path, "--seq-len", "5", "--steps", "8", "--select-every", "2", "--holdout", "0", "--out", run, "-q"]
    code, out, err = run_cli([*args, "--n-init", "2"], monkeypatch, capsys)
    assert code == 0, err
    assert "best of 2 initialisations: seed" in out and "went on after 4 steps" in out.replace("\n", " ")
    code, out, err = run_cli([*args[:-3], "--out", tmp_path / "gated", "-q", "--n-init", "2", "--init-gate", "0.6"], monkeypatch, capsys)
    assert code == 0, err
    assert "critic levels (gate 0.6 x the highest): seed 0" in " ".join(out.split())
    code, out, err = run_cli([*args[:-3], "--out", tmp_path / "r2", "-q", "--n-init", "2", "--init-share", "2"], monkeypatch, capsys)
    assert code == 2 and "--init-share must be between 0 and 1" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r2").exists()


def test_bench_best_of_picks_by_the_checks_up_to_the_pause(tmp_path):
    # three seeds; checks every 10 of 40 steps; share .5 pauses on the check at 20
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from best_of import best_of, seed_record

    runs = {  # seed: (checks at 10, 20, 30, 40; fresh score)
        0: ([0.30, 0.20, 0.01, 0.01], 0.05),  # best late: looks worse at the pause
        1: ([0.25, 0.10, 0.20, 0.20], 0.09),
        2: ([0.40, 0.15, 0.30, 0.30], 0.02),
    }
    records = []
    for seed, (checks, score) in runs.items():
        run = tmp_path / f"s{seed}"
        run.mkdir()
        scores = [{"step": 10 * (i + 1), "disc": d} for i, d in enumerate(checks)]
        train = {"seed": seed, "stopped": "steps", "phases": {"adversarial": 40},
                 "selection": {"every": 10, "phase": "adversarial", "scores": scores}}
        (run / "tsgan.json").write_text(json.dumps({"train": train}))
        level = 0.3 if seed == 1 else 1.0  # seed 1's critic has won by the pause (its last 2 of 20 steps)
        loss = [1.0] * 18 + [level] * 2 + [1.0] * 20
        (run / "history.csv").write_text("step,phase,d/loss\n" + "".join(f"{i + 1},adversarial,{v}\n" for i, v in enumerate(loss)))
        (tmp_path / f"r{seed}.json").write_text(json.dumps({"disc": {"0": [score, score], "1": [score, 9.0]}}))
        records.append(seed_record(run, tmp_path / f"r{seed}.json", sets=1, reps=2, history=True))
    assert [r["score"] for r in records] == [0.05, 0.09, 0.02]  # the first set only
    two = best_of(records, 2, 0.5)
    # {0, 1} -> 1 (.10 < .20); {0, 2} -> 2 (.15 < .20); {1, 2} -> 1 (.10 < .15)
    assert two["subsets"] == 3 and two["mean"] == pytest.approx((0.09 + 0.02 + 0.09) / 3)
    assert best_of(records, 2, 0.8)["mean"] == pytest.approx((0.05 + 0.05 + 0.09) / 3)  # pause at 30: seed 0's .01 counts
    assert best_of(records, 3, 0.5)["mean"] == pytest.approx(0.09) and two["cost_runs"] == pytest.approx(1.5)
    gated = best_of(records, 2, 0.5, gate=0.6)  # seed 1 (.3 < .6 x 1.0) is passed over: {0, 1} -> 0, {0, 2} -> 2, {1, 2} -> 2
    assert gated["mean"] == pytest.approx((0.05 + 0.02 + 0.02) / 3) and gated["critic_level_at_pause"]["1"] == pytest.approx(0.3)
    assert best_of(records, 2, 0.8, gate=0.6)["mean"] == pytest.approx((0.05 + 0.05 + 0.09) / 3)  # at 30 every level is 1.0


def test_critic_level_is_the_median_critic_loss_over_the_last_tenth_before_the_pause():
    import pandas as pd

    from tsgan.selection import critic_level

    tail = [0.1, 0.2, 0.3, 0.4, 5.0, 0.6, 0.7, 0.8, 0.9, 9.9]
    history = pd.DataFrame({"phase": ["embedding"] * 5 + ["adversarial"] * 40, "d/loss": [9.0] * 5 + [1.0] * 30 + tail})
    assert critic_level(history, "adversarial") == pytest.approx(0.85)  # the last 4 of 40: .7 .8 .9 9.9
    assert critic_level(history, "adversarial", steps=36) == pytest.approx(0.5)  # 4 of the first 36: .3 .4 5.0 .6
    assert critic_level(history, "adversarial", steps=30) == 1.0  # the embedding phase never counts
    assert np.isnan(critic_level(history.drop(columns="d/loss"), "adversarial"))


def test_the_gate_passes_over_a_critic_far_ahead_of_its_rivals():
    from tsgan.selection import choose_candidate

    checks, levels = [0.05, 0.10, 0.08], [0.50, 1.30, 1.00]  # the best check has a winning critic (.50 < .6 x 1.30)
    assert choose_candidate(checks, levels, None) == 0
    assert choose_candidate(checks, levels, 0.6) == 2  # .78 is the bar: candidates 1 and 2 compete on their checks
    assert choose_candidate(checks, levels, 0.3) == 0  # a low bar passes everyone
    assert choose_candidate(checks, levels, 1.0) == 1  # only the highest level
    assert choose_candidate(checks, [float("nan"), 1.30, 1.00], 0.9) == 0  # an unread level is not held against it
    assert choose_candidate([0.2, 0.2], [1.0, 1.0], 0.6) == 0  # ties: the first


def test_gated_best_of_records_each_candidates_critic_level(quick_checks, data):
    from tsgan.selection import critic_level

    kw = {**KW, "steps": 30, "select_every": 5}
    gated = tsgan.Synthesizer(n_init=2, init_share=0.5, init_gate=1.0, seed=4, **kw).fit(data)
    record = gated.train_info_["n_init"]
    assert record["gate"] == 1.0 and record["steps"] == 15
    for c in record["candidates"]:  # as read from the candidate's uninterrupted run, up to the pause
        alone = tsgan.Synthesizer(seed=c["seed"], **kw).fit(data)
        assert c["critic_level"] == pytest.approx(critic_level(alone.history_, "adversarial", steps=15))
    levels = [c["critic_level"] for c in record["candidates"]]
    assert levels[0] != levels[1]
    assert record["chosen_seed"] == gated.seed == record["candidates"][int(np.argmax(levels))]["seed"]  # gate 1: the highest level only


def test_gate_bad_settings(tmp_path, monkeypatch, capsys, csv_path):
    with pytest.raises(TsganError, match="add --n-init"):
        tsgan.Synthesizer(init_gate=0.6, select_every=5)
    for gate in (0, 1.5, -0.2):
        with pytest.raises(TsganError, match=r"--init-gate must be in \(0, 1\]"):
            tsgan.Synthesizer(n_init=2, init_gate=gate, select_every=5)
    with pytest.raises(TsganError, match="leaves unbounded"):  # before any training
        tsgan.Synthesizer(n_init=2, init_gate=0.6, objective="wgan-gp", **KW).fit(np.zeros((3, 12, 2)))
    run = tmp_path / "run"
    code, out, err = run_cli(["fit", csv_path, "--seq-len", "5", "--steps", "8", "--select-every", "2", "--n-init", "2",
                              "--objective", "wgan", "--init-gate", "0.6", "--out", run, "-q"], monkeypatch, capsys)
    assert code == 2 and "leaves unbounded" in err and len(err.strip().splitlines()) == 1
    assert not run.exists()
