"""VEEGAN (Srivastava et al. 2017): a GAN on the joint space (z, x) plus an autoencoder loss on
the noise, d(z, F(G(z))). Algorithm 1, with the options of the authors' code (docs/protocol.md)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ModelConfig
from ..errors import VeeganError
from ..nets import bidirectional_networks
from ..training import distributed
from .base import Method, frozen, register
from .losses import RECONSTRUCTION_LOSSES, adversarial_generator_term


@dataclass
class RealPairOptions:
    # std of the N(0, std^2 I) noise the authors add to F(x) in D's real pairs, i.e. a sample
    # z_g ~ p_theta(z | x) = N(F(x), I) (Algorithm 1, line 6); 0 uses the mean F(x)
    real_pair_noise_std: float = 1.0
    # beyond the paper (0 = Algorithm 1, where F learns from the autoencoder term alone): F also
    # gets D's gradient on the real pairs, w * -mean D(F(x) + n, x), pulling the real side's z
    # towards the generated side's N(0, I) as eq. (3)'s KL term, which depends on theta, asks.
    # Without it, D can tell the pairs apart by z alone once F(x) drifts from N(0, I) on data
    # that G does not cover (docs/usage.md has its measured effect)
    reconstructor_adversarial_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.real_pair_noise_std < 0:
            raise VeeganError("method_options.real_pair_noise_std must be >= 0")
        if not 0 <= self.reconstructor_adversarial_weight < float("inf"):
            raise VeeganError("method_options.reconstructor_adversarial_weight must be a finite number >= 0")


@dataclass
class VeeganOptions(RealPairOptions):
    # d(z, F(G(z))): "gaussian_nll" = 0.5 * sum of squares (authors' code) or "mse"
    reconstruction_loss: str = "gaussian_nll"
    # steps at the start that train only F on d(z, F(G(z))) with G fixed (Section 5.2)
    reconstructor_pretrain_steps: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise VeeganError(
                f"method_options.reconstruction_loss must be one of {', '.join(RECONSTRUCTION_LOSSES)}, "
                f"got {self.reconstruction_loss!r}"
            )
        if self.reconstructor_pretrain_steps < 0:
            raise VeeganError("method_options.reconstructor_pretrain_steps must be >= 0")


def negated_term(logits: torch.Tensor) -> torch.Tensor:
    """-mean D: the reconstructor's adversarial term pulls the real pairs' logits up."""
    return -adversarial_generator_term(logits)


@register("veegan")
class Veegan(Method):
    """G_gamma (generator), F_theta (reconstructor) and D_omega(z, x) (joint discriminator)."""

    Options = VeeganOptions
    # --preset robust (docs/beyond-2d.md): the reconstruction as a mean over z's dimensions, so
    # that its gradient no longer swamps the adversarial one; F also trained through D; R1 on D
    robust_preset = {"method_options": {"reconstruction_loss": "mse", "reconstructor_adversarial_weight": 1.0},
                     "loss": {"r1_gamma": 10.0}}
    # --preset best (docs/recipe.md, VEEGAN's screen): robust plus EMA of G's weights, the
    # candidate `r1+ema+terms` that the study's rule picked
    best_preset = {**robust_preset, "ema": {"decay": 0.999}}
    uses_discriminator_loss = True
    autoencoder_name = "reconstruction"  # the name of the autoencoder term in the logs
    trains = {"discriminator": ("discriminator",), "adversarial": ("generator",),
              "reconstruction": ("generator", "reconstructor")}

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: VeeganOptions) -> None:
        super().__init__(data_shape, model, options)
        self.generator, self.reconstructor, self.discriminator = bidirectional_networks(model, data_shape)
        if options.reconstructor_adversarial_weight:
            self.trains = {**self.trains, "reconstructor_adversarial": ("reconstructor",)}

    def pretraining(self, step: int) -> bool:
        """True during the reconstructor's pre-training steps (Section 5.2)."""
        return step < self.options.reconstructor_pretrain_steps

    def reconstruction(self, z: torch.Tensor, x_generated: torch.Tensor) -> torch.Tensor:
        """d(z, F(G(z))) in the chosen form (see losses.py)."""
        return RECONSTRUCTION_LOSSES[self.options.reconstruction_loss](z, self.reconstructor(x_generated))

    def autoencoder_loss(self, z: torch.Tensor, x_generated: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
        """The third term of eq. (3), estimated as in eq. (5): d(z, F(G(z)))."""
        return self.reconstruction(z, x_generated)

    def training_loss(self, x_real: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """One iteration of Algorithm 1:

        - line 6: z_g ~ p_theta(z | x) = N(F(x), I) for the real pairs, drawn without gradient;
        - line 7, eq. (6): D_omega's logistic loss on (z, G(z)) against (z_g, x), generator
          outputs detached;
        - line 9: F_theta's gradient of the autoencoder term only;
        - line 11, eq. (5): G_gamma's gradient of mean D(z, G(z)) + the autoencoder term, the
          raw logit through D with detached parameters;
        - beyond the paper, only with ``reconstructor_adversarial_weight`` w > 0: the real pairs'
          z keeps its graph, and F_theta also gets -w * mean D(z_g, x) through a frozen D (D's
          own loss still sees z_g detached);
        - beyond the paper, under ``loss.objective`` rpgan: D's loss pairs (z_i, G(z_i)) with
          (z_g_i, x_i) (losses.rpgan_discriminator_loss), and line 11's raw logit becomes RpGAN's
          player loss softplus(D(z, G(z)) - D(z_g, x)) with the real pairs' logits as constants
          (F's optional term likewise, through the real side). The autoencoder term is unchanged.
        """
        z = self.sample_latent(len(x_real))
        x_generated = self.generator(z)
        if self.pretraining(step):  # Section 5.2: F alone, G fixed
            return {self.autoencoder_name: self.reconstruction(z, x_generated.detach())}

        autoencoder = self.autoencoder_loss(z, x_generated, x_real)
        weight = self.options.reconstructor_adversarial_weight
        with torch.set_grad_enabled(weight > 0):  # Algorithm 1: without gradient
            z_real = self.reconstructor(x_real)
            if self.options.real_pair_noise_std:
                z_real = z_real + self.options.real_pair_noise_std * distributed.normal(*z_real.shape, like=z_real)
        D = self.discriminator
        terms = {
            "discriminator": self.discriminator_loss((z, x_generated), (z_real.detach(), x_real)),
            "adversarial": self.player_loss(frozen(D, z, x_generated), adversarial_generator_term),
            self.autoencoder_name: autoencoder,
        }
        if weight > 0:  # beyond the paper: F is pulled towards the generated side (see the option)
            terms["reconstructor_adversarial"] = weight * self.real_side_player_loss(frozen(D, z_real, x_real), negated_term)
        return terms
