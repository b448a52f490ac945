"""TimeGAN speed at the paper's sizes: seconds per step of each phase, per joint step,
and for sampling 2,000 sequences; peak memory of a fit. CPU, and CUDA when present.

    python bench/speed.py                    # Sines 2000 x 24 x 5, hidden 24, 3 GRU layers, batch 128
    python bench/speed.py --steps 30 --threads 2
    python bench/speed.py --plain            # also time nn.GRU in the same run (the ratio)

Prints medians over ``--steps`` timed steps (after warm-up) and writes
bench/results/speed.json. A joint step = 2 x (generator+supervisor update,
embedder+recovery update) + the gated discriminator update, as in the paper's code.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

import torch

from tsgan.data import Windows, sines_array
from tsgan.models.timegan import TimeGAN, TimeGANConfig
from tsgan.torch_utils import keep_freed_memory
from tsgan.training import Batch

HERE = Path(__file__).resolve().parent


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_phases(device: torch.device, steps: int, warmup: int = 5) -> dict:
    keep_freed_memory()  # as tsgan.train.train does
    torch.manual_seed(0)
    x = sines_array(2000, 24, 5, seed=0)
    model = TimeGAN(TimeGANConfig(), 5, 24).to(device)
    sampler = Windows.from_array(x).to(device)
    rng = torch.Generator(device=device).manual_seed(0)
    opts = model.optimizers()
    out = {}
    for phase in model.schedule():
        times = []
        for i in range(warmup + steps):
            sync(device)
            t = time.perf_counter()
            x = None
            for upd in phase.updates:
                for _ in range(upd.repeat):
                    if not (upd.same_batch and x is not None):
                        x = sampler.batch(128, rng)
                    res = upd.loss(Batch(x, rng))
                    if res is None:
                        continue
                    loss = res[0] if isinstance(res, tuple) else res
                    opts[upd.optimizer].zero_grad(set_to_none=True)
                    loss.backward()
                    opts[upd.optimizer].step()
            sync(device)
            if i >= warmup:
                times.append(time.perf_counter() - t)
        out[f"{phase.name}_step_s"] = statistics.median(times)
    model.eval()
    times = []
    with torch.no_grad():
        for i in range(warmup + steps):
            sync(device)
            t = time.perf_counter()
            model.generate(2000, rng)
            sync(device)
            if i >= warmup:
                times.append(time.perf_counter() - t)
    out["sample_2000_s"] = statistics.median(times)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", type=Path, default=HERE / "results" / "speed.json")
    p.add_argument("--plain", action="store_true", help="also time PyTorch's nn.GRU (no fused kernel) on the CPU")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, threads {torch.get_num_threads()}",
        "targets": {"joint_step_s": 0.06, "sample_2000_s": 0.05, "peak_rss_mib": 500},
    }
    for dev in devices:
        result[dev.type] = time_phases(dev, a.steps)
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    rows = [(d.type, d.type) for d in devices]
    if a.plain:  # the same steps through nn.GRU, after the fused run (peak RSS above is the fused run's)
        from tsgan.models.layers import plain_rnns

        with plain_rnns():
            result["cpu-nn.GRU"] = time_phases(torch.device("cpu"), a.steps)
        result["cpu_speedup"] = {k: round(result["cpu-nn.GRU"][k] / result["cpu"][k], 2) for k in result["cpu"]}
        rows.append(("nn.GRU", "cpu-nn.GRU"))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2))
    print(f"{'device':7} {'embedding':>10} {'supervised':>11} {'joint':>8} {'sample 2000':>12}")
    for name, key in rows:
        r = result[key]
        print(f"{name:7} {r['embedding_step_s']:10.4f} {r['supervised_step_s']:11.4f} {r['joint_step_s']:8.4f} {r['sample_2000_s']:12.4f}")
    print(f"peak RSS {result['peak_rss_mib']} MiB; {result['machine']}; written to {a.out}")


if __name__ == "__main__":
    main()
