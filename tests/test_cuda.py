"""CUDA checks, skipped on machines without a GPU (CI has none; run them where one is lent).

cuDNN's RNNs have no double backward, so a gradient penalty through a recurrent critic
must run with cuDNN off (``_double_backward_safe``). These tests show the failure the
guard avoids, pin the penalty and its parameter gradients on CUDA to the CPU's, and
train every objective on every sequence model on the GPU.
"""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import tsgan
from tsgan.data import sines
from tsgan.models import MODELS, models_of_kind
from tsgan.objectives import OBJECTIVES
from conftest import SMALL

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def frame():
    return sines(n=30, seq_len=8, dim=2, seed=0)


def test_cudnn_rnn_alone_has_no_double_backward():
    # the failure the guard exists for: if this ever passes, cuDNN learnt double backward
    gru = nn.GRU(3, 4, batch_first=True).cuda()
    x = torch.randn(2, 5, 3, device="cuda", requires_grad=True)
    (g,) = torch.autograd.grad(gru(x)[0].sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        g.norm().backward()


@pytest.mark.parametrize("name", models_of_kind("sequence"))
def test_gradient_penalty_on_cuda_matches_cpu(name):
    # real == fake makes the interpolate x_hat = real whatever alpha is drawn, so the
    # penalty and its gradient in the critic's parameters are deterministic
    cls = MODELS[name]
    no_dropout = {"dropout": 0.0} if name == "crnngan" else {}  # C-RNN-GAN's critic drops inputs
    config = cls.config_cls(objective="wgan-gp", **SMALL[name], **no_dropout)
    torch.manual_seed(0)
    cpu = cls(config, 2, 8)
    gpu = copy.deepcopy(cpu).cuda()
    width = SMALL[name].get("hidden", 2)  # TimeGAN's critic reads the embedding
    x = torch.rand(16, cpu.critic_width) if name == "doppelganger" else torch.rand(16, 8, width if name == "timegan" else 2)  # DoppelGANger's critic reads whole entities flat

    def penalty(model, x):
        rng = torch.Generator(device=x.device).manual_seed(0)
        gp = model.adversary.add_penalty(torch.zeros((), device=x.device), x, x, rng)[0]
        model.zero_grad(set_to_none=True)
        gp.backward()
        grads = [p.grad for p in model.adversary.critic_params if p.grad is not None]
        return gp, grads

    gp_cpu, g_cpu = penalty(cpu, x)
    gp_gpu, g_gpu = penalty(gpu, x.cuda())
    assert gp_cpu.item() > 0 and len(g_cpu) == len(g_gpu) > 0
    torch.testing.assert_close(gp_gpu.cpu(), gp_cpu, rtol=1e-4, atol=1e-6)
    for a, b in zip(g_gpu, g_cpu):
        torch.testing.assert_close(a.cpu(), b, rtol=1e-3, atol=1e-5)
    assert torch.backends.cudnn.enabled  # the guard puts cuDNN back


@pytest.mark.parametrize("objective", list(OBJECTIVES))
@pytest.mark.parametrize("model", models_of_kind("sequence"))
def test_every_objective_trains_on_cuda(model, objective, frame):
    syn = tsgan.Synthesizer(model=model, seq_len=8, steps=6, batch_size=8, objective=objective, device="cuda", **SMALL[model])
    syn.fit(frame, id_column="sequence_id", time_column="step")
    assert syn.module_.device.type == "cuda" and syn.train_info_["device"].startswith("cuda")
    losses = syn.history_.filter(like="/loss").to_numpy(dtype=float)
    assert np.isfinite(losses[~np.isnan(losses)]).all()
    assert np.isfinite(syn.sample_array(4, seed=0)).all()
    if objective == "wgan-gp":
        gp = syn.history_.filter(like="/gp").to_numpy(dtype=float)
        assert np.isfinite(gp[~np.isnan(gp)]).all() and (~np.isnan(gp)).any()


@pytest.mark.parametrize("model", ["timegan", "rcgan", "ctgan"])
def test_a_seed_gives_the_same_samples_on_cpu_and_cuda(model, frame, tmp_path):
    # sampling draws its noise (and codes, conditions, Gumbel noise) on the CPU: a model
    # fitted on a GPU and loaded on a CPU gives the same samples, up to rounding
    if model == "ctgan":
        data, kw = pd.DataFrame({"x": np.linspace(0, 1, 60), "c": ["a", "b", "c"] * 20}), {"hidden": 8, "batch_size": 20}
    else:
        data, kw = frame, {"seq_len": 8, "batch_size": 8, **SMALL[model]}
    syn = tsgan.Synthesizer(model=model, steps=30, device="cuda", **kw)
    syn.fit(data, **({} if model == "ctgan" else {"id_column": "sequence_id", "time_column": "step"}))
    syn.save(tmp_path / "run")
    cpu = tsgan.load(tmp_path / "run")  # default device: CPU
    assert next(cpu.module_.parameters()).device.type == "cpu"
    gpu_noise = syn.module_.noise(6, torch.Generator().manual_seed(1))
    assert gpu_noise.device.type == "cuda"
    torch.testing.assert_close(gpu_noise.cpu(), cpu.module_.noise(6, torch.Generator().manual_seed(1)), rtol=0, atol=0)
    a, b = syn.sample_scaled(6, seed=1), cpu.sample_scaled(6, seed=1)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-3)
    again = tsgan.load(tmp_path / "run", device="cuda")
    np.testing.assert_array_equal(again.sample_scaled(6, seed=1), a)  # same device: bit for bit


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="NCCL needs a GPU per process: two GPUs")
def test_two_gpu_processes_train_identical_weights_with_nccl(tmp_path):
    # the 2-process test of test_distributed.py on NCCL, each process on its LOCAL_RANK GPU,
    # with a gradient penalty through a recurrent critic (cuDNN off inside the penalty)
    import json

    import torch.multiprocessing as mp
    from test_distributed import _free_port, _worker

    cases = ["rcgan-wgan-gp", "timegan"]
    mp.start_processes(_worker, args=(_free_port(), str(tmp_path), "cuda", cases), nprocs=2, join=True, start_method="spawn")
    for rank in range(2):
        report = json.loads((tmp_path / f"rank{rank}.json").read_text())
        for case in cases:
            assert report[case]["identical"] and report[case]["info"]["backend"] == "nccl"
            assert report[case]["info"]["max_weight_gap"] == 0.0
