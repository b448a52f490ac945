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
