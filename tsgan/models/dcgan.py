"""DCGAN: Deep Convolutional GAN.

Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks", ICLR 2016 (arXiv:1511.06434).

Section 3's guidelines: strided (transposed) convolutions instead of pooling,
batch norm in both networks (not on the generator output or the discriminator
input), no hidden fully connected layers beyond the projection of z, ReLU in the
generator with a tanh output, LeakyReLU (0.2) in the discriminator. Section 4:
z ~ U(-1, 1) of 100 dimensions, weights ~ N(0, 0.02), Adam lr 0.0002, beta1 0.5,
batch 128.

Images ``(B, C, S, S)`` live in [0, 1] in tsgan (the tanh output is mapped by
``(t + 1) / 2``, an affine change the first critic layer absorbs). Any side from 8
to 64: the networks work at the next size ``4 * 2^m`` and resize at the ends.
Conditions (conditional GAN) are extra inputs of z and constant extra channels of
the critic's input; InfoGAN's Q head reads the critic's last features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import param
from ..errors import TsganError
from ..objectives import OBJECTIVES
from ..torch_utils import adam
from .base import ObjectiveConfig, TwoPlayerGAN


@dataclass
class DCGANConfig(ObjectiveConfig):
    latent_dim: int = param(100, "dimensions of z ~ U(-1, 1) (paper: 100)", within="[1, inf)")
    width: int = param(64, "feature maps of the generator's last and the critic's first layer, doubling per layer (paper: 128 at 64x64)", within="[1, inf)")
    batch_size: int = param(128, "images per batch (paper: 128)", within="[1, inf)")
    lr: float = param(2e-4, "Adam learning rate of both networks (paper: 0.0002)", within="(0, inf)")
    beta1: float = param(0.5, "Adam beta1 (paper: 0.5)", within="[0, 1)")
    critic_norm: str = param(
        "batch", "normalisation in the critic: batch (paper), layer or none; gradient-penalty objectives use layer (WGAN-GP, section 4)",
        choices=("batch", "layer", "none"),
    )
    objective: str = param("nonsaturating", "adversarial objective (paper: the GAN objective, non-saturating)", choices=tuple(OBJECTIVES))


def _norm(kind: str, channels: int) -> nn.Module:
    return {"batch": lambda: nn.BatchNorm2d(channels), "layer": lambda: nn.GroupNorm(1, channels), "none": nn.Identity}[kind]()


class Generator(nn.Module):
    def __init__(self, c: DCGANConfig, channels: int, size: int, extra: int):
        super().__init__()
        self.m = max(1, math.ceil(math.log2(size / 4)))  # upsamplings from 4x4
        self.size = size
        widths = [c.width * 2 ** (self.m - 1 - i) for i in range(self.m)]  # e.g. 256, 128, 64
        self.project = nn.Linear(c.latent_dim + extra, widths[0] * 16)  # z -> (w0, 4, 4)
        self.bn0 = nn.BatchNorm2d(widths[0])
        layers = []
        for i in range(self.m):
            last = i == self.m - 1
            out = channels if last else widths[i + 1]
            layers.append(nn.ConvTranspose2d(widths[i], out, 4, 2, 1, bias=last))  # doubles the side
            if not last:
                layers += [nn.BatchNorm2d(out), nn.ReLU(True)]
        self.net = nn.Sequential(*layers)
        self.w0 = widths[0]

    def forward(self, z: Tensor) -> Tensor:  # (B, Z + extra) -> (B, C, S, S) in [0, 1]
        h = F.relu(self.bn0(self.project(z).view(-1, self.w0, 4, 4)))
        x = torch.tanh(self.net(h))
        if x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return (x + 1) / 2


class Discriminator(nn.Module):
    def __init__(self, c: DCGANConfig, in_channels: int, size: int, norm: str):
        super().__init__()
        self.m = max(1, math.ceil(math.log2(size / 4)))
        self.work = 4 * 2**self.m
        layers: list[nn.Module] = [nn.Conv2d(in_channels, c.width, 4, 2, 1), nn.LeakyReLU(0.2)]  # no norm on the input layer
        ch = c.width
        for _ in range(self.m - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), _norm(norm, ch * 2), nn.LeakyReLU(0.2)]
            ch *= 2
        self.net = nn.Sequential(*layers)
        self.feature_dim = ch * 16
        self.out = nn.Linear(self.feature_dim, 1)

    def features(self, x: Tensor) -> Tensor:  # (B, C + cond, S, S) -> (B, ch * 16)
        if x.shape[-1] != self.work:
            x = F.interpolate(x, size=(self.work, self.work), mode="bilinear", align_corners=False)
        return self.net(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:  # (B, C + cond, S, S) -> (B,) logits
        return self.out(self.features(x)).squeeze(-1)


class DCGAN(TwoPlayerGAN):
    config_cls = DCGANConfig
    kind = "image"
    paper = "Radford, Metz & Chintala 2016, Deep Convolutional GANs"
    recipes = {"paper": {"steps": 3000}, "tuned": {"steps": 3000}}  # no setting measured better than the paper's

    def __init__(self, config: DCGANConfig, channels: int, size: int, cond_dim: int = 0):
        super().__init__()
        self.config, self.channels, self.size, self.cond_dim = config, channels, size, cond_dim
        extra = cond_dim + config.info_categories + config.info_continuous
        # WGAN-GP's penalty is per sample; batch norm couples samples, so its critic uses layer norm
        norm = "layer" if OBJECTIVES[config.objective].gradient_penalty and config.critic_norm == "batch" else config.critic_norm
        self.critic_norm = norm
        self.generator = Generator(config, channels, size, extra)
        self.discriminator = Discriminator(config, channels + cond_dim, size, norm)
        self.apply(_init_weights)
        self.init_adversary(self.discriminator.feature_dim)

    def noise(self, n: int, rng: torch.Generator) -> Tensor:
        return torch.rand(n, self.config.latent_dim, generator=rng, device=rng.device).to(self.device) * 2 - 1  # U(-1, 1)

    def dp_targets(self):
        if self.critic_norm == "batch":
            raise TsganError("batch norm mixes samples, which DP-SGD cannot clip per sample: pass --param critic_norm=layer with DP")
        return super().dp_targets()

    def model_optimizers(self, d_params, g_params):
        c = self.config
        return {
            "d": adam(d_params, lr=c.lr, betas=(c.beta1, 0.999)),
            "g": adam(g_params, lr=c.lr, betas=(c.beta1, 0.999)),
        }


def _init_weights(m: nn.Module) -> None:
    """Section 4: all weights from N(0, 0.02); batch-norm scales from N(1, 0.02)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
