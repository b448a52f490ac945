"""Privacy checks with known answers, the holdout split, and the `tsgan privacy` command."""

import json

import numpy as np
import pytest

import tsgan
from tsgan.data import sines, sines_array
from tsgan.data.windows import holdout_split
from tsgan.errors import TsganError
from tsgan.privacy import privacy_metrics

from conftest import run_cli


@pytest.fixture(scope="module")
def windows():
    x = sines_array(n=1500, seq_len=12, dim=3, seed=0).astype(np.float32)
    return x[:600], x[600:1200], x[1200:]  # train, holdout, an independent sample of the same process


def test_copying_generator_is_flagged(windows):
    train, holdout, _ = windows
    p = privacy_metrics(train, holdout, train.copy(), seed=0)
    assert p["mia_auc"]["auc"] > 0.99 and p["dcr_share_closer_to_train"] > 0.99
    assert p["exact_copy_share"] == 1.0 and p["near_copy_share"] == 1.0
    assert p["verdicts"] == {"mia_auc": "fail", "dcr_share_closer_to_train": "fail", "near_copy_share": "fail"}


def test_independent_sample_is_not_flagged(windows):
    train, holdout, fresh = windows
    p = privacy_metrics(train, holdout, fresh, seed=0)
    assert abs(p["mia_auc"]["auc"] - 0.5) < 0.05 and p["mia_auc"]["ci95"][0] < 0.5 < p["mia_auc"]["ci95"][1]
    assert abs(p["dcr_share_closer_to_train"] - 0.5) < 0.06
    assert p["exact_copy_share"] == 0.0 and p["near_copy_share"] < 0.03
    assert p["verdicts"]["mia_auc"] == "pass" and p["verdicts"]["dcr_share_closer_to_train"] == "pass"


def test_noisy_copies_sit_between(windows):
    # training windows plus small noise: closer to train than holdout, but no exact copies
    train, holdout, _ = windows
    noisy = train + np.random.default_rng(0).normal(0, 0.01, train.shape).astype(np.float32)
    p = privacy_metrics(train, holdout, noisy, seed=0)
    assert p["exact_copy_share"] == 0.0 and p["mia_auc"]["auc"] > 0.9 and p["nndr_synthetic_median"] < p["nndr_holdout_median"]


def test_per_entity_attack(windows):
    train, holdout, _ = windows
    tg, hg = np.arange(len(train)) // 10, np.arange(len(holdout)) // 10 + 1000
    p = privacy_metrics(train, holdout, train.copy(), tg, hg, seed=0)
    assert p["mia_auc_entity"]["auc"] > 0.99 and p["mia_auc_entity"]["entities"] == [60, 60]


def test_density_attack_flags_copies_and_passes_fresh_samples(windows):
    train, holdout, fresh = windows
    tg, hg = np.arange(len(train)) // 10, np.arange(len(holdout)) // 10 + 1000
    leak = privacy_metrics(train, holdout, train.copy(), tg, hg, seed=0)
    assert leak["mia_density"]["auc"] > 0.8 and leak["verdicts"]["mia_density_auc"] == "fail"
    ok = privacy_metrics(train, holdout, fresh, tg, hg, seed=0)
    assert abs(ok["mia_density"]["auc"] - 0.5) < 0.07 and ok["verdicts"]["mia_density_auc"] == "pass"
    members, non, ref = ok["mia_density"]["records"]
    assert members == non and non + ref == ok["records"]  # reference and scored non-members split the holdout sample
    assert "skipped" in privacy_metrics(train, holdout, fresh, tg, np.zeros(len(holdout)), seed=0)["mia_density"]


def test_holdout_split_never_shares_rows():
    ts, hs, tg, hg, info = holdout_split([30, 40, 50, 60, 70], seq_len=10, stride=1, fraction=0.4, seed=0)
    assert info["by"] == "entity" and info["holdout_entities"] == 2
    assert set(tg).isdisjoint(hg) and len(ts) == info["train_windows"]
    ts, hs, _, _, info = holdout_split([200], seq_len=10, stride=1, fraction=0.2, seed=0)
    train_rows = {r for s in ts for r in range(s, s + 10)}
    hold_rows = {r for s in hs for r in range(s, s + 10)}
    # 40 rows held out as 4 blocks of 10 spread over time; no window mixes the two sets
    ref = info.pop("reference_blocks")
    assert info == {"holdout": 0.2, "by": "time", "blocks": [[20, 30], [70, 80], [120, 130], [170, 180]],
                    "train_windows": 160 - 4 * 9 - 9, "holdout_windows": 4}
    # training blocks shaped like the holdout's, for the privacy checks: 4 blocks of 10 training rows
    assert len(ref) == 4 and all(b - a == 10 for a, b in ref)
    assert not {r for a, b in ref for r in range(a, b)} & hold_rows
    assert not train_rows & hold_rows and len(hold_rows) == 40
    with pytest.raises(TsganError, match="pass --holdout 0"):
        holdout_split([15], seq_len=10, stride=1, fraction=0.2)


def test_fit_keeps_holdout_and_privacy_runs(tmp_path):
    frame = sines(n=80, seq_len=8, dim=2, seed=0)
    syn = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=3, batch_size=8, hidden_g=8, hidden_d=8)
    syn.fit(frame, id_column="sequence_id", time_column="step")
    assert syn.split_["holdout_entities"] == 16 and syn.spec_.n_windows == 64
    p = syn.privacy(seed=0)
    assert 0 <= p["mia_auc"]["auc"] <= 1 and "mia_auc_entity" in p
    syn.save(tmp_path / "run")
    with pytest.raises(TsganError, match="pass its data"):
        tsgan.load(tmp_path / "run").privacy()
    again = tsgan.load(tmp_path / "run").privacy(frame, seed=0)
    assert again["split"] == p["split"] and again["records"] == p["records"]
    off = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=2, batch_size=8, hidden_g=8, hidden_d=8, holdout=0)
    off.fit(frame, id_column="sequence_id", time_column="step")
    assert off.spec_.n_windows == 80
    with pytest.raises(TsganError, match="kept no holdout"):
        off.privacy()


def test_privacy_cli(tmp_path, monkeypatch, capsys, csv_path):
    run = tmp_path / "run"
    code, out, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "2", "--out", run, "-q"], monkeypatch, capsys)
    assert code == 0 and "held out 2 time blocks (4 windows)" in out
    code, out, err = run_cli(["privacy", run], monkeypatch, capsys)
    assert code == 2 and "at least 10 training and 10 holdout windows (got 4 and 4)" in err
    run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "2", "--steps", "2", "--out", run, "-q", "--force", "--holdout", "0.5"], monkeypatch, capsys)
    code, out, err = run_cli(["privacy", run, "--out", tmp_path / "p"], monkeypatch, capsys)
    assert code == 0, err
    assert "membership inference AUC" in out and json.loads((tmp_path / "p" / "privacy.json").read_text())["split"]["by"] == "time"
    assert "<h2>Privacy</h2>" in (tmp_path / "p" / "privacy.html").read_text()
    code, _, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "2", "--out", tmp_path / "r2", "-q", "--holdout", "0.95"], monkeypatch, capsys)
    assert code == 2 and "pass --holdout 0" in err
    code, _, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "2", "--out", tmp_path / "r3", "-q", "--holdout", "0"], monkeypatch, capsys)
    assert code == 0
    code, _, err = run_cli(["privacy", tmp_path / "r3"], monkeypatch, capsys)
    assert code == 2 and "kept no holdout" in err


def test_collapsed_generator_makes_the_dcr_share_not_informative(windows):
    train, holdout, fresh = windows
    collapsed = np.repeat(fresh[:1], len(fresh), axis=0) + np.random.default_rng(0).normal(0, 1e-4, fresh.shape).astype(np.float32)
    p = privacy_metrics(train, holdout, collapsed, seed=0)
    assert p["synthetic_spread_ratio"] < 0.1 and p["verdicts"]["dcr_share_closer_to_train"] == "n/a"
    assert privacy_metrics(train, holdout, fresh, seed=0)["synthetic_spread_ratio"] > 0.5


def test_time_block_split_gives_the_dcr_share_no_verdict(windows):
    # one series held out by time blocks: block levels, not memorisation, move the DCR share
    from tsgan.privacy import summary_lines

    train, holdout, fresh = windows
    p = privacy_metrics(train, holdout, fresh, seed=0, by_time=True)
    assert p["verdicts"]["dcr_share_closer_to_train"] == "n/a" and "time blocks" in p["dcr_note"]
    assert p["verdicts"]["mia_auc"] == "pass"  # the attacks still decide
    assert any("no verdict for time blocks" in line for line in summary_lines(p))
