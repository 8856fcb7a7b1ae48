"""PacGAN (Lin et al. 2018): a GAN whose discriminator judges m samples packed together, so
that a generator that repeats itself is easier to detect."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ModelConfig
from ..errors import VeeganError
from ..nets import discriminator_for, generator_for
from .base import Method, frozen, register
from .losses import non_saturating_generator_loss


@dataclass
class PacganOptions:
    # m, the number of samples per pack (PacGAN2 by default)
    pack_size: int = 2

    def __post_init__(self) -> None:
        if self.pack_size < 1:
            raise VeeganError("method_options.pack_size must be >= 1")


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(B, D) -> (B / m, m * D), or images (B, C, H, W) -> (B / m, m * C, H, W): consecutive
    samples concatenated (along the channels for images, as PacDCGAN does). Samples are i.i.d.,
    so consecutive groups are independent packs."""
    if len(x) % m:
        raise VeeganError(f"batch_size {len(x)} is not a multiple of method_options.pack_size {m}")
    return x.reshape(len(x) // m, m * x.shape[1], *x.shape[2:])


@register("pacgan")
class Pacgan(Method):
    """G and D(x_1, ..., x_m). The batch of B samples per side forms B / m packs, so every
    method sees the same number of samples per step."""

    Options = PacganOptions
    # --preset best (docs/recipe.md, PacGAN's screen): R3GAN's RpGAN with R1 and R2 (gamma 1) and
    # EMA of G's weights, the candidate `rpgan_r1_r2_g1+ema` that the study's rule picked
    best_preset = {"loss": {"objective": "rpgan", "r1_gamma": 1.0, "r2_gamma": 1.0}, "ema": {"decay": 0.999}}
    uses_discriminator_loss = True
    trains = {"discriminator": ("discriminator",), "generator": ("generator",)}

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: PacganOptions) -> None:
        super().__init__(data_shape, model, options)
        self.generator = generator_for(model, data_shape)
        self.discriminator = discriminator_for(model, data_shape, options.pack_size)

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % self.options.pack_size:
            raise VeeganError(f"batch_size {batch_size} is not a multiple of method_options.pack_size {self.options.pack_size}")

    def training_loss(self, x_real: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """The GAN losses (eq. 6 for D, non-saturating for G; or RpGAN's, pack paired with pack)
        on packs of both sides."""
        m, D = self.options.pack_size, self.discriminator
        x_generated = pack(self.generator(self.sample_latent(len(x_real))), m)
        return {
            "discriminator": self.discriminator_loss((x_generated,), (pack(x_real, m),)),
            "generator": self.player_loss(frozen(D, x_generated), non_saturating_generator_loss),
        }
