"""Every objective trains every adversarial model without NaN; objectives change only loss terms."""

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

import tsgan
from tsgan import MODELS
from tsgan.models import models_of_kind
from tsgan.data import sines
from tsgan.objectives import OBJECTIVES, r1_penalty
from tsgan.training import Batch
from conftest import SMALL



@pytest.fixture(scope="module")
def frame():
    return sines(n=30, seq_len=8, dim=2, seed=0)


@pytest.mark.parametrize("objective", list(OBJECTIVES))
@pytest.mark.parametrize("model", models_of_kind("sequence"))
def test_objective_trains_without_nan(model, objective, frame):
    syn = tsgan.Synthesizer(model=model, seq_len=8, steps=6, batch_size=8, objective=objective, **SMALL[model])
    syn.fit(frame, id_column="sequence_id", time_column="step")
    losses = syn.history_.filter(like="/loss")
    assert np.isfinite(losses.to_numpy(dtype=float)[~np.isnan(losses.to_numpy(dtype=float))]).all()
    assert np.isfinite(syn.sample_array(4, seed=0)).all()
    if objective == "wgan-gp":
        assert syn.history_.filter(like="/gp").notna().any().any()


@pytest.mark.parametrize("model", models_of_kind("sequence"))
def test_r1_penalty_enters_the_critic_loss(model, frame):
    # a fit with R1 logs the penalty; on one batch and one noise draw, the critic loss
    # with R1 is the loss without it plus the logged (positive) penalty
    syn = tsgan.Synthesizer(model=model, seq_len=8, steps=2, batch_size=8, r1_weight=5.0, **SMALL[model])
    syn.fit(frame, id_column="sequence_id", time_column="step")
    assert syn.history_.filter(like="/r1").notna().any().any()
    m = syn.module_
    critic = [u for p in m.schedule() for u in p.updates if u.optimizer in ("d", "discriminator")][-1]
    x = torch.rand(8, 8, 2, generator=torch.Generator().manual_seed(1))
    loss, logs = critic.loss(Batch(x, torch.Generator().manual_seed(0)))
    m.adversary.r1_weight = 0.0
    plain, plain_logs = critic.loss(Batch(x, torch.Generator().manual_seed(0)))
    assert "r1" not in plain_logs and logs["r1"].item() > 0
    assert loss.item() == pytest.approx(plain.item() + logs["r1"].item(), rel=1e-5)


def test_lazy_r1_applies_one_update_in_k_at_k_times_the_weight(frame):
    syn = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=1, batch_size=8, r1_weight=1.0, r1_every=4, **SMALL["rcgan"])
    syn.fit(frame, id_column="sequence_id", time_column="step")
    adv, rng = syn.module_.adversary, torch.Generator().manual_seed(0)
    assert sum(adv.r1_due(rng) for _ in range(4000)) == pytest.approx(1000, rel=0.1)
    x = torch.rand(8, 8, 2)
    full = r1_penalty(lambda v: syn.module_.critic(v), x, 4.0)
    adv.r1_due = lambda rng: True
    _, logs = adv.add_penalty(torch.zeros(()), x, x, rng)
    assert logs["r1"].item() == pytest.approx(full.item(), rel=1e-5)


def test_wgan_uses_paper_optimizer_and_clips(frame):
    syn = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=3, batch_size=8, objective="wgan", **SMALL["rcgan"])
    syn.fit(frame, id_column="sequence_id", time_column="step")
    opts = syn.module_.optimizers()
    assert type(opts["d"]).__name__ == "RMSprop" and opts["d"].defaults["lr"] == 5e-5
    assert syn.module_.schedule()[0].updates[0].repeat == 5
    assert max(p.abs().max().item() for p in syn.module_.discriminator.parameters()) <= 0.01 + 1e-9
    own = tsgan.Synthesizer(model="rcgan", seq_len=8, steps=2, batch_size=8, objective="wgan", objective_defaults=False, **SMALL["rcgan"])
    own.fit(frame, id_column="sequence_id", time_column="step")
    assert type(own.module_.optimizers()["d"]).__name__ == "SGD"


def test_no_model_branches_on_objective_names():
    names = set(OBJECTIVES)
    for path in (Path(tsgan.__file__).parent / "models").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                for c in [node.left, *node.comparators]:
                    assert not (isinstance(c, ast.Constant) and c.value in names), f"{path.name} compares with {c.value!r}"


def test_training_loop_never_names_a_model():
    for path in sorted((Path(tsgan.__file__).parent / "training").glob("*.py")):
        source = path.read_text().lower()
        for name in MODELS:
            assert name not in source, f"{path.name} names {name}"


def test_gradient_penalty_runs_with_cudnn_off_and_plain_rnns_on_cuda_inputs():
    # cuDNN RNNs and the fused GRU have no double backward: around the penalty (and
    # only there) the RNNs must run as PyTorch's own modules, with cuDNN off on CUDA
    import torch

    from tsgan.models import layers
    from tsgan.models.base import _double_backward_safe

    class OnCuda:  # stands in for a CUDA tensor on a machine without a GPU
        is_cuda = True

    before = torch.backends.cudnn.enabled
    with _double_backward_safe(OnCuda()):
        assert torch.backends.cudnn.enabled is False and layers._plain
    assert torch.backends.cudnn.enabled == before and not layers._plain
    with _double_backward_safe(torch.zeros(1)):  # CPU: plain RNNs, cuDNN left alone
        assert torch.backends.cudnn.enabled == before and layers._plain
