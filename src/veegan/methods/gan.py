"""The plain GAN (Goodfellow et al. 2014; paper Section 2) on the same generator as VEEGAN."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ModelConfig
from ..errors import VeeganError
from ..losses import logistic_discriminator_loss, minimax_generator_loss, non_saturating_generator_loss
from ..networks import discriminator_for, generator_for, two_sided_logits
from . import METHODS
from .base import Method

GENERATOR_LOSSES = {"non_saturating": non_saturating_generator_loss, "minimax": minimax_generator_loss}


@dataclass
class GanOptions:
    # the paper runs every baseline with the non-saturating ("enhanced") loss (Section 5.2)
    generator_loss: str = "non_saturating"

    def __post_init__(self) -> None:
        if self.generator_loss not in GENERATOR_LOSSES:
            raise VeeganError(
                f"method_options.generator_loss must be one of {', '.join(GENERATOR_LOSSES)}, "
                f"got {self.generator_loss!r}"
            )


@METHODS.register("gan")
class Gan(Method):
    """G_gamma (generator) and D_omega(x) (discriminator), trained simultaneously."""

    Options = GanOptions

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: GanOptions) -> None:
        super().__init__(data_shape, model, options)
        self.generator = generator_for(model, data_shape)
        self.discriminator = discriminator_for(model, data_shape)
        self.generator_loss = GENERATOR_LOSSES[options.generator_loss]

    def training_loss(self, x_real: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """D: the logistic loss of O_gan (eq. 6 with x alone); G: the chosen generator loss,
        through D with detached parameters (both read D on G(z) from one first-layer product)."""
        x_generated = self.generator(self.sample_latent(len(x_real)))
        for_discriminator, for_generator = two_sided_logits(self.discriminator, x_generated)
        discriminator = logistic_discriminator_loss(for_discriminator, self.discriminator(x_real))
        generator = self.generator_loss(for_generator)
        return discriminator + generator, {"discriminator": discriminator.detach(), "generator": generator.detach()}
