"""The networks each method gets for a data shape. The paper keeps the generator fixed across
methods on a dataset; vectors get the MLPs, images (channels, height, width) DCGAN's."""
from __future__ import annotations

import math
from typing import Sequence

from torch import nn

from ..config import ModelConfig
from .dcgan import LEAK, DcganDiscriminator, DcganFeatures, DcganGenerator
from .dcgan_mnist import TwoStageDiscriminator, TwoStageFeatures, TwoStageGenerator
from .mlp import Discriminator, Generator, JointDiscriminator, Reconstructor

# model.image_net -> (generator, discriminator features, discriminator) classes for images:
# DCGAN-tensorflow's four-stage network (Table 3, the paper's) and its two-stage MNIST network
# (veegan.nets.dcgan_mnist); docs/protocol.md, "Image networks"
IMAGE_NETS: dict[str, tuple[type[nn.Module], type[nn.Module], type[nn.Module]]] = {
    "dcgan": (DcganGenerator, DcganFeatures, DcganDiscriminator),
    "dcgan_mnist": (TwoStageGenerator, TwoStageFeatures, TwoStageDiscriminator),
}


def is_image(data_shape: Sequence[int]) -> bool:
    """Whether samples of this shape are images (channels, height, width) rather than vectors."""
    return len(data_shape) == 3


def generator_for(model: ModelConfig, data_shape: Sequence[int]) -> nn.Module:
    """G(z, eps): the MLP for vectors, the generator of ``model.image_net`` for images."""
    if is_image(data_shape):
        network = IMAGE_NETS[model.image_net][0]
        return network(model.latent_dim, model.generator_noise_dim, tuple(data_shape), model.conv_width)
    return Generator(model.latent_dim, model.generator_noise_dim, model.generator_hidden, math.prod(data_shape))


def discriminator_for(model: ModelConfig, data_shape: Sequence[int], pack_size: int = 1) -> nn.Module:
    """D(x) for GAN, Unrolled GAN and PacGAN: the one-hidden-layer MLP for vectors, DCGAN's
    discriminator for images (``model.image_net``'s). ``pack_size`` samples are judged together (PacGAN), joined along
    the vector or along the channels."""
    if is_image(data_shape):
        channels, height, width = data_shape
        return IMAGE_NETS[model.image_net][2]((channels * pack_size, height, width), model.conv_width)
    return Discriminator(math.prod(data_shape) * pack_size, model.discriminator_hidden)


def bidirectional_networks(model: ModelConfig, data_shape: Sequence[int]) -> tuple[nn.Module, Reconstructor, JointDiscriminator]:
    """G, an x -> z network with the reconstructor's architecture, and D(z, x): the networks
    of VEEGAN (F) and ALI (the encoder E)."""
    k, data_dim = model.latent_dim, math.prod(data_shape)
    # built in this order (G, F, D) so that a seed gives the same initial networks as always
    generator = generator_for(model, data_shape)
    reconstructor = Reconstructor(data_dim, model.reconstructor_hidden, k)
    if is_image(data_shape):
        features = IMAGE_NETS[model.image_net][1](tuple(data_shape), model.conv_width)
        discriminator = JointDiscriminator(k, features.dim, model.discriminator_hidden, features,
                                           activation=lambda: nn.LeakyReLU(LEAK))
    else:
        discriminator = JointDiscriminator(k, data_dim, model.discriminator_hidden)
    return generator, reconstructor, discriminator
