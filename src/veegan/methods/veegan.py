"""VEEGAN (Srivastava et al. 2017): a GAN on the joint space (z, x) plus an autoencoder loss on
the noise, d(z, F(G(z))). Algorithm 1, with the options of the authors' code (PROTOCOL.md)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import distributed
from ..config import ModelConfig
from ..errors import VeeganError
from ..losses import RECONSTRUCTION_LOSSES, adversarial_generator_term, logistic_discriminator_loss
from ..networks import bidirectional_networks
from . import METHODS
from .base import Method


@dataclass
class RealPairOptions:
    # std of the N(0, std^2 I) noise the authors add to F(x) in D's real pairs, i.e. a sample
    # z_g ~ p_theta(z | x) = N(F(x), I) (Algorithm 1, line 6); 0 uses the mean F(x)
    real_pair_noise_std: float = 1.0

    def __post_init__(self) -> None:
        if self.real_pair_noise_std < 0:
            raise VeeganError("method_options.real_pair_noise_std must be >= 0")


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


@METHODS.register("veegan")
class Veegan(Method):
    """G_gamma (generator), F_theta (reconstructor) and D_omega(z, x) (joint discriminator)."""

    Options = VeeganOptions
    autoencoder_name = "reconstruction"  # the name of the autoencoder term in the logs

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: VeeganOptions) -> None:
        super().__init__(data_shape, model, options)
        self.generator, self.reconstructor, self.discriminator = bidirectional_networks(model, data_shape)

    def pretraining(self, step: int) -> bool:
        """True during the reconstructor's pre-training steps (Section 5.2)."""
        return step < self.options.reconstructor_pretrain_steps

    def reconstruction(self, z: torch.Tensor, x_generated: torch.Tensor) -> torch.Tensor:
        """d(z, F(G(z))) in the chosen form (see losses.py)."""
        return RECONSTRUCTION_LOSSES[self.options.reconstruction_loss](z, self.reconstructor(x_generated))

    def autoencoder_loss(self, z: torch.Tensor, x_generated: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
        """The third term of eq. (3), estimated as in eq. (5): d(z, F(G(z)))."""
        return self.reconstruction(z, x_generated)

    def training_loss(self, x_real: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """One iteration of Algorithm 1 as a single scalar:

        - line 7, eq. (6): D_omega's logistic loss on (z, G(z)) against (z_g, x), generator
          outputs detached and z_g = F(x) + noise drawn without gradient;
        - line 9: F_theta's gradient of the autoencoder term only;
        - line 11, eq. (5): G_gamma's gradient of mean D(z, G(z)) + the autoencoder term, the
          raw logit through D with detached parameters.
        """
        z = self.sample_latent(len(x_real))
        x_generated = self.generator(z)
        if self.pretraining(step):  # Section 5.2: F alone, G fixed
            reconstruction = self.reconstruction(z, x_generated.detach())
            return reconstruction, {self.autoencoder_name: reconstruction.detach()}

        autoencoder = self.autoencoder_loss(z, x_generated, x_real)
        noise_std = self.options.real_pair_noise_std
        with torch.no_grad():
            z_real = self.reconstructor(x_real)
            if noise_std:
                z_real = z_real + noise_std * distributed.normal(*z_real.shape, like=z_real)
        logits_generated, logits_for_generator = self.discriminator.two_sided_logits(z, x_generated, trainable="x")
        discriminator = logistic_discriminator_loss(logits_generated, self.discriminator(z_real, x_real))
        adversarial = adversarial_generator_term(logits_for_generator)
        total = discriminator + adversarial + autoencoder
        return total, {
            "discriminator": discriminator.detach(),
            "adversarial": adversarial.detach(),
            self.autoencoder_name: autoencoder.detach(),
        }
