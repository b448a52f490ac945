"""C-RNN-GAN: Continuous recurrent neural networks with adversarial training.

Mogren, "C-RNN-GAN: Continuous recurrent neural networks with adversarial
training", NIPS Constructive Machine Learning workshop 2016, and its released code.

Generator: a stack of LSTM cells; the input at each step is uniform noise
concatenated with the generator's own previous output, through a ReLU input layer.
Discriminator: a bidirectional LSTM stack that scores every step; the decision is
the average over steps (section 3). Optional feature matching (section 3, after
Salimans et al. 2016): the generator matches the batch-mean of the discriminator's
last LSTM layer on real data instead of fooling it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..config import param
from ..objectives import OBJECTIVES
from ..train import Batch
from ..errors import TsganError
from .base import ObjectiveConfig, RecurrentGAN, rnn
from .layers import Dropout


@dataclass
class CRNNGANConfig(ObjectiveConfig):
    hidden: int = param(350, "LSTM units per layer in generator and discriminator (paper: 350)")
    num_layers: int = param(2, "LSTM layers (paper: 2)")
    batch_size: int = param(20, "windows per batch (paper: 20)")
    lr: float = param(0.1, "learning rate, plain gradient descent (paper: 0.1)")
    dropout: float = param(0.5, "dropout on the discriminator's inputs and between layers (paper: keep 0.5)")
    feature_matching: bool = param(False, "train the generator by feature matching (paper: optional)")
    objective: str = param("minimax", "adversarial objective (paper: minimax, D averaged over steps)", choices=tuple(OBJECTIVES))


class Generator(nn.Module):
    def __init__(self, c: CRNNGANConfig, n_features: int, extra: int = 0):
        super().__init__()
        self.input = nn.Linear(2 * n_features + extra, c.hidden)  # [noise_t (+ conditions/codes), x_{t-1}] -> hidden, ReLU
        self.cells = nn.ModuleList(nn.LSTMCell(c.hidden, c.hidden) for _ in range(c.num_layers))
        self.out = nn.Linear(c.hidden, n_features)
        self.n_features = n_features

    def forward(self, z: Tensor) -> Tensor:  # (B, T, F + extra) noise -> (B, T, F) in [0, 1]
        b, t, f = z.shape[0], z.shape[1], self.n_features
        state = [(z.new_zeros(b, cell.hidden_size), z.new_zeros(b, cell.hidden_size)) for cell in self.cells]
        prev = z.new_zeros(b, f)
        outs = []
        for step in range(t):
            h = torch.relu(self.input(torch.cat([z[:, step], prev], dim=1)))
            for k, cell in enumerate(self.cells):
                state[k] = cell(h, state[k])
                h = state[k][0]
            prev = torch.sigmoid(self.out(h))  # fed back at the next step
            outs.append(prev)
        return torch.stack(outs, dim=1)


class Discriminator(nn.Module):
    def __init__(self, c: CRNNGANConfig, n_inputs: int):
        super().__init__()
        self.drop = Dropout(c.dropout)
        self.rnn = rnn(
            "lstm", n_inputs, c.hidden, c.num_layers, bidirectional=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0, dp=c.dp_layers,
        )
        self.out = nn.Linear(2 * c.hidden, 1)

    def features(self, x: Tensor) -> Tensor:  # (B, T, F + C) -> (B, T, 2 * hidden)
        h, _ = self.rnn(self.drop(x))
        return h

    def forward(self, x: Tensor) -> Tensor:  # (B, T) one logit per step; losses average over steps
        return self.out(self.features(x)).squeeze(-1)


class CRNNGAN(RecurrentGAN):
    config_cls = CRNNGANConfig
    paper = "Mogren 2016, C-RNN-GAN: Continuous recurrent neural networks with adversarial training"

    def __init__(self, config: CRNNGANConfig, n_features: int, seq_len: int, cond_dim: int = 0):
        super().__init__(config, n_features, seq_len, cond_dim)
        extra = cond_dim + config.info_categories + config.info_continuous
        self.generator = Generator(config, n_features, extra)
        self.discriminator = Discriminator(config, n_features + cond_dim)
        self.init_adversary(2 * config.hidden)

    def noise(self, n: int, rng: torch.Generator) -> Tensor:
        # U(0, 1) noise with the data's dimension at every step (released code)
        return torch.rand(n, self.seq_len, self.n_features, generator=rng, device=rng.device)

    def g_loss(self, batch: Batch):
        if not self.config.feature_matching:
            return super().g_loss(batch)
        # || E f(x) - E f(G(z)) ||^2 over the discriminator's last layer, per step
        fake, codes = self.fake(batch)
        features = lambda v: self.discriminator.features(self.controls.critic_input(v, batch.cond))  # noqa: E731
        real_f = features(batch.x).mean(0).detach()
        loss = ((features(fake).mean(0) - real_f) ** 2).sum(-1).mean()
        return self.with_info(loss, {}, fake, batch.cond, codes)

    def dp_targets(self):
        if self.config.feature_matching:
            raise TsganError("feature matching reads real data in the generator's loss: pass --param feature_matching=false with DP")
        return super().dp_targets()

    def model_optimizers(self, d_params, g_params):
        lr = self.config.lr
        return {"d": torch.optim.SGD(d_params, lr=lr), "g": torch.optim.SGD(g_params, lr=lr)}
