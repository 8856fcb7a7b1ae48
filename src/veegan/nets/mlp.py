"""The MLP networks of the synthetic experiments (docs/protocol.md, "The authors' code"):
two-hidden-layer ReLU MLPs for the generator and the reconstructor, a one-hidden-layer MLP for
the discriminator, and the joint discriminator D(z, x) on the concatenation [z, x]."""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

from ..backend import products
from ..training import distributed


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int, activation: Callable[[], nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear -> activation (ReLU by default) for each hidden width, then a linear output layer.

    The layers are ``backend.products.Linear``: ``nn.Linear`` itself (same parameters and
    initialisation), whose narrow products on the CPU take MKL's fast layout (veegan.backend)."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [products.Linear(in_dim, width), activation()]
        in_dim = width
    layers.append(products.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


class PairLinear(nn.Module):
    """A linear layer on the concatenation [a, b], stored as two weight blocks:
    W [a, b] + c = W_a a + W_b b + c, computed without building the concatenation (which costs
    as much as a matmul here). Initialised from the same distribution as
    ``nn.Linear(in_a + in_b, out)``."""

    def __init__(self, in_a: int, in_b: int, out: int) -> None:
        super().__init__()
        self.weight_a = nn.Parameter(torch.empty(out, in_a))
        self.weight_b = nn.Parameter(torch.empty(out, in_b))
        self.bias = nn.Parameter(torch.empty(out))
        bound = 1 / math.sqrt(in_a + in_b)  # nn.Linear's default for fan_in = in_a + in_b
        for p in (self.weight_a, self.weight_b, self.bias):
            nn.init.uniform_(p, -bound, bound)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return products.linear(a, self.weight_a, self.bias) + products.linear(b, self.weight_b)


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
    does not reconstruct; it is drawn here unless given. ``output_head``, when set (a table's
    categorical columns, :mod:`.categorical`), is applied to the MLP's output."""

    def __init__(self, latent_dim: int, noise_dim: int, hidden: Sequence[int], data_dim: int) -> None:
        super().__init__()
        self.latent_dim, self.noise_dim = latent_dim, noise_dim
        self.net = PairMLP(latent_dim, noise_dim, hidden, data_dim) if noise_dim else mlp(latent_dim, hidden, data_dim)
        self.output_head: nn.Module | None = None

    def forward(self, z: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if not self.noise_dim:
            x = self.net(z)
        else:
            x = self.net(z, noise if noise is not None else distributed.normal(len(z), self.noise_dim, like=z))
        return x if self.output_head is None else self.output_head(x)


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


class JointDiscriminator(nn.Module):
    """D(z, x) -> one logit per pair (Section 3.2, eq. 4): an MLP on the concatenation
    [z, features(x)]. On vectors the features are x itself; on images they are DCGAN's
    flattened convolutions, followed by one leaky-ReLU hidden layer (Appendix C, Table 3)."""

    def __init__(
        self, latent_dim: int, data_dim: int, hidden: Sequence[int], features: nn.Module | None = None,
        activation: Callable[[], nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        self.features = features  # None: x itself
        self.net = PairMLP(latent_dim, data_dim, hidden, 1, activation)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.net(z, x if self.features is None else self.features(x)).squeeze(1)


class GaussianEncoder(nn.Module):
    """q(z | x) = N(mu(x), diag(exp(log_var(x)))): the reconstructor's MLP with 2K outputs, split
    into a mean head and a log-variance head (the VAEs' encoder). Called, it returns the mean."""

    def __init__(self, data_dim: int, hidden: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        self.net = mlp(data_dim, hidden, 2 * latent_dim)

    def distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) of q(z | x), each n x K."""
        mean, log_var = self.net(x.flatten(1)).chunk(2, dim=1)
        return mean, log_var

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.distribution(x)[0]
