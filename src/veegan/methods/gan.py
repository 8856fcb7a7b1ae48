"""The plain GAN (Goodfellow et al. 2014; paper Section 2) on the same generator as VEEGAN."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ModelConfig
from ..errors import VeeganError
from ..nets import discriminator_for, generator_for
from .base import Method, frozen, register
from .losses import minimax_generator_loss, non_saturating_generator_loss

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


@register("gan")
class Gan(Method):
    """G_gamma (generator) and D_omega(x) (discriminator), trained simultaneously."""

    Options = GanOptions
    # --preset robust (docs/beyond-2d.md): R1 on D, which alone took a GAN to every mode of a
    # 50-D mixture in the screen
    robust_preset = {"loss": {"r1_gamma": 10.0}}
    # --preset best (docs/recipe.md, the GAN's screen): R3GAN's RpGAN with R1 and R2 (gamma 10)
    # and EMA of G's weights, the candidate `rpgan_r1_r2_g10+ema` that the study's rule picked,
    # with the annealing check's R3GAN ratios (lr to 1/4, gammas to 1/10 along a half cosine)
    best_preset = {"loss": {"objective": "rpgan", "r1_gamma": 10.0, "r2_gamma": 10.0, "final_gamma_fraction": 0.1},
                   "optim": {"final_lr_fraction": 0.25}, "ema": {"decay": 0.999}}
    uses_discriminator_loss = True
    trains = {"discriminator": ("discriminator",), "generator": ("generator",)}

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: GanOptions) -> None:
        super().__init__(data_shape, model, options)
        self.generator = generator_for(model, data_shape)
        self.discriminator = discriminator_for(model, data_shape)
        self.generator_loss = GENERATOR_LOSSES[options.generator_loss]

    def training_loss(self, x_real: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """D: the logistic loss of O_gan (eq. 6 with x alone); G: the chosen generator loss
        through D with detached parameters (under ``loss.objective`` rpgan, both RpGAN's)."""
        x_generated = self.generator(self.sample_latent(len(x_real)))
        D = self.discriminator
        return {
            "discriminator": self.discriminator_loss((x_generated,), (x_real,)),
            "generator": self.player_loss(frozen(D, x_generated), self.generator_loss),
        }
