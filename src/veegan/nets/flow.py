"""A RealNVP normalising flow (Dinh et al. 2017) used as a learned prior p(z) (``vae_flow_prior``):
z = f(u) with u ~ N(0, I), f a stack of affine coupling layers that keep the even and the odd
coordinates in turn, so that every coordinate is transformed by every other layer."""
from __future__ import annotations

import math

import torch
from torch import nn

from .mlp import mlp

INITIAL_OUTPUT_SCALE = 0.01  # of the conditioners' last layer: the flow starts near the identity


class AffineCoupling(nn.Module):
    """y_kept = u_kept, y_free = u_free * exp(s) + t with (s, t) = net(u_kept): one half of the
    coordinates passes through and sets a scale and shift of the other half.
    log |det dy/du| = sum s. ``s`` is tanh-bounded (a factor of at most e per layer), and the
    conditioner's last layer starts at 1/100 of its usual initial scale, so a new layer is close
    to the identity."""

    def __init__(self, dim: int, hidden: int, kept: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("kept", kept)  # indices of the coordinates that pass through
        free = torch.ones(dim, dtype=torch.bool)
        free[kept] = False
        self.register_buffer("free", free.nonzero().squeeze(1))  # the coordinates it transforms
        self.net = mlp(len(kept), (hidden, hidden), 2 * len(self.free))
        with torch.no_grad():
            for p in self.net[-1].parameters():
                p.mul_(INITIAL_OUTPUT_SCALE)

    def scale_shift(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.net(u[:, self.kept]).chunk(2, dim=1)
        return torch.tanh(s), t

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(y, log |det dy/du|) per row."""
        s, t = self.scale_shift(u)
        return u.index_copy(1, self.free, u[:, self.free] * s.exp() + t), s.sum(dim=1)

    def inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(u, log |det du/dy|) per row: the exact inverse of :meth:`forward`."""
        s, t = self.scale_shift(y)
        return y.index_copy(1, self.free, (y[:, self.free] - t) * (-s).exp()), -s.sum(dim=1)


class FlowPrior(nn.Module):
    """p(z): N(0, I_K) pushed through ``layers`` affine couplings with ``hidden``-unit conditioners."""

    def __init__(self, dim: int, layers: int, hidden: int) -> None:
        super().__init__()
        halves = torch.arange(0, dim, 2), torch.arange(1, dim, 2)  # even and odd coordinates, in turn
        self.layers = nn.ModuleList(AffineCoupling(dim, hidden, halves[i % 2]) for i in range(layers))

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z = f(u) and log |det dz/du| per row."""
        log_det = torch.zeros(len(u), device=u.device, dtype=u.dtype)
        for layer in self.layers:
            u, part = layer(u)
            log_det = log_det + part
        return u, log_det

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) = log N(f^-1(z); 0, I) + log |det d f^-1(z) / dz| per row."""
        log_det = torch.zeros(len(z), device=z.device, dtype=z.dtype)
        for layer in reversed(self.layers):
            z, part = layer.inverse(z)
            log_det = log_det + part
        return standard_normal_log_prob(z) + log_det


def standard_normal_log_prob(u: torch.Tensor) -> torch.Tensor:
    """log N(u; 0, I) per row."""
    return -0.5 * (u.square().sum(dim=1) + u.shape[1] * math.log(2 * math.pi))
