"""The paper's image datasets (Sections 5.2 and 5.3, Appendix G) and the user's own folder of
images, as training datasets: uint8 pixels held in memory, fresh batches drawn uniformly with
replacement and scaled to [-1, 1] (the range of the DCGAN generator's tanh). Stacked MNIST is
in :mod:`.stacked_mnist`.

Each takes ``root``, the folder its files are in (``data_dir`` in the configuration). Without
it, CIFAR-10 is looked for in the cache directory and downloaded there if missing
(:mod:`.download`); CelebA has no stable official URL, so it needs ``root``.

All of them bring the paper's DCGAN settings (:data:`IMAGE_PRESET`) as their defaults.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..backend.device import fits_on
from ..errors import VeeganError
from . import download
from .base import Dataset, DatasetSpec, draw, pixels_to_float, register
from .readers import read_cifar10, read_image_folder

# The image settings of Section 5.2 and Appendix C (docs/protocol.md, "Images"): DCGAN's
# generator (z of size 100, no extra noise input) at base width 64, the Table 3 joint
# discriminator (512 hidden units), a reconstructor of two linear layers; Adam with DCGAN's
# lr 2e-4 and beta1 0.5, batch 64; 50,000 steps (3.2 million images, 25 epochs' worth of PacGAN's
# 128,000-image Stacked MNIST);
# 26,000 samples for Stacked MNIST's mode count.
IMAGE_PRESET: dict[str, Any] = {
    "steps": 50_000,
    "batch_size": 64,
    "model": {"latent_dim": 100, "generator_noise_dim": 0, "reconstructor_hidden": [512],
              "discriminator_hidden": [512], "conv_width": 64},
    "optim": {"lr_generator": 2e-4, "lr_reconstructor": 2e-4, "lr_discriminator": 2e-4, "beta1": 0.5},
    "schedule": {"eval_samples": 26_000, "eval_every": 1_000_000, "checkpoint_every": 1_000},
}
# VEEGAN pre-trains its reconstructor for a few steps on images (Section 5.2)
IMAGE_METHOD_PRESETS = {"veegan": {"reconstructor_pretrain_steps": 100}}
# 64 x 64 datasets without a scorer: enough samples for the final sample grid, not 26,000
UNSCORED_PRESET = {**IMAGE_PRESET, "schedule": {**IMAGE_PRESET["schedule"], "eval_samples": 1_000}}


class ImageDataset(Dataset):
    """Images (N, C, H, W) uint8, drawn uniformly with replacement as float32 in [-1, 1]. On a
    GPU the uint8 images are held on the device (CIFAR-10's 50,000 are 154 MB)."""

    device_tensors = ("images",)

    def __init__(self, name: str, images: torch.Tensor, labels: torch.Tensor | None = None) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4 or len(images) == 0:
            raise VeeganError(f"{name}: expected N x C x H x W uint8 images, got {images.dtype} {tuple(images.shape)}")
        self.name, self.images, self.labels = name, images, labels
        self.dim = int(np.prod(images.shape[1:]))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        images = self.on_device("images")  # on the device, or pinned on the host when too large for it
        index = draw(torch.randint, len(images), (n,), generator=generator, device=images.device)
        return pixels_to_float(images[index].to(self.device, non_blocking=True))

    def to(self, device: torch.device | str) -> ImageDataset:
        """Hold the uint8 images on ``device`` when they fit (:func:`veegan.backend.device.fits_on`);
        else keep them in pinned host memory and move each batch."""
        device = torch.device(device)
        if fits_on(device, self.images.nbytes):
            return super().to(device)
        self.device, self._on_device = device, {"images": self.images.pin_memory()}
        return self

    @classmethod
    def from_hwc(cls, name: str, images: np.ndarray, labels: np.ndarray | None = None) -> ImageDataset:
        """From the readers' (N, H, W, C) uint8 arrays."""
        chw = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        return cls(name, chw, None if labels is None else torch.from_numpy(labels))


def cifar10(root: str | Path | None = None) -> ImageDataset:
    """CIFAR-10's 50,000 training images, 32 x 32 x 3 (see :func:`cifar10_split`)."""
    return cifar10_split(root, "train")


def cifar10_split(root: str | Path | None, split: str) -> ImageDataset:
    """A CIFAR-10 split ("train" or "test"). ``root`` holds the official python batches
    (``cifar-10-batches-py`` or its parent) or an image-folder copy (``<split>/<class>/``, or
    for the training split ``<class>/`` directly); without it, the cache (downloading)."""
    root = Path(root) if root is not None else download.fetch_cifar10()
    if not root.is_dir():
        raise VeeganError(f"CIFAR-10 folder {root} does not exist")
    if (root / "cifar-10-batches-py").is_dir() or (root / "data_batch_1").is_file():
        return ImageDataset.from_hwc("cifar10" if split == "train" else f"cifar10-{split}", *read_cifar10(root, split))
    folder = root / split
    if not folder.is_dir():
        if split != "train":
            raise VeeganError(f"CIFAR-10 folder {root} has no {split}/ sub-folder")
        folder = root
    return ImageDataset.from_hwc("cifar10" if split == "train" else f"cifar10-{split}", *read_image_folder(folder))


def celeba(root: str | Path | None = None, side: int = 64) -> ImageDataset:
    """CelebA faces (Appendix G): the central square of each aligned image, resized to
    ``side`` x ``side`` (64 as in DCGAN). ``root`` is the folder of JPEGs (``celebA/`` or
    ``img_align_celeba/`` inside it is found too)."""
    if root is None:
        raise VeeganError("CelebA has no automatic download: set data_dir to the folder of its aligned JPEGs")
    return ImageDataset.from_hwc("celeba", *read_image_folder(_image_subfolder(Path(root)), center_crop="square", resize=side))


def images(root: str | Path | None = None, side: int = 64) -> ImageDataset:
    """Your own folder of images (class sub-folders optional), centre-cropped to a square and
    resized to ``side`` x ``side``."""
    if root is None:
        raise VeeganError("dataset 'images' needs data_dir, the folder of your images")
    return ImageDataset.from_hwc(Path(root).name or "images", *read_image_folder(root, center_crop="square", resize=side))


def _image_subfolder(root: Path) -> Path:
    for name in ("celebA", "img_align_celeba"):
        if (root / name).is_dir():
            return root / name
    return root


register(DatasetSpec("cifar10", cifar10, reads_files=True, preset=IMAGE_PRESET, method_presets=IMAGE_METHOD_PRESETS))
register(DatasetSpec("celeba", celeba, reads_files=True, preset=UNSCORED_PRESET, method_presets=IMAGE_METHOD_PRESETS))
register(DatasetSpec("images", images, reads_files=True, preset=UNSCORED_PRESET, method_presets=IMAGE_METHOD_PRESETS))
