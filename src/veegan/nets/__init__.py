"""The networks the methods are built from: MLPs for vectors (:mod:`.mlp`), DCGAN for images
(:mod:`.dcgan`), and the factories that pick one for a data shape (:mod:`.build`)."""
from .build import bidirectional_networks, discriminator_for, generator_for, is_image

__all__ = ["bidirectional_networks", "discriminator_for", "generator_for", "is_image"]
