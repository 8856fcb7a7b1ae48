"""The two-stage DCGAN of DCGAN-tensorflow's MNIST model (``model.image_net: dcgan_mnist``;
docs/protocol.md, "Image networks"). The implementation the paper cites builds this network, not
its four-stage one, for 28 x 28 MNIST; there it is conditioned on the digit label, here it is
not (this is a generator of unlabelled images, like every method of Table 2).

Taken from DCGAN-tensorflow's labelled ``generator`` and ``discriminator`` (model.py), the label
inputs removed:

- G: z -> linear 1024 (batch norm, ReLU) -> linear to a 2w x s/4 x s/4 map (batch norm, ReLU)
  -> 5 x 5 stride-2 transposed convolution to 2w x s/2 x s/2 (batch norm, ReLU) -> 5 x 5 stride-2
  transposed convolution to c x s x s. The source ends in a sigmoid for pixels in [0, 1]; here
  tanh for pixels in [-1, 1], the same function up to an affine map (tanh(a) = 2 sigmoid(2a) - 1).
- D: 5 x 5 stride-2 convolution to c + 10 channels (leaky ReLU 0.2) -> 5 x 5 stride-2 convolution
  to w + 10 channels (batch norm, leaky ReLU) -> linear 1024 (batch norm, leaky ReLU) -> one
  logit. The source's widths c + y_dim and w + y_dim (y_dim = 10 digit classes) are kept as
  plain channel counts; the label one-hot it concatenates to every layer's input is dropped.

For VEEGAN and ALI the joint D of Appendix C (Table 3) is built on this D as on the four-stage
one: its last convolutional layer, flattened (:class:`TwoStageFeatures`), is joined with z and
run through the joint hidden layer (``model.discriminator_hidden``). The sides follow
TensorFlow's "same" rule, ceil(s / 2): 28 -> 14 -> 7, 32 -> 16 -> 8.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .dcgan import BATCH_NORM_MOMENTUM, LEAK, ImageGenerator, same_conv, same_transposed

HIDDEN = 1024  # gfc_dim and dfc_dim, the fully connected layers' width
LABEL_CHANNELS = 10  # y_dim of the source's MNIST model: kept as channels, the labels dropped


def two_stage_sides(side: int) -> tuple[int, int, int]:
    """The image side and the sides of the two feature maps: s, ceil(s/2), ceil(s/4)."""
    half = math.ceil(side / 2)
    return side, half, math.ceil(half / 2)


class TwoStageGenerator(ImageGenerator):
    """G: [z, eps] -> image in [-1, 1] through two linear and two transposed-convolutional
    layers (module docstring). ``width`` is the source's gf_dim (64)."""

    def __init__(self, latent_dim: int, noise_dim: int, image_shape: tuple[int, int, int], width: int) -> None:
        super().__init__(latent_dim, noise_dim, image_shape)
        channels, _, side = image_shape
        full, half, quarter = two_stage_sides(side)
        self.start = (2 * width, quarter, quarter)
        self.project = nn.Sequential(
            nn.Linear(latent_dim + noise_dim, HIDDEN), nn.BatchNorm1d(HIDDEN, momentum=BATCH_NORM_MOMENTUM), nn.ReLU(),
            nn.Linear(HIDDEN, 2 * width * quarter**2),
            nn.BatchNorm1d(2 * width * quarter**2, momentum=BATCH_NORM_MOMENTUM), nn.ReLU(),
        )
        self.net = nn.Sequential(
            same_transposed(2 * width, 2 * width, quarter, half),
            nn.BatchNorm2d(2 * width, momentum=BATCH_NORM_MOMENTUM), nn.ReLU(),
            same_transposed(2 * width, channels, half, full), nn.Tanh(),
        )


class TwoStageFeatures(nn.Module):
    """x -> the flattened last convolutional layer of the two-stage D: c + 10 and w + 10
    channels, leaky ReLU, batch norm on the second."""

    def __init__(self, image_shape: tuple[int, int, int], width: int) -> None:
        super().__init__()
        channels, side, _ = image_shape
        first, second = channels + LABEL_CHANNELS, width + LABEL_CHANNELS
        self.net = nn.Sequential(
            same_conv(channels, first), nn.LeakyReLU(LEAK),
            same_conv(first, second), nn.BatchNorm2d(second, momentum=BATCH_NORM_MOMENTUM), nn.LeakyReLU(LEAK),
            nn.Flatten(),
        )
        self.dim = second * two_stage_sides(side)[2] ** 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TwoStageDiscriminator(nn.Module):
    """D(x) -> one logit per image: the two convolutions, a 1024-unit layer (batch norm, leaky
    ReLU), one linear output."""

    def __init__(self, image_shape: tuple[int, int, int], width: int) -> None:
        super().__init__()
        self.features = TwoStageFeatures(image_shape, width)
        self.hidden = nn.Sequential(nn.Linear(self.features.dim, HIDDEN),
                                    nn.BatchNorm1d(HIDDEN, momentum=BATCH_NORM_MOMENTUM), nn.LeakyReLU(LEAK))
        self.output = nn.Linear(HIDDEN, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.hidden(self.features(x))).squeeze(1)
