"""Spectral normalisation of a discriminator (Miyato et al. 2018), a stabiliser beyond the paper
(``model.spectral_norm``): each weight of D is divided by an estimate of its largest singular
value, which torch's parametrization refines by one power iteration per forward pass in training."""
from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from .mlp import PairLinear

WEIGHT_NAMES = ("weight", "weight_a", "weight_b")  # nn.Linear / nn.Conv2d, and PairLinear's two blocks


def apply_spectral_norm(discriminator: nn.Module) -> nn.Module:
    """Normalise every linear and convolutional weight of ``discriminator`` in place and return it.

    PairLinear (the joint D's input layer, W_a z + W_b x) keeps its two blocks, normalised one by
    one: the layer's Lipschitz constant is then at most sqrt(2), not 1. Batch normalisation
    (DCGAN's D on images) is left as it is."""
    for module in list(discriminator.modules()):
        if isinstance(module, (nn.Linear, nn.Conv2d, PairLinear)):
            for name in WEIGHT_NAMES:
                if name in module._parameters:
                    spectral_norm(module, name)
    return discriminator


def is_parametrized(network: nn.Module) -> bool:
    """Whether any layer of ``network`` computes a weight from a parametrization (spectral norm)."""
    return any(parametrize.is_parametrized(module) for module in network.modules())
