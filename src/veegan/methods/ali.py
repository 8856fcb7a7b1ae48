"""ALI / BiGAN (Dumoulin et al. 2017; Donahue et al. 2017), as the paper runs it (Section 4,
PROTOCOL.md): an encoder E (VEEGAN's reconstructor architecture), a generator G and a joint
discriminator D(z, x) on (z, G(z)) against (E(x), x); G and E play against D with the
non-saturating loss."""
from __future__ import annotations

import torch

from ..config import ModelConfig
from ..losses import logistic_discriminator_loss, non_saturating_generator_loss
from ..networks import bidirectional_networks
from . import METHODS
from .base import Method, NoOptions


def non_saturating_encoder_loss(logits_encoded: torch.Tensor) -> torch.Tensor:
    """E's side of eq. (6) with the non-saturating trick (Section 5.2): E wants D to take
    (E(x), x) for a generated pair, max E_x[log sigma(D(E(x), x))] = min E_x[softplus(-D(E(x), x))]."""
    return torch.nn.functional.softplus(-logits_encoded).mean()


@METHODS.register("ali")
class Ali(Method):
    """G (generator), E (encoder) and D(z, x) (joint discriminator)."""

    Options = NoOptions

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: NoOptions) -> None:
        super().__init__(data_shape, model, options)
        self.generator, self.encoder, self.discriminator = bidirectional_networks(model, data_shape)

    def training_loss(self, x_real: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """D: eq. (6) on (z, G(z)) vs (E(x), x); G and E: the non-saturating losses through D
        with detached parameters. All three update simultaneously."""
        z = self.sample_latent(len(x_real))
        d_generated, g_generated = self.discriminator.two_sided_logits(z, self.generator(z), trainable="x")
        d_encoded, g_encoded = self.discriminator.two_sided_logits(self.encoder(x_real), x_real, trainable="z")
        discriminator = logistic_discriminator_loss(d_generated, d_encoded)
        generator = non_saturating_generator_loss(g_generated)
        encoder = non_saturating_encoder_loss(g_encoded)
        return discriminator + generator + encoder, {
            "discriminator": discriminator.detach(), "generator": generator.detach(), "encoder": encoder.detach(),
        }
