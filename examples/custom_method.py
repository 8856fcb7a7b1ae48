"""A method written outside the package: the least-squares GAN (Mao et al. 2017) on the same
networks as veegan's GAN. Train it with

    veegan train --method examples/custom_method.py:CustomGan --dataset ring --steps 50 --out runs/custom
"""
import torch

from veegan.methods import Method, frozen
from veegan.nets import discriminator_for, generator_for


class CustomGan(Method):
    """G and D(x): D regresses real samples to 1 and generated ones to 0; G pushes D(G(z)) to 1."""

    # which networks each loss term may train (tests/test_method_contract.py checks it)
    trains = {"discriminator": ("discriminator",), "generator": ("generator",)}

    def __init__(self, data_shape, model, options):
        super().__init__(data_shape, model, options)
        self.generator = generator_for(model, data_shape)
        self.discriminator = discriminator_for(model, data_shape)

    def training_loss(self, x_real: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        D = self.discriminator
        x_generated = self.generator(self.sample_latent(len(x_real)))
        return {
            # D's loss sees detached samples, so it trains D alone
            "discriminator": 0.5 * ((D(x_real) - 1).square().mean() + D(x_generated.detach()).square().mean()),
            # G's loss goes through D with D's parameters detached, so it trains G alone
            "generator": 0.5 * (frozen(D, x_generated) - 1).square().mean(),
        }
