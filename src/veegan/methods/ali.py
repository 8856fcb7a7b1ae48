"""ALI / BiGAN (Dumoulin et al. 2017; Donahue et al. 2017), as the paper runs it (Section 4;
docs/protocol.md): an encoder E (VEEGAN's reconstructor architecture), a generator G and a joint
discriminator D(z, x) on (z, G(z)) against (E(x), x); G and E play against D with the
non-saturating loss."""
from __future__ import annotations

import torch

from ..config import ModelConfig
from ..nets import bidirectional_networks
from .base import Method, NoOptions, frozen, register
from .losses import non_saturating_encoder_loss, non_saturating_generator_loss


@register("ali")
class Ali(Method):
    """G (generator), E (encoder) and D(z, x) (joint discriminator)."""

    Options = NoOptions
    # --preset best (docs/recipe.md, ALI's screen): R1 on the joint D (gamma 10) and EMA of G's
    # weights, the candidate `r1+ema` that the study's rule picked
    best_preset = {"loss": {"r1_gamma": 10.0}, "ema": {"decay": 0.999}}
    uses_discriminator_loss = True
    trains = {"discriminator": ("discriminator",), "generator": ("generator",), "encoder": ("encoder",)}
    learning_rate_of = {"encoder": "lr_reconstructor"}  # E has the reconstructor's architecture and rate

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: NoOptions) -> None:
        super().__init__(data_shape, model, options)
        self.generator, self.encoder, self.discriminator = bidirectional_networks(model, data_shape)

    def training_loss(self, x_real: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """D: eq. (6) on (z, G(z)) vs (E(x), x); G and E: the non-saturating losses through D
        with detached parameters. All three update simultaneously. Under ``loss.objective``
        rpgan, D pairs (z_i, G(z_i)) with (E(x_i), x_i), and G and E share RpGAN's player loss,
        each through its own side of the pair."""
        D = self.discriminator
        z = self.sample_latent(len(x_real))
        x_generated, z_encoded = self.generator(z), self.encoder(x_real)
        return {
            "discriminator": self.discriminator_loss((z, x_generated), (z_encoded.detach(), x_real)),
            "generator": self.player_loss(frozen(D, z, x_generated), non_saturating_generator_loss),
            "encoder": self.real_side_player_loss(frozen(D, z_encoded, x_real), non_saturating_encoder_loss),
        }
