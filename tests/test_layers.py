import pytest
import torch
from torch import nn

from tsgan.models.layers import gru_wavefront, run_rnn


@pytest.mark.parametrize("layers,t", [(1, 5), (2, 7), (3, 24), (4, 2)])
def test_gru_wavefront_equals_nn_gru(layers, t):
    torch.manual_seed(0)
    gru = nn.GRU(5, 8, num_layers=layers, batch_first=True)
    x = torch.randn(6, t, 5)
    with torch.no_grad():
        torch.testing.assert_close(gru_wavefront(gru, x), gru(x)[0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(run_rnn(gru, x), gru(x)[0], rtol=1e-5, atol=1e-6)
    # with gradients the module's own path is used
    assert run_rnn(gru, x).grad_fn is not None
