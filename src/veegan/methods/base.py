"""The contract between a method and the shared trainer.

A method owns its networks and computes, for one batch of real data, a single scalar whose one
backward pass gives every network exactly the gradient its algorithm prescribes (discriminator
terms see detached generator outputs; generator terms call the discriminator with detached
parameters, see :func:`veegan.networks.frozen`). The trainer then takes one optimizer step for
all networks at once, which is Algorithm 1's simultaneous update of omega, theta and gamma (its last line).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from .. import distributed
from ..config import ModelConfig, OptimConfig

# Which learning rate of OptimConfig each network role uses.
LEARNING_RATE_OF_ROLE = {
    "generator": "lr_generator",
    "reconstructor": "lr_reconstructor",
    "encoder": "lr_reconstructor",  # ALI's E has the reconstructor's architecture and rate
    "discriminator": "lr_discriminator",
}


@dataclass
class NoOptions:
    """For methods without options of their own."""


class Method(nn.Module):
    """Base class: subclasses set ``generator`` and ``discriminator`` (and ``reconstructor``
    when they have an inference network) and implement :meth:`training_loss`."""

    @property
    def inference_network(self) -> nn.Module | None:
        """The network that maps x to z, if the method has one."""
        return self._modules.get("reconstructor") or self._modules.get("encoder")

    def check_batch_size(self, batch_size: int) -> None:
        """Raise VeeganError if the method cannot train on batches of this size."""

    def bind_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Called by the trainer with the optimizer of all networks; most methods ignore it."""

    Options: ClassVar[type] = NoOptions
    generator: nn.Module  # maps (z, eps) to x; has ``noise_dim``
    discriminator: nn.Module
    # methods with an inference network also set ``reconstructor`` (VEEGAN's F) or ``encoder`` (ALI's E)

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: object) -> None:
        super().__init__()
        self.data_shape, self.model_config, self.options = tuple(data_shape), model, options
        self.latent_dim = model.latent_dim

    def training_loss(self, x_real: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return (the scalar to backpropagate, detached loss terms for logging)."""
        raise NotImplementedError

    def forward(self, x_real: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``training_loss``: calling the module is what DistributedDataParallel synchronises."""
        return self.training_loss(x_real, step)

    def parameter_groups(self, optim: OptimConfig) -> list[dict]:
        """One optimizer parameter group per network, with that network's learning rate."""
        groups = []
        for role, lr_name in LEARNING_RATE_OF_ROLE.items():
            network = getattr(self, role, None)
            if network is not None:
                groups.append({"params": list(network.parameters()), "lr": getattr(optim, lr_name), "name": role})
        return groups

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ p_0(z) = N(0, I_K)."""
        return distributed.normal(n, self.latent_dim, generator)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n generator samples G(z, eps); with ``generator`` the draw is reproducible."""
        z = self.sample_latent(n, generator)
        noise = distributed.normal(n, self.generator.noise_dim, generator)
        return self.generator(z, noise)
