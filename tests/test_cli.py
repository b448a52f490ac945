"""CLI smoke tests through the real `tsgan` entry point, and every bad-input case."""

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import tsgan

from conftest import run_cli


def test_console_script_fit_and_sample(tmp_path, csv_path):
    exe = shutil.which("tsgan")
    assert exe, "the `tsgan` console script is not installed: pip install -e ."
    run = tmp_path / "run"
    r = subprocess.run(
        [exe, "fit", "--model", "rcgan", str(csv_path), "--seq-len", "8", "--steps", "5", "--out", str(run), "--param", "hidden_g=16", "-q"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr
    assert f"run saved to {run}" in r.stdout.replace("\n", "")
    meta = json.loads((run / "tsgan.json").read_text())
    assert meta["model"] == "rcgan" and meta["config"]["hidden_g"] == 16 and meta["data"]["time_column"] == "date"
    out = tmp_path / "synth.csv"
    r = subprocess.run([exe, "sample", str(run), "-n", "7", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out)
    assert list(df.columns) == ["sequence_id", "step", "a", "b", "count"] and len(df) == 7 * 8
    assert df["count"].dtype == np.int64


def test_fit_builtin_with_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["fit", "--model", "rcgan", "sunspots", "--steps", "3", "--seq-len", "12", "--sample", "5", "-q"], monkeypatch, capsys)
    assert code == 0, err
    synth = tmp_path / "runs" / "sunspots-rcgan" / "synthetic.csv"
    assert synth.exists() and "synthetic data (5 sequences x 12 steps x 1 columns) written to" in out
    # a second run never overwrites the first one
    code, out, err = run_cli(["fit", "--model", "rcgan", "sunspots", "--steps", "2", "--seq-len", "12", "-q"], monkeypatch, capsys)
    assert code == 0 and (tmp_path / "runs" / "sunspots-rcgan-2" / "tsgan.json").exists()


def test_fit_with_lr_decay_reports_and_records_it(tmp_path, monkeypatch, capsys):
    code, out, err = run_cli(["fit", "--model", "rcgan", "sunspots", "--steps", "8", "--seq-len", "12", "-p", "lr_decay=0.25", "--out", tmp_path / "r", "-q"], monkeypatch, capsys)
    assert code == 0, err
    assert "learning rates decayed linearly over the last 2 steps of adversarial" in out
    meta = json.loads((tmp_path / "r" / "tsgan.json").read_text())
    assert meta["params"]["lr_decay"] == "0.25" and meta["train"]["lr_decay"] == {"fraction": 0.25, "phase": "adversarial", "steps": 2}
    assert tsgan.load(tmp_path / "r").get_params()["lr_decay"] == "0.25"  # as given; the config holds the number


def test_models_and_datasets_list(monkeypatch, capsys):
    code, out, _ = run_cli(["models"], monkeypatch, capsys)
    assert code == 0 and "rcgan" in out and "hidden_g" in out and "latent_dim" in out
    assert "wgan-gp" in out and "lstm | gru" in out  # the choices (once swallowed as rich markup)
    assert "int >= 1" in out and "float > 0" in out  # the ranges
    assert "optimizer=adam_g" in out and "corr_weight=10.0" in out  # the tuned recipes and what they set
    assert "select_every" in out and "dp_max_grad_norm" in out  # the training options
    code, out, _ = run_cli(["datasets"], monkeypatch, capsys)
    assert code == 0 and "sines" in out and "macrodata" in out


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


BAD_FIT = [
    (lambda t: t / "missing.csv", [], "file not found"),
    (lambda t: _write(t, "empty.csv", ""), [], "file is empty"),
    (lambda t: _write(t, "header.csv", "a,b\n"), [], "header but no data rows"),
    (lambda t: _write(t, "text.csv", "a,name\n1,x\n2,y\n3,z\n"), ["--seq-len", "2"], "column 'name' is not numeric"),
    (lambda t: _write(t, "nan.csv", "a,b\n1,2\n,3\n4,5\n"), ["--seq-len", "2"], "missing or infinite"),
    (lambda t: _write(t, "inf.csv", "a,b\n1,2\ninf,3\n4,5\n"), ["--seq-len", "2"], "missing or infinite"),
    (lambda t: _write(t, "short.csv", "a,b\n1,2\n2,3\n"), ["--seq-len", "5"], "lower --seq-len"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--model", "nope"], "unknown model 'nope'"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--param", "hiden=3"], "unknown parameter 'hiden'"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--param", "hidden_g=big"], "expects int"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--param", "hidden_g=0"], "'hidden_g' must be at least 1 (got 0)"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--param", "lr_d=-0.1"], "'lr_d' must be greater than 0 (got -0.1)"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--checkpoint-minutes", "0"], "checkpoint_minutes must be positive (got 0"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--param", "hidden_g"], "expects key=value"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--id-column", "c"], "'c' is not a column"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--precision", "16"], "--precision must be one of 32, bf16"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "-p", "lr_decay=2"], "parameter 'lr_decay' must be in [0, 1] (got 2)"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--recipe", "best"], "unknown recipe 'best'"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "-p", "preset=adam_g"], "unknown parameter 'preset'"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "0"], "seq_len must be a positive integer"),
    (lambda t: _write(t, "ok.csv", "a,b\n1,2\n2,3\n3,3\n"), ["--seq-len", "2", "--max-minutes", "-1"], "max_minutes must be positive"),
]


@pytest.mark.parametrize("make,args,message", BAD_FIT)
def test_fit_bad_input(tmp_path, monkeypatch, capsys, make, args, message):
    path = make(tmp_path)
    code, out, err = run_cli(["fit", "--model", "rcgan", path, "--steps", "2", "--out", tmp_path / "run", "-q", *args], monkeypatch, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args,message", [
    (["fit", "sines", "--thread", "1"], "No such option: --thread"),
    (["fit"], "Missing argument"),
    (["sample"], "Missing argument"),
])
def test_usage_errors_without_traceback(tmp_path, monkeypatch, capsys, args, message):
    # typer >= 0.24 raises its vendored click's exceptions, which once escaped as a traceback
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and message in err and "Traceback" not in err + out
    assert not (tmp_path / "runs").exists()


def test_constant_column_fits(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path, "c.csv", "a,b\n" + "".join(f"{i},7\n" for i in range(10)))
    code, out, err = run_cli(["fit", "--model", "rcgan", path, "--seq-len", "4", "--steps", "2", "--out", tmp_path / "r", "-q", "--sample", "3"], monkeypatch, capsys)
    assert code == 0, err
    assert (pd.read_csv(tmp_path / "r" / "synthetic.csv")["b"] == 7).all()


def test_existing_run_dir_is_kept_without_force(tmp_path, monkeypatch, capsys, csv_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    code, _, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "2", "--out", run, "-q"], monkeypatch, capsys)
    assert code == 2 and "pass --force" in err
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt"]
    code, _, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "2", "--out", run, "-q", "--force"], monkeypatch, capsys)
    assert code == 0 and (run / "tsgan.json").exists() and (run / "notes.txt").read_text() == "mine"


def test_sample_bad_input(tmp_path, monkeypatch, capsys, csv_path):
    not_run = tmp_path / "plain"
    not_run.mkdir()
    code, _, err = run_cli(["sample", not_run, "-n", "3", "--out", tmp_path / "s.csv"], monkeypatch, capsys)
    assert code == 2 and "is not a tsgan run" in err
    run = tmp_path / "run"
    run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "5", "--steps", "2", "--out", run, "-q"], monkeypatch, capsys)
    existing = _write(tmp_path, "s.csv", "precious")
    code, _, err = run_cli(["sample", run, "-n", "3", "--out", existing], monkeypatch, capsys)
    assert code == 2 and "--force" in err and existing.read_text() == "precious"
    code, _, err = run_cli(["sample", run, "-n", "0", "--out", tmp_path / "t.csv"], monkeypatch, capsys)
    assert code == 2 and "at least 1" in err


@pytest.mark.parametrize("model", ["rcgan", "timegan", "crnngan"])
def test_every_sequence_model_runs_from_the_cli(model, tmp_path, monkeypatch, capsys, csv_path):
    run = tmp_path / model
    code, out, err = run_cli(["fit", "--model", "rcgan", csv_path, "--model", model, "--seq-len", "6", "--steps", "3", "-p", "batch_size=8", "--out", run, "-q"], monkeypatch, capsys)
    assert code == 0, err
    assert json.loads((run / "tsgan.json").read_text())["model"] == model
    code, out, err = run_cli(["sample", run, "-n", "4", "--out", tmp_path / f"{model}.csv"], monkeypatch, capsys)
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / f"{model}.csv")) == 4 * 6


def test_conditional_and_infogan_from_the_cli(tmp_path, monkeypatch, capsys):
    from tsgan.data.builtin import sine_bands

    data = tmp_path / "bands.csv"
    sine_bands(n=30, seq_len=6, dim=2).to_csv(data, index=False)
    run = tmp_path / "cond"
    args = ["fit", data, "--model", "rcgan", "--seq-len", "6", "--steps", "3", "-p", "batch_size=8", "-q", "--id-column", "sequence_id"]
    code, _, err = run_cli([*args, "--out", run, "--condition-column", "band"], monkeypatch, capsys)
    assert code == 0, err
    code, _, err = run_cli(["sample", run, "-n", "3", "--out", tmp_path / "hi.csv", "--condition", "band=high"], monkeypatch, capsys)
    assert code == 0, err
    assert set(pd.read_csv(tmp_path / "hi.csv")["band"]) == {"high"}
    code, _, err = run_cli(["sample", run, "-n", "3", "--out", tmp_path / "x.csv", "--condition", "band=ultra"], monkeypatch, capsys)
    assert code == 2 and "unknown label 'ultra' for condition 'band'" in err and not (tmp_path / "x.csv").exists()
    code, _, err = run_cli(["sample", run, "-n", "3", "--out", tmp_path / "x.csv", "--condition", "band"], monkeypatch, capsys)
    assert code == 2 and "--condition expects key=value" in err
    code, _, err = run_cli([*args, "--out", tmp_path / "nocond"], monkeypatch, capsys)
    assert code == 2 and "pass --condition-column band" in err
    info = tmp_path / "info"
    plain = tmp_path / "plain.csv"
    pd.read_csv(data).drop(columns="band").to_csv(plain, index=False)
    code, _, err = run_cli(["fit", "--model", "rcgan", plain, *args[2:], "--out", info, "-p", "info_categories=3"], monkeypatch, capsys)
    assert code == 0, err
    code, _, err = run_cli(["sample", info, "-n", "3", "--out", tmp_path / "c.csv", "--code", "2"], monkeypatch, capsys)
    assert code == 0, err
    code, _, err = run_cli(["sample", info, "-n", "3", "--out", tmp_path / "d.csv", "--code", "7"], monkeypatch, capsys)
    assert code == 2 and "0..2" in err


def test_fit_reads_a_npy_array_and_refuses_pickles(tmp_path, monkeypatch, capsys):
    from tsgan.data import sines_array

    np.save(tmp_path / "ori.npy", sines_array(n=40, seq_len=6, dim=2))
    code, out, err = run_cli(["fit", "--model", "rcgan", tmp_path / "ori.npy", "--seq-len", "6", "--steps", "2", "--out", tmp_path / "r", "-q", "--sample", "3"], monkeypatch, capsys)
    assert code == 0, err
    assert list(pd.read_csv(tmp_path / "r" / "synthetic.csv").columns) == ["sequence_id", "step", "f0", "f1"]
    code, _, err = run_cli(["sample", tmp_path / "r", "-n", "7", "--seed", "3", "--out", tmp_path / "s.npy"], monkeypatch, capsys)
    assert code == 0, err
    np.testing.assert_allclose(np.load(tmp_path / "s.npy"), tsgan.load(tmp_path / "r").sample_array(7, seed=3))
    code, _, err = run_cli(["sample", tmp_path / "r", "-n", "7", "--out", tmp_path / "s.txt"], monkeypatch, capsys)
    assert code == 2 and "sequence runs write a .csv or .parquet file (long format) or a .npy array: got '.txt'" in err
    assert not (tmp_path / "s.txt").exists()
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    code, out, err = run_cli(["fit", "--model", "rcgan", tmp_path / "obj.npy", "--steps", "2", "--out", tmp_path / "r2", "-q"], monkeypatch, capsys)
    assert code == 2 and "could not read" in err and "numbers only" in err and "Traceback" not in err + out
    assert not (tmp_path / "r2").exists()


def test_the_tuned_recipe_is_the_default_and_given_parameters_override_it(tmp_path, monkeypatch, capsys):
    from tsgan.models.crnngan import CRNNGAN

    code, out, err = run_cli(["fit", "--model", "rcgan", "sines", "--model", "crnngan", "--steps", "3", "--seq-len", "6", "-q", "--out", tmp_path / "r",
                              "-p", "hidden=8"], monkeypatch, capsys)
    assert code == 0, err
    assert "recipe tuned: optimizer=adam_g" in out.replace("\n", " ")
    meta = json.loads((tmp_path / "r" / "tsgan.json").read_text())
    tuned = {k: v for k, v in CRNNGAN.recipes["tuned"].items() if k in meta["config"]}
    want = {**tuned, "hidden": 8}
    assert {k: meta["config"][k] for k in want} == want and meta["params"]["recipe"] == "tuned"
    run = tsgan.load(tmp_path / "r")
    assert run.config_.optimizer == "adam_g" and type(run.module_.optimizers()["g"]).__name__ == "ClippedAdam"
    code, out, err = run_cli(["fit", "--model", "rcgan", "sines", "--model", "crnngan", "--steps", "3", "--seq-len", "6", "-q", "--out", tmp_path / "p",
                              "--recipe", "paper"], monkeypatch, capsys)
    assert code == 0 and "recipe tuned" not in out and tsgan.load(tmp_path / "p").config_.optimizer == "sgd"


def test_fit_columns_reads_only_those(tmp_path, monkeypatch, capsys):
    data = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"t": np.arange(60), "a": rng.normal(size=60), "free_text": ["x"] * 60, "b": rng.normal(size=60)}).to_csv(data, index=False)
    code, out, err = run_cli(["fit", str(data), "--model", "rcgan", "--seq-len", "6", "--steps", "2", "--columns", "a,b",
                              "--time-column", "t", "--out", tmp_path / "r", "-q"], monkeypatch, capsys)
    assert code == 0, err
    assert tsgan.load(tmp_path / "r").spec_.columns == ["a", "b"]  # the text column was never read (it would be refused)
    code, out, err = run_cli(["fit", str(data), "--model", "rcgan", "--columns", "a,c", "--out", tmp_path / "r2", "-q"], monkeypatch, capsys)
    assert code == 2 and "--columns 'c' is not a column of" in err and "Traceback" not in err
