"""Architectures, kept apart from the methods that combine them (PROTOCOL.md, Section 5.1):
two-hidden-layer ReLU MLPs for the generator and the reconstructor, a one-hidden-layer MLP
for the discriminator, and the joint discriminator D(z, x) on the concatenation [z, x]."""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call

from . import distributed, products
from .config import ModelConfig
from .dcgan import LEAK, DcganDiscriminator, DcganFeatures, DcganGenerator


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int, activation: Callable[[], nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear -> activation (ReLU by default) for each hidden width, then a linear output layer."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [products.Linear(in_dim, width), activation()]
        in_dim = width
    layers.append(products.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


class PairLinear(nn.Module):
    """A linear layer on the concatenation [a, b], stored as two weight blocks:
    W [a, b] + c = W_a a + W_b b + c, computed without building the concatenation (which costs
    as much as a matmul here) and letting a caller reuse the W_a a part. Initialised from the
    same distribution as ``nn.Linear(in_a + in_b, out)``."""

    def __init__(self, in_a: int, in_b: int, out: int) -> None:
        super().__init__()
        self.weight_a = nn.Parameter(torch.empty(out, in_a))
        self.weight_b = nn.Parameter(torch.empty(out, in_b))
        self.bias = nn.Parameter(torch.empty(out))
        bound = 1 / math.sqrt(in_a + in_b)  # nn.Linear's default for fan_in = in_a + in_b
        for p in (self.weight_a, self.weight_b, self.bias):
            nn.init.uniform_(p, -bound, bound)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.part_a(a) + self.part_b(b)

    def part_a(self, a: torch.Tensor, detach: bool = False) -> torch.Tensor:
        """W_a a + c, optionally with W_a and c detached."""
        if detach:
            return products.linear(a, self.weight_a.detach(), self.bias.detach())
        return products.linear(a, self.weight_a, self.bias)

    def part_b(self, b: torch.Tensor, detach: bool = False) -> torch.Tensor:
        """W_b b, optionally with W_b detached."""
        return products.linear(b, self.weight_b.detach() if detach else self.weight_b)

    def two_sided_a(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(W_a a + c for the parameters' gradient, the same for a's gradient), one product."""
        return products.two_sided_linear(a, self.weight_a, self.bias)

    def two_sided_b(self, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(W_b b for W_b's gradient, the same for b's gradient), one product."""
        return products.two_sided_linear(b, self.weight_b)


class PairMLP(nn.Module):
    """An MLP on [a, b]: a PairLinear input layer, then the activation and the rest of ``mlp``."""

    def __init__(
        self, in_a: int, in_b: int, hidden: Sequence[int], out_dim: int, activation: Callable[[], nn.Module] = nn.ReLU
    ) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("PairMLP needs at least one hidden layer")
        self.input = PairLinear(in_a, in_b, hidden[0])
        self.rest = nn.Sequential(activation(), mlp(hidden[0], hidden[1:], out_dim, activation))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.rest(self.input(a, b))


class Generator(nn.Module):
    """G: [z, eps] -> x. ``eps`` is the authors' extra N(0, I) input that the reconstructor
    does not reconstruct; it is drawn here unless given."""

    def __init__(self, latent_dim: int, noise_dim: int, hidden: Sequence[int], data_dim: int) -> None:
        super().__init__()
        self.latent_dim, self.noise_dim = latent_dim, noise_dim
        self.net = PairMLP(latent_dim, noise_dim, hidden, data_dim) if noise_dim else mlp(latent_dim, hidden, data_dim)

    def forward(self, z: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if not self.noise_dim:
            return self.net(z)
        if noise is None:
            noise = distributed.normal(len(z), self.noise_dim, like=z)
        return self.net(z, noise)


class Reconstructor(nn.Module):
    """F: x -> the mean of p_theta(z | x) = N(F(x), I) (Section 3.1); an MLP on x flattened
    (the paper's "simple two-layer MLP" for images too)."""

    def __init__(self, data_dim: int, hidden: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        self.net = mlp(data_dim, hidden, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class Discriminator(nn.Module):
    """D(x) -> one logit per sample (the plain GAN's discriminator)."""

    def __init__(self, data_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.net = mlp(data_dim, hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)

    def two_sided_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """D(x) twice from one product of the first layer: for D's loss (gradient to D's
        parameters only) and for the generator's term (gradient to x only)."""
        first, rest = self.net[0], self.net[1:]
        for_discriminator, for_players = products.two_sided_linear(x, first.weight, first.bias)
        return rest(for_discriminator).squeeze(1), frozen(rest, for_players).squeeze(1)


class JointDiscriminator(nn.Module):
    """D(z, x) -> one logit per pair (Section 3.2, eq. 4): an MLP on the concatenation
    [z, features(x)]. On vectors the features are x itself; on images they are DCGAN's
    flattened convolutions, followed by one leaky-ReLU hidden layer (Appendix C, Table 3)."""

    def __init__(
        self, latent_dim: int, data_dim: int, hidden: Sequence[int], features: nn.Module | None = None,
        activation: Callable[[], nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        self.features = features  # None: x itself (no call on the vector step's hot path)
        self.net = PairMLP(latent_dim, data_dim, hidden, 1, activation)

    def featurize(self, x: torch.Tensor, frozen_parameters: bool = False) -> torch.Tensor:
        """features(x), optionally through the features' detached parameters."""
        if self.features is None:
            return x
        return frozen(self.features, x) if frozen_parameters else self.features(x)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.net(z, self.featurize(x)).squeeze(1)

    def two_sided_logits(
        self, z: torch.Tensor, x: torch.Tensor, trainable: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """D(z, x) twice from one pass over the constant half of the input layer:

        - for D's own loss: gradient to D's parameters only (both inputs detached);
        - for the players' term: gradient to the ``trainable`` input ("x" for a generated pair
          (z, G(z)), "z" for an encoded pair (E(x), x)) only, D's parameters detached.
        """
        first = self.net.input
        if trainable == "x":  # z is constant noise
            constant = first.part_a(z)
            if self.features is None:  # both sides from one product (products.two_sided_linear)
                live, played = first.two_sided_b(x)
            else:  # features with live parameters for D's loss, frozen ones for the players'
                live = first.part_b(self.featurize(x.detach()))
                played = first.part_b(self.featurize(x, frozen_parameters=True), detach=True)
        elif trainable == "z":  # x is constant data
            constant = first.part_b(self.featurize(x))
            live, played = first.two_sided_a(z)
        else:
            raise ValueError(f"trainable must be 'x' or 'z', got {trainable!r}")
        for_discriminator = self.net.rest(constant + live).squeeze(1)
        for_players = frozen(self.net.rest, constant.detach() + played).squeeze(1)
        return for_discriminator, for_players


def is_image(data_shape: Sequence[int]) -> bool:
    """Whether samples of this shape are images (channels, height, width) rather than vectors."""
    return len(data_shape) == 3


def generator_for(model: ModelConfig, data_shape: Sequence[int]) -> nn.Module:
    """The generator every method shares on a dataset (the paper keeps it fixed across methods):
    the MLP for vectors, DCGAN's for images."""
    if is_image(data_shape):
        return DcganGenerator(model.latent_dim, model.generator_noise_dim, tuple(data_shape), model.conv_width)
    return Generator(model.latent_dim, model.generator_noise_dim, model.generator_hidden, math.prod(data_shape))


def discriminator_for(model: ModelConfig, data_shape: Sequence[int], pack_size: int = 1) -> nn.Module:
    """D(x) for GAN, Unrolled GAN and PacGAN: the one-hidden-layer MLP for vectors, DCGAN's
    discriminator for images. ``pack_size`` samples are judged together (PacGAN), joined along
    the vector or along the channels."""
    if is_image(data_shape):
        channels, height, width = data_shape
        return DcganDiscriminator((channels * pack_size, height, width), model.conv_width)
    return Discriminator(math.prod(data_shape) * pack_size, model.discriminator_hidden)


def bidirectional_networks(model: ModelConfig, data_shape: Sequence[int]) -> tuple[nn.Module, Reconstructor, JointDiscriminator]:
    """G, an x -> z network with the reconstructor's architecture, and D(z, x): the networks
    of VEEGAN (F) and ALI (the encoder E)."""
    k, data_dim = model.latent_dim, math.prod(data_shape)
    # built in this order (G, F, D) so that a seed gives the same initial networks as always
    generator = generator_for(model, data_shape)
    reconstructor = Reconstructor(data_dim, model.reconstructor_hidden, k)
    if is_image(data_shape):
        features = DcganFeatures(tuple(data_shape), model.conv_width)
        discriminator = JointDiscriminator(k, features.dim, model.discriminator_hidden, features,
                                           activation=lambda: nn.LeakyReLU(LEAK))
    else:
        discriminator = JointDiscriminator(k, data_dim, model.discriminator_hidden)
    return generator, reconstructor, discriminator


def two_sided_logits(discriminator: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """D(x) for D's own loss (x detached) and D(x) for the generator's term (D frozen): from
    one first-layer product where D can share it (the MLP), else two calls."""
    if isinstance(discriminator, Discriminator):
        return discriminator.two_sided_logits(x)
    return discriminator(x.detach()), frozen(discriminator, x)


def frozen(module: nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
    """Call ``module`` with its parameters detached: gradients reach the inputs, not the module.

    This is how one backward pass serves all networks: a generator's adversarial term goes
    through D without giving D any gradient (Algorithm 1 keeps g_omega to eq. 6 alone)."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return functional_call(module, params, inputs)
