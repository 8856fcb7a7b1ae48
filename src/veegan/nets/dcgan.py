"""DCGAN networks for images (Radford et al. 2016), as the paper uses them (Section 5.2,
Appendix C): the generator of the DCGAN-tensorflow implementation the paper cites, for all
methods; its discriminator's convolutions, for GAN, Unrolled GAN and PacGAN on their own and,
flattened and joined with z, inside the joint discriminator of Table 3 for VEEGAN and ALI.

All convolutions are 5 x 5 with stride 2 and "same" output sizes, so a side s becomes
ceil(s / 2) (28 -> 14 -> 7 -> 4 -> 2, 32 -> 16 -> 8 -> 4 -> 2, 64 -> 32 -> 16 -> 8 -> 4), and the
generator retraces those sides exactly. The padding is symmetric (2 on each side), where
TensorFlow pads even sides 1 before and 2 after: the sizes match DCGAN-tensorflow, the pixel
alignment of the feature maps is shifted by one. ``width`` is DCGAN's base number of channels (64 in the paper).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..training import distributed

KERNEL = 5
LEAK = 0.2  # the slope of DCGAN's leaky ReLU
BATCH_NORM_MOMENTUM = 0.1  # PyTorch's convention for TensorFlow's decay 0.9
N_STAGES = 4  # stride-2 stages between the image and the smallest feature map


def feature_sides(side: int) -> list[int]:
    """The side of the image and of each feature map after it: [s, ceil(s/2), ...]."""
    sides = [side]
    for _ in range(N_STAGES):
        sides.append(math.ceil(sides[-1] / 2))
    return sides


def same_transposed(in_channels: int, out_channels: int, small: int, large: int) -> nn.ConvTranspose2d:
    """A 5 x 5 stride-2 transposed convolution from a ``small`` to a ``large`` side, the inverse
    of TensorFlow's "same" convolution (large = 2 small or 2 small - 1)."""
    return nn.ConvTranspose2d(in_channels, out_channels, KERNEL, stride=2, padding=KERNEL // 2,
                              output_padding=large - (2 * small - 1))


def same_conv(in_channels: int, out_channels: int) -> nn.Conv2d:
    """A 5 x 5 stride-2 convolution with TensorFlow's "same" output side, ceil(s / 2)."""
    return nn.Conv2d(in_channels, out_channels, KERNEL, stride=2, padding=KERNEL // 2)


def stage_channels(width: int) -> list[int]:
    """Channels of the four stages from the image side inwards: w, 2w, 4w, 8w."""
    return [width * 2**i for i in range(N_STAGES)]


class ImageGenerator(nn.Module):
    """What the DCGAN generators share: G(z, eps) = net(project([z, eps]) as a ``start``-shaped
    map), for square images. ``eps`` is the same extra noise input as the MLP generator's
    (``noise_dim`` 0: none). A subclass builds ``project``, ``start`` and ``net``."""

    project: nn.Module
    net: nn.Module
    start: tuple[int, int, int]

    def __init__(self, latent_dim: int, noise_dim: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        _, height, side = image_shape
        if height != side:
            raise ValueError(f"DCGAN networks need square images, got {height} x {side}")
        self.latent_dim, self.noise_dim, self.image_shape = latent_dim, noise_dim, image_shape

    def forward(self, z: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        z = with_noise(z, noise, self.noise_dim)
        return self.net(self.project(z).view(len(z), *self.start))


class DcganGenerator(ImageGenerator):
    """G: [z, eps] -> image in [-1, 1]. A linear layer to an 8w x s/16 x s/16 map, then four
    5 x 5 stride-2 transposed convolutions (batch norm and ReLU between, tanh at the end)."""

    def __init__(self, latent_dim: int, noise_dim: int, image_shape: tuple[int, int, int], width: int) -> None:
        super().__init__(latent_dim, noise_dim, image_shape)
        channels, _, side = image_shape
        sides, widths = feature_sides(side), stage_channels(width)
        self.start = (widths[-1], sides[-1], sides[-1])
        self.project = nn.Linear(latent_dim + noise_dim, widths[-1] * sides[-1] ** 2)
        layers: list[nn.Module] = [nn.BatchNorm2d(widths[-1], momentum=BATCH_NORM_MOMENTUM), nn.ReLU()]
        outs = [channels] + widths[:-1]  # the output channels of each transposed convolution, image side first
        for stage in range(N_STAGES - 1, -1, -1):
            small, large = sides[stage + 1], sides[stage]
            layers.append(same_transposed(widths[stage], outs[stage], small, large))
            layers += [nn.BatchNorm2d(outs[stage], momentum=BATCH_NORM_MOMENTUM), nn.ReLU()] if stage else [nn.Tanh()]
        self.net = nn.Sequential(*layers)


def with_noise(z: torch.Tensor, noise: torch.Tensor | None, noise_dim: int) -> torch.Tensor:
    """[z, eps]: the generator's input, ``eps`` drawn N(0, I) when not given (none if
    ``noise_dim`` is 0)."""
    if not noise_dim:
        return z
    if noise is None:
        noise = distributed.normal(len(z), noise_dim, like=z)
    return torch.cat([z, noise], dim=1)


class DcganFeatures(nn.Module):
    """x -> the flattened last convolutional layer of DCGAN's discriminator (Table 3's D(x)):
    four 5 x 5 stride-2 convolutions with w, 2w, 4w, 8w channels, leaky ReLU, batch norm on all
    but the first."""

    def __init__(self, image_shape: tuple[int, int, int], width: int) -> None:
        super().__init__()
        channels, side, _ = image_shape
        layers: list[nn.Module] = []
        for stage, out in enumerate(stage_channels(width)):
            layers.append(same_conv(channels, out))
            if stage:
                layers.append(nn.BatchNorm2d(out, momentum=BATCH_NORM_MOMENTUM))
            layers.append(nn.LeakyReLU(LEAK))
            channels = out
        layers.append(nn.Flatten())
        self.net = nn.Sequential(*layers)
        self.dim = channels * feature_sides(side)[-1] ** 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DcganDiscriminator(nn.Module):
    """D(x) -> one logit per image: DCGAN's convolutions, then one linear output."""

    def __init__(self, image_shape: tuple[int, int, int], width: int) -> None:
        super().__init__()
        self.features = DcganFeatures(image_shape, width)
        self.output = nn.Linear(self.features.dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.features(x)).squeeze(1)
