"""`tsgan evaluate` and the evaluation functions behind it."""

import json

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli
from tsgan.data import sines_array
from tsgan.errors import TsganError
from tsgan.evaluate import evaluate_arrays, windows_from_long
from tsgan.metrics.embedding import EncoderConfig


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TSGAN_CACHE", str(tmp_path / "cache"))


def test_evaluate_arrays_real_vs_real_and_noise():
    tiny = EncoderConfig(hidden=16, layers=1, dim=8, steps=40, batch_size=64)
    x = sines_array(600, 24, 3, seed=0)
    noise = np.random.default_rng(0).uniform(size=(300, 24, 3))
    fast = ["fid", "prdc", "correlational", "marginal", "autocorrelation", "mmd"]
    same = evaluate_arrays(x[:300], x[300:], fast, encoder=tiny)
    far = evaluate_arrays(x[:300], noise, fast, encoder=tiny)
    for key in ["fid", "correlational", "marginal_ks", "autocorrelation", "mmd"]:
        assert same[key] < far[key], key
    assert same["recall"] > 0.7 > far["recall"]
    with pytest.raises(TsganError, match="unknown metric 'foo'"):
        evaluate_arrays(x, x, ["foo"])


def test_windows_from_long_checks_columns():
    frame = pd.DataFrame({"sequence_id": [0, 0, 1, 1], "step": [0, 1, 0, 1], "a": [1.0, 2, 3, 4]})
    assert windows_from_long(frame, ["a"]).shape == (2, 2, 1)
    with pytest.raises(TsganError, match="columns differ"):
        windows_from_long(frame, ["a", "b"])
    with pytest.raises(TsganError, match="NaN"):
        windows_from_long(frame.assign(a=[1.0, np.nan, 3, 4]), ["a"])


def test_cli_evaluate_writes_report(tmp_path, monkeypatch, capsys, csv_path):
    run = tmp_path / "run"
    code, _, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "8", "--steps", "3", "--out", run, "-q"], monkeypatch, capsys)
    assert code == 0, err
    out = tmp_path / "report"
    metrics = "correlational,marginal,autocorrelation,mmd"
    code, stdout, err = run_cli(["evaluate", csv_path, run, "--out", out, "--metrics", metrics, "-n", "40"], monkeypatch, capsys)
    assert code == 0, err
    scores = json.loads((out / "metrics.json").read_text())
    assert {"correlational", "marginal_ks", "autocorrelation", "mmd"} <= set(scores)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5 and "Training losses" in page
    # the same report dir is not overwritten without --force
    code, _, err = run_cli(["evaluate", csv_path, run, "--out", out, "--metrics", metrics], monkeypatch, capsys)
    assert code == 2 and "--force" in err


def test_cli_evaluate_mismatch(tmp_path, monkeypatch, capsys, csv_path):
    synth = tmp_path / "s.csv"
    pd.DataFrame({"sequence_id": [0] * 8, "step": range(8), "a": 0.5, "b": 50.0}).to_csv(synth, index=False)
    code, _, err = run_cli(["evaluate", csv_path, synth, "--out", tmp_path / "r"], monkeypatch, capsys)
    assert code == 2 and "columns differ" in err


def test_cli_evaluate_scores_numpy_arrays_from_other_tools(tmp_path, monkeypatch, capsys):
    """Real and synthetic .npy arrays (sequences, time, features), e.g. TimeGAN's ori_data and generated_data."""
    x = sines_array(n=200, seq_len=12, dim=3)
    np.save(tmp_path / "ori.npy", x)
    np.save(tmp_path / "copy.npy", x[::-1].copy())  # the same windows in another order
    np.save(tmp_path / "noise.npy", np.random.default_rng(0).uniform(size=x.shape))
    np.save(tmp_path / "two.npy", x[:, :, :2].copy())
    scores = {}
    for name in ("copy", "noise"):
        code, _, err = run_cli(["evaluate", tmp_path / "ori.npy", tmp_path / f"{name}.npy", "--out", tmp_path / name, "--metrics",
                                "marginal,autocorrelation"], monkeypatch, capsys)
        assert code == 0, err
        scores[name] = json.loads((tmp_path / name / "metrics.json").read_text())
    assert scores["copy"]["marginal_ks"] == 0.0 and scores["copy"]["n_synthetic"] == 200
    assert scores["noise"]["marginal_ks"] > 0.3
    # each score read against a real-vs-real floor and shuffled (independent-marginal) windows
    v = {name: {k: d["verdict"] for k, d in scores[name]["verdicts"].items()} for name in scores}
    assert v["copy"] == {"marginal_ks": "uninformative", "autocorrelation": "good"}  # shuffling keeps marginals: no ranking
    assert v["noise"]["marginal_ks"] == "fail" and v["noise"]["autocorrelation"] in ("poor", "fail")
    assert scores["noise"]["references"]["naive"]["autocorrelation"] > 5 * scores["noise"]["references"]["floor"]["autocorrelation"]
    assert "Sines" not in (tmp_path / "copy" / "report.html").read_text()  # the papers' rows only for Sines and Stocks data
    code, _, err = run_cli(["evaluate", tmp_path / "ori.npy", tmp_path / "two.npy", "--out", tmp_path / "r"], monkeypatch, capsys)
    assert code == 2 and "the synthetic array has 2 features, the real data 3" in err and not (tmp_path / "r").exists()


@pytest.mark.slow
def test_cli_fit_with_evaluate(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    code, out, err = run_cli(["fit", "--model", "rcgan", "sunspots", "--seq-len", "12", "--steps", "20", "--out", run, "-q", "--evaluate"], monkeypatch, capsys)
    assert code == 0, err
    scores = json.loads((run / "report" / "metrics.json").read_text())
    assert scores["predictive"] == {"skipped": "needs at least 2 features"} and 0 <= scores["discriminative"]["mean"] <= 0.5
    assert (run / "report" / "report.html").exists()


def test_cli_evaluate_takes_a_synthetic_file_in_the_real_format(tmp_path, monkeypatch, capsys, csv_path):
    """Another tool's output, or a split of the real data, in the real file's own columns."""
    frame = pd.read_csv(csv_path)
    other = tmp_path / "other.csv"
    frame.iloc[::-1].to_csv(other, index=False)  # the same rows, another order: the time column puts them back
    code, out, err = run_cli(["evaluate", csv_path, other, "--out", tmp_path / "r", "--metrics", "marginal"], monkeypatch, capsys)
    assert code == 0, err
    scores = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert scores["marginal_ks"] < 0.05 and "needs columns sequence_id" not in err  # the same windows, up to float32 rounding
