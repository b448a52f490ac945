"""Training on two processes (gloo on the CPU), as torchrun starts them (issue #37)."""

import json
import os
import socket
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp

import tsgan
from conftest import SMALL

HERE = Path(__file__).resolve().parent

# each case: model, its data, fit keywords; one process pair trains them all in turn
CASES = {
    "rcgan-wgan-gp": ("rcgan", "sines", {"seq_len": 8, "objective": "wgan-gp", **SMALL["rcgan"]}),
    "timegan": ("timegan", "sines", {"seq_len": 8, "num_layers": 1, **SMALL["timegan"]}),
    "crnngan": ("crnngan", "sines", {"seq_len": 8, **SMALL["crnngan"]}),
    "doppelganger-entities": ("doppelganger", "stays", SMALL["doppelganger"]),
    "ctgan": ("ctgan", "table", {"batch_size": 20}),  # 10 per process: CTGAN's packs of 10
    "rcgan-conditional-infogan": ("rcgan", "bands", {"seq_len": 8, "info_categories": 3, **SMALL["rcgan"]}),
}


def _data(name):
    from tsgan.data import sines

    if name == "sines":
        return sines(n=40, seq_len=8, dim=2, seed=0), {"id_column": "sequence_id", "time_column": "step"}
    if name == "stays":
        sys.path.insert(0, str(HERE))
        from test_entities import stays

        return stays(30), {"id_column": "stay_id", "time_column": "ts"}
    if name == "bands":  # windows conditioned on a label, with an InfoGAN code
        frame = sines(n=40, seq_len=8, dim=2, seed=0)
        frame["band"] = np.where(frame["sequence_id"] % 2 == 0, "low", "high")
        return frame, {"id_column": "sequence_id", "time_column": "step", "condition_columns": ["band"]}
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)}), {}


def _worker(rank: int, port: int, out: str, device: str = "cpu", cases: list | None = None) -> None:
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    torch.distributed.init_process_group("nccl" if device == "cuda" else "gloo")  # the caller's group (the Python API's way)
    report = {}
    for case in cases or CASES:
        model, data_name, kw = CASES[case]
        data, roles = _data(data_name)
        syn = tsgan.Synthesizer(model=model, steps=4, seed=0, device=device, **{"batch_size": 8, **kw}).fit(data, **roles)
        flat = torch.cat([p.detach().reshape(-1).float() for p in syn.module_.parameters()]).to(f"cuda:{rank}" if device == "cuda" else "cpu")
        both = [torch.zeros_like(flat) for _ in range(2)]
        torch.distributed.all_gather(both, flat)
        run = Path(out) / case
        syn.save(run)  # rank 0 writes; rank 1's call writes nothing
        torch.distributed.barrier()
        report[case] = {"identical": bool(torch.equal(both[0], both[1])), "info": syn.train_info_.get("distributed"),
                        "steps": syn.train_info_["steps"], "saved": run.exists()}
    if cases is None:  # a run stopped by the clock, saved by rank 0, resumed by both
        data, roles = _data("sines")
        kw = {"seq_len": 8, **SMALL["rcgan"]}
        cut = tsgan.Synthesizer(model="rcgan", steps=30, max_minutes=1e-4, batch_size=8, seed=0, **kw).fit(data, **roles)
        cut.save(Path(out) / "cut")
        torch.distributed.barrier()
        again = tsgan.load(Path(out) / "cut").resume(data)
        report["resume"] = {"cut": cut.train_info_["steps"], "stopped": cut.train_info_["stopped"], "steps": again.train_info_["steps"],
                            "gap": again.train_info_["distributed"]["max_weight_gap"]}
    Path(out, f"rank{rank}.json").write_text(json.dumps(report))
    torch.distributed.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    mp.start_processes(_worker, args=(_free_port(), str(out)), nprocs=2, join=True, start_method="spawn")
    return out, [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


@pytest.mark.parametrize("case", list(CASES))
def test_two_processes_keep_identical_weights_and_save_once(two_ranks, case):
    out, (r0, r1) = two_ranks
    assert r0[case]["identical"] and r1[case]["identical"]
    batch = CASES[case][2].get("batch_size", 8)
    assert r0[case]["info"] == {"world_size": 2, "backend": "gloo", "global_batch": batch, "per_process_batch": batch // 2,
                                "max_weight_gap": 0.0}  # identical after every update, before any final broadcast
    assert r0[case]["steps"] == r1[case]["steps"] == 4
    run = out / case
    assert (run / "tsgan.json").exists()
    assert json.loads((run / "tsgan.json").read_text())["train"]["distributed"]["world_size"] == 2
    back = tsgan.load(run)  # one process loads and samples what two trained
    assert len(back.sample(3, seed=0)) > 0


def test_one_process_is_unchanged_and_the_global_batch_must_divide(monkeypatch):
    from tsgan.training.distributed import World, per_rank_batch, world

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert world() == World() and not world().active
    assert per_rank_batch(64, World(0, 2, 0, "gloo")) == 32
    with pytest.raises(tsgan.TsganError, match="--batch-size 10 is the global batch: it must divide among the 4 processes"):
        per_rank_batch(10, World(0, 4, 0, "gloo"))


def test_a_run_stopped_under_two_processes_resumes_under_two(two_ranks):
    _, (r0, r1) = two_ranks
    assert r0["resume"] == r1["resume"]  # both stopped at the same step
    assert r0["resume"]["stopped"] == "time" and r0["resume"]["cut"] < 30
    assert r0["resume"]["steps"] == 30 and r0["resume"]["gap"] == 0.0


def test_dp_is_refused_under_several_processes(monkeypatch):
    from tsgan.data import sines
    from tsgan.training import distributed

    monkeypatch.setattr(distributed, "world", lambda device=None: distributed.World(0, 2, 0, "gloo"))
    with pytest.raises(tsgan.TsganError, match="DP-SGD is not accounted across processes yet: run a private fit in one process"):
        tsgan.Synthesizer(model="rcgan", seq_len=8, steps=2, dp_epsilon=1.0, objective="wgan").fit(
            sines(n=20, seq_len=8, dim=2, seed=0), id_column="sequence_id", time_column="step")


def test_torchrun_runs_the_cli_on_two_processes(tmp_path):
    import shutil
    import subprocess

    if shutil.which("torchrun") is None or shutil.which("tsgan") is None:
        pytest.skip("torchrun or the tsgan command is not on PATH")
    run = tmp_path / "run"
    proc = subprocess.run(["torchrun", "--nproc-per-node", "2", "--master-port", str(_free_port()), "--no-python", "tsgan", "fit", "sines",
                           "--model", "rcgan", "--steps", "4", "--param", "batch_size=16", "--param", "hidden_g=8", "--param", "hidden_d=8",
                           "--out", str(run), "-q"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("run saved to") == 1  # rank 0 alone prints
    assert "2 processes (gloo): global batch 16 = 2 x 8" in proc.stdout
    info = json.loads((run / "tsgan.json").read_text())["train"]["distributed"]
    assert info["world_size"] == 2 and info["max_weight_gap"] == 0.0


def test_each_process_moves_only_its_share_to_the_device():
    # windows: consecutive blocks, each over the rows it covers; together every window
    # once. Entities: consecutive blocks. Tables: every size-th row (categories keep
    # their shares in each process's rows).
    from tsgan.data.entity_kind import EntityData
    from tsgan.data.images import ArrayData
    from tsgan.data.windows import Windows

    base = np.arange(200, dtype=np.float32)[:, None].repeat(3, 1)
    w = Windows.from_lengths(base, [120, 80], seq_len=10)
    parts = [w.shard(r, 2) for r in range(2)]
    assert sum(len(p) for p in parts) == len(w)
    got = np.concatenate([p.array()[:, 0, 0] for p in parts])
    np.testing.assert_array_equal(np.sort(got), np.sort(w.array()[:, 0, 0]))
    assert all(len(p.base) < 0.6 * len(base) for p in parts)  # a share's rows, not the whole base
    assert all(np.shares_memory(p.base, w.base) for p in parts)  # views on the host
    e = EntityData(np.arange(10.0)[:, None], np.zeros((10, 4, 2)), np.ones((10, 4)))
    assert [e.shard(r, 3).static[:, 0].tolist() for r in range(3)] == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    a = ArrayData(np.arange(10.0)[:, None])
    assert a.shard(1, 2).x[:, 0].tolist() == [1, 3, 5, 7, 9]
    with pytest.raises(tsgan.TsganError, match="cannot be shared among 20 processes"):
        e.shard(0, 20)
