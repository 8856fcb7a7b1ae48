"""Architectures, kept apart from the methods that combine them (PROTOCOL.md, Section 5.1):
two-hidden-layer ReLU MLPs for the generator and the reconstructor, a one-hidden-layer MLP
for the discriminator, and the joint discriminator D(z, x) on the concatenation [z, x]."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.func import functional_call


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    """Linear -> ReLU for each hidden width, then a linear output layer."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_dim, width), nn.ReLU()]
        in_dim = width
    layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """G: [z, eps] -> x. ``eps`` is the authors' extra N(0, I) input that the reconstructor
    does not reconstruct; it is drawn here unless given."""

    def __init__(self, latent_dim: int, noise_dim: int, hidden: Sequence[int], data_dim: int) -> None:
        super().__init__()
        self.latent_dim, self.noise_dim = latent_dim, noise_dim
        self.net = mlp(latent_dim + noise_dim, hidden, data_dim)

    def forward(self, z: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if self.noise_dim:
            if noise is None:
                noise = torch.randn(len(z), self.noise_dim, device=z.device, dtype=z.dtype)
            z = torch.cat([z, noise], dim=1)
        return self.net(z)


class Reconstructor(nn.Module):
    """F: x -> the mean of p_theta(z | x) = N(F(x), I) (Section 3.1)."""

    def __init__(self, data_dim: int, hidden: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        self.net = mlp(data_dim, hidden, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Discriminator(nn.Module):
    """D(x) -> one logit per sample (the plain GAN's discriminator)."""

    def __init__(self, data_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.net = mlp(data_dim, hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class JointDiscriminator(nn.Module):
    """D(z, x) -> one logit per pair, on the concatenation [z, x] (Section 3.2, eq. 4)."""

    def __init__(self, latent_dim: int, data_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.net = mlp(latent_dim + data_dim, hidden, 1)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, x], dim=1)).squeeze(1)


def frozen(module: nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
    """Call ``module`` with its parameters detached: gradients reach the inputs, not the module.

    This is how one backward pass serves all networks: a generator's adversarial term goes
    through D without giving D any gradient (Algorithm 1 keeps g_omega to eq. 6 alone)."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return functional_call(module, params, inputs)
