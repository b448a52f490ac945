"""Reliability and security (issue #34): each class of careless or hostile input
gets a correct result or a one-line refusal, never a traceback or a silent wrong
result. Fast: no test here trains more than a few steps."""

import json
import os
import sys

import numpy as np
import pandas as pd
import pytest

import tsgan
from tsgan.errors import TsganError

from conftest import run_cli


# ---------------------------------------------------------------- CLI boundaries
def test_brackets_in_paths_are_printed_as_they_are(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "no[bold]such[/].csv"
    code, out, err = run_cli(["fit", str(missing), "--steps", "1"], monkeypatch, capsys)
    assert code == 2 and str(missing) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, words", [
    (["--seed", "-1"], "seed must be an integer from 0"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--threads", "0"], "threads must be a positive integer"),
])
def test_bad_settings_are_one_line_errors(tmp_path, monkeypatch, capsys, csv_path, args, words):
    code, out, err = run_cli(["fit", csv_path, "--steps", "1", "--out", tmp_path / "r", *args], monkeypatch, capsys)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()  # the directory claimed for the run is removed again


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys):
    import tsgan_cli.main as cli

    def interrupted(**_):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", interrupted)
    monkeypatch.setattr(sys, "argv", ["tsgan", "sample"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 130 and capsys.readouterr().err.strip() == "interrupted: nothing was written"


def test_ctrl_c_while_sampling_exits_130_and_writes_nothing(tmp_path, csv_path):
    """A real SIGINT to a real `tsgan sample` process (typer turns Ctrl-C into a returned
    130, which once became exit status 0)."""
    import shutil
    import signal
    import subprocess
    import time

    run = tmp_path / "run"
    tsgan.Synthesizer(model="rcgan", seq_len=8, steps=1, hidden_g=8, hidden_d=8).fit(csv_path).save(run)
    p = subprocess.Popen([shutil.which("tsgan"), "sample", str(run), "-n", "100000000", "--out", str(tmp_path / "s.csv")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any(f.name.startswith(".s.csv") for f in tmp_path.iterdir()) and time.time() < deadline:
        time.sleep(0.2)  # until it writes
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130 and err.strip().endswith("interrupted: nothing was written"), (p.returncode, err)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["data.csv", "run"]  # no s.csv, no partial file


def test_fit_stopped_by_ctrl_c_keeps_the_run_and_exits_130(tmp_path, monkeypatch, capsys, csv_path):
    from tsgan.training import callbacks

    monkeypatch.setattr(callbacks.Interrupt, "stop_reason", lambda self, run: "interrupted" if run.step >= 3 else None)
    code, out, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "8", "--steps", "50", "--out", tmp_path / "r", "-q"], monkeypatch, capsys)
    assert code == 130 and "(stopped by Ctrl-C)" in out and f"interrupted: the run as trained so far is saved in {tmp_path / 'r'}" in err
    assert tsgan.load(tmp_path / "r").resume_state_ is not None


def test_a_second_writer_of_one_run_directory_is_refused(tmp_path):
    from tsgan.rundir import claim_run_dir

    with claim_run_dir(tmp_path / "run"):
        # flock conflicts between two open files even in one process, as between two processes
        with pytest.raises(TsganError, match="another tsgan process is writing"):
            claim_run_dir(tmp_path / "run", force=True)
    assert not (tmp_path / "run").exists()  # created here, left empty: removed


def test_a_failed_save_goes_to_a_fallback_directory(tmp_path, monkeypatch, capsys, csv_path):
    real_save = tsgan.Synthesizer.save
    calls = []

    def flaky(self, path, force=False):
        calls.append(path)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real_save(self, path, force)

    monkeypatch.setattr(tsgan.Synthesizer, "save", flaky)
    code, out, err = run_cli(["fit", "--model", "rcgan", csv_path, "--seq-len", "8", "--steps", "2", "--out", tmp_path / "r", "-q"], monkeypatch, capsys)
    assert code == 0 and "could not save the run" in err and "No space left on device" in err
    assert (calls[1] / "tsgan.json").exists() and f"run saved to {calls[1]}" in out


def test_threads_respect_the_environment_quota_and_load(monkeypatch):
    from tsgan import torch_utils

    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert torch_utils.cpu_budget() == (3, "OMP_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(torch_utils, "_cgroup_quota", lambda: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.4, 0, 0))
    assert torch_utils.cpu_budget() == (4, "4 CPUs")
    monkeypatch.setattr(os, "getloadavg", lambda: (3.7, 0, 0))  # three CPUs busy elsewhere
    assert torch_utils.cpu_budget() == (1, "4 CPUs with load 3.7")
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 0, 0))
    assert torch_utils.cpu_budget()[0] == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0, 0))
    monkeypatch.setattr(torch_utils, "_cgroup_quota", lambda: 2)
    assert torch_utils.cpu_budget() == (2, "a CPU quota of 2")
    assert torch_utils.pick_threads(5) == (5, "asked for")
    with pytest.raises(TsganError, match="threads must be a positive integer"):
        torch_utils.pick_threads(0)


def test_threads_are_used_for_training_and_set_back(wide_frame):
    import torch

    before = torch.get_num_threads()
    syn = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=2, threads=1).fit(wide_frame)
    assert syn.train_info_["threads"] == 1 and syn.train_info_["threads_why"] == "asked for"
    assert torch.get_num_threads() == before


# ---------------------------------------------------------------- reading data as meant
def _frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"date": pd.date_range("2021-01-01", periods=n, freq="D").astype(str),
                         "temp": rng.normal(10, 3, n).round(2), "load": rng.normal(1000, 300, n).round(1)})


@pytest.mark.parametrize("write, said", [
    (lambda df, p: df.to_csv(p, sep=";", decimal=",", index=False), ["semicolon-separated", "decimal commas"]),
    (lambda df, p: df.to_csv(p, index=False, encoding="latin-1"), ["Windows-1252 (Latin-1)"]),
    (lambda df, p: df.to_csv(p, index=False, encoding="utf-16"), ["UTF-16"]),
    (lambda df, p: df.to_csv(p, index=False, sep="\t"), ["tab-separated"]),
    (lambda df, p: df.assign(load=df["load"].map(lambda v: f"{v:,.1f}")).to_csv(p, index=False), ["',' as thousands separator"]),
    (lambda df, p: df.assign(load=df["load"].map(lambda v: f"{v:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")),
                             temp=df["temp"].map(lambda v: str(v).replace(".", ","))).to_csv(p, index=False, sep=";"),
     ["semicolon-separated", "decimal commas and '.' as thousands separator"]),
])
def test_csv_dialects_are_detected_and_said(tmp_path, write, said):
    from tsgan.data.io import read_table
    from tsgan.errors import TsganWarning

    df = _frame().rename(columns={"load": "Last_ü"})  # a non-ASCII name, for the encodings
    path = tmp_path / "data.csv"
    write(df.rename(columns={"Last_ü": "load"}) if "thousands" in said[-1] else df, path)
    with pytest.warns(TsganWarning):
        got = read_table(path)
    assert got.shape == df.shape and np.allclose(got["temp"], df["temp"]) and np.allclose(got.iloc[:, 2], df.iloc[:, 2], atol=0.051)
    assert all(any(s in n for n in got.attrs["notes"]) for s in said)


def _series(df, **kw):
    import warnings

    from tsgan.data.io import to_series

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        series = to_series(df, kw.pop("seq_len", 5), **kw)
    assert [str(w.message) for w in caught] == series.spec.notes
    return series


def test_row_index_columns_are_not_modelled():
    df = _frame().drop(columns="date")
    df.insert(0, "Unnamed: 0", np.arange(len(df)))
    df["counter"] = np.arange(1, len(df) + 1)
    s = _series(df)
    assert s.spec.columns == ["temp", "load"] and s.spec.dropped_columns == ["Unnamed: 0", "counter"]
    assert "look like a row index" in s.spec.notes[0]


def test_calendar_columns_order_rows_and_date_text_under_a_calendar_name_is_time():
    df = pd.DataFrame({"year": np.repeat([2001, 2000], 8), "quarter": np.tile(np.repeat([1, 2, 3, 4], 2), 2)[:16], "gdp": np.arange(16.0)})
    df = df.assign(quarter=np.tile([4, 3, 2, 1], 4), gdp=np.arange(16.0))
    s = _series(df.iloc[:4].assign(year=2000).pipe(lambda a: pd.concat([a, a.assign(year=2001)])), seq_len=3)
    assert s.spec.columns == ["gdp"] and s.spec.order_columns == ["year", "quarter"] and "calendar columns 'year', 'quarter' order the rows" in s.spec.notes[0]
    assert s.base[:4, 0].tolist() == [3.0, 2.0, 1.0, 0.0]  # quarter 1 first
    months = pd.DataFrame({"month": pd.date_range("2020-01", periods=12, freq="MS").strftime("%Y-%m")[::-1], "sales": np.arange(12.0)})
    s = _series(months)
    assert s.spec.time_column == "month" and s.base[0, 0] == 11.0


def test_entities_written_one_after_another_are_found_and_said():
    df = pd.DataFrame({"case": np.repeat(["a", "b", "c"], 10), "x": np.random.default_rng(0).normal(size=30)})
    s = _series(df)
    assert s.spec.id_column == "case" and s.spec.n_entities == 3 and "holds 3 entities" in s.spec.notes[0]
    ids = pd.DataFrame({"patient_id": np.repeat([7, 3, 9], 10), "x": np.arange(30.0) % 7})
    assert _series(ids).spec.id_column == "patient_id"


def test_a_wide_file_is_said_to_look_like_one_case_per_row():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 25)), columns=[f"t{k}" for k in range(1, 26)])
    s = _series(df)
    assert "the 25 columns t1..t25 may be the time steps of one case per row" in s.spec.notes[0]


def test_skipped_entities_are_counted_exactly_and_no_id_is_kept():
    lengths = [3] * 624 + [8] * 16
    df = pd.DataFrame({"pid": np.repeat([f"patient-{k}" for k in range(640)], lengths), "x": np.arange(sum(lengths), dtype=float) % 5})
    s = _series(df, id_column="pid")
    assert s.spec.n_skipped == 624 and "skipped 624 of 640 entities shorter than --seq-len 5" in s.spec.notes[0]
    assert "patient-" not in json.dumps(s.spec.to_dict())


def test_time_column_problems():
    df = _frame(12)
    with pytest.raises(TsganError, match=r"time column 'date' has 1 missing values \(first at row 3\)"):
        _series(df.assign(date=df["date"].where(df.index != 3)))
    dup = _series(df.assign(date=df["date"].where(df.index % 2 == 0).ffill()))
    assert "6 rows share their time in time column 'date'" in dup.spec.notes[0] and "pass --id-column" in dup.spec.notes[0]
    offsets = df.assign(date=[f"2021-01-{d:02d}T00:00:00{'+01:00' if d % 2 else '-05:00'}" for d in range(1, 13)])
    s = _series(offsets)
    assert "mixes UTC offsets" in s.spec.notes[0] and s.base.shape == (12, 2)


def test_complex_overflowing_and_huge_values_are_refused():
    from tsgan.data.io import frame_from_array

    with pytest.raises(TsganError, match="complex numbers: pass their real and imaginary parts"):
        frame_from_array(np.ones((4, 3, 2), dtype=complex))
    with pytest.raises(TsganError, match="column 'z' holds complex numbers"):
        _series(pd.DataFrame({"z": np.ones(10, dtype=complex)}))
    with pytest.raises(TsganError, match="column 'x' spans -1e\\+308 to 1e\\+308, too wide to scale"):
        _series(pd.DataFrame({"x": np.tile([-1e308, 1e308], 5)}))


def test_nan_losses_stop_the_fit_and_keep_the_last_good_weights(wide_frame, monkeypatch):
    import torch

    from tsgan.errors import TsganWarning
    from tsgan.models import rcgan

    real = rcgan.RCGAN.schedule
    calls = {"n": 0}

    def poisoned(self):
        phases = real(self)
        update = phases[-1].updates[0]
        loss = update.loss

        def nan_after_120(batch):
            calls["n"] += 1
            out = loss(batch)
            if calls["n"] > 600:  # the critic's 601st loss (of several a step) turns NaN
                with torch.no_grad():
                    next(self.parameters()).fill_(float("nan"))
                return (out[0] * float("nan"), out[1]) if isinstance(out, tuple) else out * float("nan")
            return out

        update.loss = nan_after_120
        return phases

    monkeypatch.setattr(rcgan.RCGAN, "schedule", poisoned)
    with pytest.warns(TsganWarning, match="losses turned non-finite"):
        syn = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=400, ema=0.9).fit(wide_frame)
    info = syn.train_info_
    assert info["stopped"] == "nonfinite" and 0 < info["nonfinite"]["kept_step"] < info["nonfinite"]["step"] < 200
    assert info["steps"] < 400 and syn.resume_state_ is None and "ema" not in info
    assert all(torch.isfinite(p).all() for p in syn.module_.parameters())
    assert np.isfinite(syn.sample_array(4, seed=0)).all()


# ---------------------------------------------------------------- what a run directory keeps and loads
@pytest.fixture(scope="module")
def conditioned():
    from tsgan.data import sines

    frame = sines(n=120, seq_len=6, dim=2, seed=0)
    frame["mode"] = np.where(frame["s0"] > frame["s0"].median(), "high", "low")  # per-step conditions: a label,
    frame["load"] = np.random.default_rng(0).random(len(frame))  # and a number
    return frame


def _fit_cond(frame, column="mode", **kw):
    syn = tsgan.Synthesizer(model="rcgan", seq_len=6, steps=3, batch_size=8, hidden_g=8, hidden_d=8, holdout=0.3, **kw)
    return syn.fit(frame.drop(columns=[c for c in ("mode", "load") if c != column]), id_column="sequence_id", time_column="step",
                   condition_columns=[column])


def test_a_dp_run_keeps_and_replays_no_real_conditions(conditioned, tmp_path):
    pytest.importorskip("opacus")
    syn = _fit_cond(conditioned, dp_noise=1.0)
    assert syn.condition_bank_ is None
    syn.save(tmp_path / "run")
    assert not (tmp_path / "run" / "conditions.npy").exists()
    loaded = tsgan.load(tmp_path / "run")
    frame = loaded.sample(50, seed=0)
    per_seq = frame.groupby("sequence_id")["mode"].nunique()
    assert (per_seq == 1).all() and set(frame["mode"]) == {"high", "low"}  # labels drawn uniformly, not real windows
    with pytest.raises(TsganError, match="a DP run keeps no real condition records"):
        _fit_cond(conditioned, dp_noise=1.0, keep_conditions=1)


def test_privacy_checks_the_condition_columns_and_says_what_the_run_keeps(conditioned):
    kept = _fit_cond(conditioned, "load")
    assert kept.condition_bank_ is not None
    p = kept.privacy()
    assert p["conditions"]["per_step"] and p["conditions"]["exact_copy_share"] > 0.9  # the bank replays real windows
    assert any("real condition records" in k for k in p["kept_real"])
    from tsgan.privacy import summary_lines

    assert any("carry a real training window's conditions exactly" in line and "keep_conditions=0" in line for line in summary_lines(p))
    none = _fit_cond(conditioned, "load", keep_conditions=0)
    with pytest.raises(TsganError, match="keeps no real condition records .*pass the conditions"):
        none.sample(3)
    q = none.privacy()
    assert p["conditions"]["verdict"] == "fail" and p["conditions"]["exact_copy_share"] - p["conditions"]["holdout_match_share"] > 0.2
    assert none.condition_bank_ is None and q["conditions"]["verdict"] == "pass"


def test_resume_and_privacy_refuse_other_data(tmp_path, csv_path, wide_frame, monkeypatch):
    from tsgan.training import callbacks

    monkeypatch.setattr(callbacks.Interrupt, "stop_reason", lambda self, run: "interrupted" if run.step >= 2 else None)
    syn = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=6).fit(csv_path)
    syn.save(tmp_path / "run")
    other = wide_frame.assign(a=wide_frame["a"] + 1e-3)  # same shape and columns, other values
    other_path = tmp_path / "other.csv"
    other.to_csv(other_path, index=False)
    with pytest.raises(TsganError, match="not the run's training data .*fingerprint differs"):
        tsgan.load(tmp_path / "run").resume(other_path)
    with pytest.raises(TsganError, match="not the run's training data .*edited after the fit"):
        tsgan.load(tmp_path / "run").privacy(other_path)


def test_copies_are_counted_against_every_training_window():
    from tsgan.privacy import privacy_metrics

    rng = np.random.default_rng(0)
    train, holdout = rng.random((3000, 6, 2)).astype(np.float32), rng.random((200, 6, 2)).astype(np.float32)
    p = privacy_metrics(train, holdout, train[rng.permutation(3000)[:1000]].copy(), seed=0)
    assert p["exact_copy_share"] == 1.0 and p["copies_checked_against"] == 3000  # not the 200-window subsample's ~7 %


def test_tiny_holdouts_get_no_confident_verdict():
    from tsgan.privacy import SUMMARY, privacy_metrics

    rng = np.random.default_rng(1)
    p = privacy_metrics(rng.random((40, 6, 2)), rng.random((20, 6, 2)), rng.random((40, 6, 2)), seed=0)
    assert set(p["verdicts"].values()) == {"insufficient"} and "at least 50" in p["note"]
    assert SUMMARY["insufficient"] == "not enough data to judge"


@pytest.fixture
def saved_run(tmp_path, wide_frame):
    tsgan.Synthesizer(model="rcgan", seq_len=8, steps=2, hidden_g=8, hidden_d=8).fit(wide_frame).save(tmp_path / "run")
    return tmp_path / "run"


@pytest.mark.parametrize("damage, words", [
    (lambda r: (r / "model.pt").write_bytes((r / "model.pt").read_bytes()[:100]), "model.pt is damaged"),
    (lambda r: (r / "model.pt").write_bytes(b"\x80\x04garbage"), "model.pt is damaged"),
    (lambda r: (r / "tsgan.json").write_text((r / "tsgan.json").read_text()[:-40]), "tsgan.json is not valid JSON"),
    (lambda r: (r / "tsgan.json").write_text("[1, 2]"), "not a JSON object"),
    (lambda r: _edit_meta(r, lambda m: m["config"].update(hidden_g=10**9)), "hidden_g 1,000,000,000"),
    (lambda r: _edit_meta(r, lambda m: m["config"].update(hidden_g=60_000)), "its settings ask for"),  # counted, not allocated
    (lambda r: _edit_meta(r, lambda m: m["data"].update(seq_len=10**12)), "seq_len"),
    (lambda r: _edit_meta(r, lambda m: m.update(train="x")), "'train' is a str"),
    (lambda r: _edit_meta(r, lambda m: m.pop("config")), "KeyError"),
    (lambda r: (r / "history.csv").write_bytes(b"\xff\xfe\x00bad\x00\"unterminated"), "history.csv is damaged"),
    (lambda r: (r / "resume.pt").write_bytes(b"PK\x03\x04 truncated"), "resume.pt is damaged"),
])
def test_damaged_run_files_are_one_line_errors(saved_run, damage, words, monkeypatch, capsys):
    damage(saved_run)
    code, out, err = run_cli(["sample", saved_run, "-n", "2", "--out", saved_run / "s.csv"], monkeypatch, capsys)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err


def _edit_meta(run, change):
    meta = json.loads((run / "tsgan.json").read_text())
    change(meta)
    (run / "tsgan.json").write_text(json.dumps(meta))


def test_a_batch_larger_than_the_data_is_capped(wide_frame):
    from tsgan.errors import TsganWarning

    with pytest.warns(TsganWarning, match="batch_size 5000 is more than the"):
        syn = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=1, batch_size=5000).fit(wide_frame)
    assert syn.config_.batch_size == syn.spec_.n_windows


def test_sampling_streams_in_chunks_and_an_interrupted_write_leaves_nothing(saved_run, monkeypatch):
    from tsgan.data.kinds import KINDS

    syn = tsgan.load(saved_run)
    whole = syn.sample(10, seed=3)
    chunks = list(syn.stream(10, seed=3, chunk=4))
    assert [len(x) for x, _ in chunks] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in chunks]), syn.sample_scaled(10, seed=3))  # one stream, any chunking
    assert len(whole) == 10 * 8
    for suffix in (".csv", ".parquet", ".npy"):
        target = saved_run / f"s{suffix}"
        KINDS["sequence"].write(syn, target, 9000, seed=1)  # three chunks
        back = np.load(target) if suffix == ".npy" else (pd.read_csv(target) if suffix == ".csv" else pd.read_parquet(target))
        assert len(back) == (9000 if suffix == ".npy" else 9000 * 8)
        if suffix != ".npy":
            assert back["sequence_id"].iloc[-1] == 8999
    real_frame = KINDS["sequence"].frame
    calls = {"n": 0}

    def interrupted(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_frame(*a, **k)

    monkeypatch.setattr(KINDS["sequence"], "frame", interrupted)
    with pytest.raises(KeyboardInterrupt):
        KINDS["sequence"].write(syn, saved_run / "cut.csv", 9000, seed=1)
    assert not any(p.name.startswith((".cut", "cut")) for p in saved_run.iterdir())


def test_dollar_signs_in_column_names_plot_as_text():
    from tsgan.evaluate.figures import plot_figures

    x = np.random.default_rng(0).random((20, 6, 2)).astype(np.float32)
    figures = plot_figures(x, x[::-1].copy(), ["price $", "$x^$ rate"], None)  # unescaped, "$x^$" is bad mathtext: ValueError
    assert len(figures) >= 3


# ---------------------------------------------------------------- evaluate and privacy of synthetic files
@pytest.fixture
def copied(tmp_path):
    """A series, its first 300 rows as training and the rest held out, and a synthetic file of verbatim training windows."""
    rng = np.random.default_rng(0)
    t = np.arange(400)
    series = pd.DataFrame({"a": np.sin(t / 5) + rng.normal(0, 0.1, 400), "b": rng.normal(size=400)})
    series.iloc[:300].to_csv(tmp_path / "train.csv", index=False)
    series.iloc[300:].to_csv(tmp_path / "hold.csv", index=False)
    windows = [series.iloc[k : k + 8].assign(sequence_id=k, step=range(8)) for k in range(0, 290)]
    pd.concat(windows)[["sequence_id", "step", "a", "b"]].to_csv(tmp_path / "copy.csv", index=False)
    return tmp_path


def test_privacy_checks_a_synthetic_file_against_the_real_data(copied, monkeypatch, capsys):
    code, out, err = run_cli(["privacy", copied / "copy.csv", "--data", copied / "train.csv"], monkeypatch, capsys)
    assert code == 0 and "near copies 100.00% (exact 100.00%)" in out and "do not share" in out and "--holdout-data" in out
    code, out, err = run_cli(["privacy", copied / "copy.csv", "--data", copied / "train.csv", "--holdout-data", copied / "hold.csv",
                              "--out", copied / "p"], monkeypatch, capsys)
    assert code == 0 and "membership inference AUC 0.99" in out and (copied / "p" / "privacy.html").exists()
    code, out, err = run_cli(["privacy", copied / "copy.csv"], monkeypatch, capsys)
    assert code == 2 and "needs the real data it may leak" in err


def test_evaluate_flags_copies(copied, monkeypatch, capsys):
    code, out, err = run_cli(["evaluate", copied / "train.csv", copied / "copy.csv", "--out", copied / "ev", "--metrics", "marginal"],
                             monkeypatch, capsys)
    assert code == 0 and "warning: 100.0% of synthetic windows are near copies" in out
    assert "near copies" in (copied / "ev" / "report.html").read_text()
    assert json.loads((copied / "ev" / "metrics.json").read_text())["copies"]["exact_copy_share"] == 1.0


def test_repeated_scores_show_their_spread():
    import inspect

    from tsgan.evaluate.report import score_text
    from tsgan.evaluate.sequences import evaluate_arrays
    from tsgan_cli.main import evaluate

    assert score_text({"mean": 0.3, "std": 0.2, "values": [0.0, 0.44, 0.41]}) == "0.3000 ± 0.2000 (sd of 3 repeats; 0.000 to 0.440)"
    assert "no spread" in score_text({"mean": 0.3, "std": None, "values": [0.3]})
    assert inspect.signature(evaluate_arrays).parameters["reps"].default == 3
    assert inspect.signature(evaluate).parameters["reps"].default.default == 3  # --reps


def test_file_system_errors_are_one_line(saved_run, monkeypatch, capsys):
    from tsgan.data import kinds

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied", str(saved_run / "s.csv"))

    monkeypatch.setattr(kinds.FrameWriter, "write", refuse)
    code, out, err = run_cli(["sample", saved_run, "-n", "2", "--out", saved_run / "s.csv"], monkeypatch, capsys)
    assert code == 1 and "Permission denied" in err and len(err.strip().splitlines()) == 1
    assert not (saved_run / "s.csv").exists()
    code, out, err = run_cli(["sample", saved_run, "-n", str(10**13), "--out", saved_run / "big.npy"], monkeypatch, capsys)
    assert code == 2 and "GB free: lower -n" in err


def test_evaluate_of_a_damaged_run_and_a_damaged_embedding_cache(saved_run, tmp_path, monkeypatch, capsys, csv_path):
    (saved_run / "tsgan.json").write_text("{not json")
    code, out, err = run_cli(["evaluate", csv_path, saved_run, "--out", tmp_path / "ev"], monkeypatch, capsys)
    assert code == 2 and "tsgan.json is not valid JSON" in err and len(err.strip().splitlines()) == 1
    from tsgan.metrics.embedding import EncoderConfig, embedding_for, fingerprint

    x = np.random.default_rng(0).random((40, 6, 2)).astype(np.float32)
    config = EncoderConfig(steps=2)
    entry = tmp_path / "cache" / fingerprint(x, config)[:16]
    entry.mkdir(parents=True)
    (entry / "encoder.json").write_text("{}")  # damaged: refitted, not a traceback
    assert embedding_for(x, tmp_path / "cache", config).fingerprint == fingerprint(x, config)


def test_day_first_dates_are_read_day_first_and_said():
    dates = pd.date_range("2023-01-01", periods=40, freq="D")
    df = pd.DataFrame({"Datum": dates.strftime("%d.%m.%Y"), "x": np.arange(40.0) ** 0.5})
    s = _series(df.sample(frac=1.0, random_state=0))  # shuffled: the order comes from the dates alone
    assert s.spec.time_column == "Datum" and (np.diff(s.base[:, 0]) > 0).all()
    assert any("read day first ('" in n for n in s.spec.notes) and any("holds dates" in n for n in s.spec.notes)
