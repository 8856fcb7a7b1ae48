"""VEEGAN + DAE (paper Section 5.3, Appendix E): VEEGAN with the noise autoencoder
d(z, F(G(z))) replaced by a data autoencoder lambda * ||x - G(F(x))||^2 on real data."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import VeeganError
from .base import register
from .losses import data_autoencoder_loss
from .veegan import RealPairOptions, Veegan


@dataclass
class VeeganDaeOptions(RealPairOptions):
    # lambda, the weight of the data loss (the paper sweeps it; Appendix E)
    data_loss_weight: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.data_loss_weight < 0:
            raise VeeganError("method_options.data_loss_weight must be >= 0")


@register("veegan_dae")
class VeeganDae(Veegan):
    """The same networks and Algorithm 1 as VEEGAN; only the autoencoder term differs."""

    Options = VeeganDaeOptions
    robust_preset = {}  # VEEGAN's (veegan.py) has not been measured with the data autoencoder
    best_preset = None  # nor screened in the recipe study (docs/recipe.md)
    autoencoder_name = "data_reconstruction"
    trains = {"discriminator": ("discriminator",), "adversarial": ("generator",),
              "data_reconstruction": ("generator", "reconstructor")}

    def pretraining(self, step: int) -> bool:
        return False  # the paper pre-trains only VEEGAN's reconstructor

    def autoencoder_loss(self, z: torch.Tensor, x_generated: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
        """lambda * ||x - G(F(x))||^2 on the real batch; F and G both receive its gradient."""
        return self.options.data_loss_weight * data_autoencoder_loss(x_real, self.generator(self.reconstructor(x_real)))
