"""The VAE with a learned prior (beyond the paper): p(z) is a RealNVP flow of N(0, I)
(veegan.nets.flow) trained jointly with the encoder and the decoder on the ELBO, so the prior
can move its mass to where the encoder puts the data instead of asking the encoder for N(0, I)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import ModelConfig
from ..errors import VeeganError
from ..nets.flow import FlowPrior
from .base import register
from .vae import Vae, VaeOptions


@dataclass
class VaeFlowPriorOptions(VaeOptions):
    # the flow: affine coupling layers, and the hidden units of each layer's two-layer conditioner
    flow_layers: int = 4
    flow_hidden: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.flow_layers < 1 or self.flow_hidden < 1:
            raise VeeganError("method_options.flow_layers and flow_hidden must be >= 1")


@register("vae_flow_prior")
class VaeFlowPrior(Vae):
    """The VAE's networks and a flow prior p(z), trained with the decoder's learning rate."""

    Options = VaeFlowPriorOptions
    trains = {"reconstruction": ("generator", "encoder", "observation"), "kl": ("encoder", "prior")}
    learning_rate_of = {**Vae.learning_rate_of, "prior": "lr_generator"}

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: VaeFlowPriorOptions) -> None:
        super().__init__(data_shape, model, options)
        self.prior = FlowPrior(model.latent_dim, options.flow_layers, options.flow_hidden)

    def kl_term(self, z: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        """KL(q(z | x) || p(z)) = -H(q) - E_q[log p(z)]: q's entropy in closed form, the flow's
        log-density at the reparameterised z (one sample per x)."""
        entropy = 0.5 * (1 + math.log(2 * math.pi) + log_var).sum(dim=1)
        return -(entropy + self.prior.log_prob(z)).mean()

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z = f(u), u ~ N(0, I): a draw from the flow prior."""
        return self.prior(super().sample_latent(n, generator))[0]
