"""The Gaussian VAE (Kingma & Welling 2014), beyond the paper: the likelihood model beside the
adversarial ones. It maximises the ELBO, a forward-KL objective that covers every mode and blurs
between them, where a GAN's objective seeks modes and can drop them. It reuses the other methods'
networks: the generator as its decoder, the reconstructor's MLP as its encoder (docs/methods.md)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..config import ModelConfig
from ..errors import VeeganError
from ..nets import generator_for
from ..nets.mlp import GaussianEncoder
from ..training import distributed
from .base import Method, register
from .losses import in_float32


@dataclass
class VaeOptions:
    # p(x | z) = N(G(z), sigma^2 I) with one sigma for every dimension: learned by gradient,
    # starting from observation_std (the maximum-likelihood choice), or fixed at observation_std.
    # From 1.0 the ring's VAE ignores z (KL 0.0007 after 3,000 steps, 0/8 modes); from 0.1 it
    # covers all 8
    learn_observation_std: bool = True
    observation_std: float = 0.1
    # true: sigma is instead each batch's maximum-likelihood value, the root-mean-square residual
    # sqrt(mean((x - G(z))^2)), held constant in the gradient (the sigma-VAE of Rybkin et al.,
    # 2021), free of the data's scale. Off by default: it starts at the data's own spread, and on
    # the ring that is the posterior collapse above (0/8 modes, 4 of 4 seeds, docs/table1-quick.md)
    optimal_observation_std: bool = False
    # q's log-variance is bounded to (-b, b) by b * tanh(raw / b), so that q's variance stays
    # within exp(-10) and exp(10) however far the encoder's raw output runs (0 = unbounded).
    # Unbounded, 8 of 10 VAE runs on hd1200 diverged: sigma 0.1 against coordinates of about 6
    # made the first reconstruction loss about 2e6, and the log-variance ran to +60 within 200
    # steps, where exp overflows
    log_var_bound: float = 10.0
    # samples are G(z), the decoder's mean (how VAE samples are usually shown); true adds the
    # observation noise N(0, sigma^2 I)
    sample_observation_noise: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.observation_std < math.inf:
            raise VeeganError("method_options.observation_std must be a finite number > 0")
        if not 0 <= self.log_var_bound < math.inf:
            raise VeeganError("method_options.log_var_bound must be a finite number >= 0 (0 = unbounded)")


class ObservationNoise(nn.Module):
    """sigma of p(x | z) = N(G(z), sigma^2 I), held as log sigma (trained only if learned)."""

    def __init__(self, std: float, learned: bool) -> None:
        super().__init__()
        self.log_std = nn.Parameter(torch.tensor(math.log(std)), requires_grad=learned)


@in_float32
def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """-log N(x; mean, sigma^2 I) with sigma = exp(log_std), summed over the D dimensions and
    averaged over the batch: 0.5 * ||(x - mean) / sigma||^2 + D log sigma + (D / 2) log 2 pi."""
    d = x[0].numel()
    squares = ((x - mean) * (-log_std).exp()).square().flatten(1).sum(dim=1)
    return (0.5 * squares).mean() + d * log_std + 0.5 * d * math.log(2 * math.pi)


@in_float32
def kl_to_standard_normal(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, diag(exp(log_var))) || N(0, I)) in closed form, summed over the K dimensions and
    averaged over the batch: 0.5 * sum(mean^2 + exp(log_var) - 1 - log_var)."""
    return (0.5 * (mean.square() + log_var.exp() - 1 - log_var).sum(dim=1)).mean()


@register("vae")
class Vae(Method):
    """G (the decoder: the mean of p(x | z)), E (the encoder: q(z | x)) and the observation's sigma."""

    Options = VaeOptions
    trains = {"reconstruction": ("generator", "encoder", "observation"), "kl": ("encoder",)}
    # the decoder and sigma take the generator's rate, the encoder the reconstructor's
    learning_rate_of = {"encoder": "lr_reconstructor", "observation": "lr_generator"}

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: VaeOptions) -> None:
        super().__init__(data_shape, model, options)
        self.generator = generator_for(model, data_shape)
        self.encoder = GaussianEncoder(math.prod(data_shape), model.reconstructor_hidden, model.latent_dim)
        learned = options.learn_observation_std and not options.optimal_observation_std
        self.observation = ObservationNoise(options.observation_std, learned)

    def training_loss(self, x_real: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """The negative ELBO, -E_q[log p(x | z)] + KL(q(z | x) || p(z)), with one reparameterised
        z = mu(x) + sigma(x) * e per x. G's own extra noise input (``generator_noise_dim``) is
        drawn from its prior as for the other methods: a latent without an encoder, which keeps
        the ELBO a lower bound (a looser one)."""
        mean, log_var = self.posterior(x_real)
        z = mean + (0.5 * log_var).exp() * distributed.normal(*mean.shape, like=mean)
        decoded = self.generator(z)
        if self.options.optimal_observation_std:
            self.set_optimal_observation_std(x_real, decoded)
        return {"reconstruction": gaussian_nll(x_real, decoded, self.observation.log_std),
                "kl": self.kl_term(z, mean, log_var)}

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) of q(z | x), the log-variance bounded with ``log_var_bound``."""
        mean, log_var = self.encoder.distribution(x)
        bound = self.options.log_var_bound
        return mean, (bound * torch.tanh(log_var / bound) if bound > 0 else log_var)

    @torch.no_grad()
    def set_optimal_observation_std(self, x: torch.Tensor, decoded: torch.Tensor) -> None:
        """sigma = the root-mean-square residual over the global batch and every dimension, the
        maximum-likelihood sigma for this decoder (floored at 1e-4 so a perfect fit stays finite)."""
        mean_square = distributed.mean_over_ranks((x - decoded).square().mean().reshape(1))[0]
        self.observation.log_std.copy_(0.5 * mean_square.clamp_min(1e-8).log())

    def kl_term(self, z: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        """KL(q(z | x) || N(0, I)), in closed form."""
        return kl_to_standard_normal(mean, log_var)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """G(z) for z ~ p(z): the decoder's mean, plus N(0, sigma^2 I) with ``sample_observation_noise``."""
        x = super().sample(n, generator)
        if self.options.sample_observation_noise:
            noise = distributed.normal(n, x[0].numel(), generator, like=x).view_as(x)
            x = x + self.observation.log_std.exp() * noise
        return x
