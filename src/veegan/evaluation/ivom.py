"""Inference via optimisation (IvOM; Metz et al. 2017, used in the paper's Section 5.3): for
each real test image x, search the generator's inputs for the closest image it can produce,
min_z ||G(z) - x||^2, and report the mean squared error per pixel. A generator that dropped
modes leaves some test images far from anything it can generate."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import VeeganError


@dataclass
class IvomOptions:
    """The search: ``restarts`` random starts per image, each ``steps`` Adam steps of size
    ``lr`` on (z, eps); the best start counts. Images are in [-1, 1], as G's output."""

    restarts: int = 3
    steps: int = 200
    lr: float = 0.05
    batch_size: int = 256  # images x restarts optimised together

    def __post_init__(self) -> None:
        if self.restarts < 1 or self.steps < 1 or self.batch_size < 1 or not self.lr > 0:
            raise VeeganError("IvOM needs restarts, steps and batch_size >= 1 and lr > 0")


def ivom(generator: nn.Module, latent_dim: int, images: torch.Tensor, options: IvomOptions = IvomOptions(),
         seed: int = 0) -> torch.Tensor:
    """Per image, the smallest mean squared error per pixel over the restarts (in [-1, 1] units;
    divide by 4 for [0, 1] units). The generator runs in eval mode and is not changed."""
    if images.ndim != 4:
        raise VeeganError(f"IvOM needs N x C x H x W images, got {tuple(images.shape)}")
    was_training, trainable = generator.training, [p.requires_grad for p in generator.parameters()]
    generator.eval()
    for p in generator.parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(seed)  # on the CPU: the same starts on every device
    parameter = next(generator.parameters(), None)
    device = parameter.device if parameter is not None else images.device
    targets = images.to(device).repeat_interleave(options.restarts, dim=0)
    errors = []
    try:
        for start in range(0, len(targets), options.batch_size):
            x = targets[start:start + options.batch_size]
            z = torch.randn(len(x), latent_dim, generator=g).to(device).requires_grad_(True)
            noise = torch.randn(len(x), generator.noise_dim, generator=g).to(device).requires_grad_(True)
            optimizer = torch.optim.Adam([z, noise], lr=options.lr)
            for _ in range(options.steps):
                loss = (generator(z, noise) - x).square().flatten(1).mean(1)
                optimizer.zero_grad(set_to_none=True)
                loss.sum().backward()
                optimizer.step()
            with torch.no_grad():
                errors.append((generator(z, noise) - x).square().flatten(1).mean(1))
    finally:
        for p, flag in zip(generator.parameters(), trainable):
            p.requires_grad_(flag)
        generator.train(was_training)
    return torch.cat(errors).view(len(images), options.restarts).min(dim=1).values.cpu()


def mean_ivom(generator: nn.Module, latent_dim: int, images: torch.Tensor, options: IvomOptions = IvomOptions(),
              seed: int = 0) -> float:
    """IvOM as the paper reports it: the mean over ``images`` of :func:`ivom`, as a squared
    error per pixel with pixels in [0, 1] (the [-1, 1] errors divided by 2^2)."""
    return float(ivom(generator, latent_dim, images, options, seed).mean()) / 4
