"""The paper's image datasets (Sections 5.2 and 5.3, Appendix E) and the user's own folder of
images, as training datasets: uint8 pixels held in memory, fresh batches drawn uniformly with
replacement and scaled to [-1, 1] (the range of the DCGAN generator's tanh).

Each takes ``root``, the folder its files are in (``data_dir`` in the configuration). Without
it, MNIST and CIFAR-10 are looked for in the cache directory and downloaded there if missing
(:mod:`veegan.download`); CelebA has no stable official URL, so it needs ``root``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import classifier, download
from .classifier import DigitClassifier
from .datasets import DATASETS, Dataset
from .errors import VeeganError
from .image_files import read_cifar10, read_image_folder
from .stacked_mnist import StackedMNIST, pixels_to_float


class ImageDataset(Dataset):
    """Images (N, C, H, W) uint8, drawn uniformly with replacement as float32 in [-1, 1]."""

    def __init__(self, name: str, images: torch.Tensor, labels: torch.Tensor | None = None) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4 or len(images) == 0:
            raise VeeganError(f"{name}: expected N x C x H x W uint8 images, got {images.dtype} {tuple(images.shape)}")
        self.name, self.images, self.labels = name, images, labels
        self.dim = int(np.prod(images.shape[1:]))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return pixels_to_float(self.images[torch.randint(len(self.images), (n,), generator=generator)])

    @classmethod
    def from_hwc(cls, name: str, images: np.ndarray, labels: np.ndarray | None = None) -> ImageDataset:
        """From the readers' (N, H, W, C) uint8 arrays."""
        chw = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        return cls(name, chw, None if labels is None else torch.from_numpy(labels))


class StackedMNISTDataset(Dataset):
    """Stacked MNIST (Section 5.2): three MNIST training digits drawn independently per image,
    one per colour channel; 28 x 28 x 3, 1,000 modes. Mode metrics need the MNIST classifier
    (:mod:`veegan.classifier`)."""

    shape = (3, 28, 28)
    dim = 3 * 28 * 28

    def __init__(self, stacked: StackedMNIST, name: str = "stacked_mnist") -> None:
        self.name, self.stacked = name, stacked
        self._classifier: tuple[DigitClassifier, float] | None = None

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.stacked.sample(n, generator)[0]

    @property
    def has_metrics(self) -> bool:
        """True once the classifier is loaded; a saved classifier is loaded on the first call
        (so a damaged or foreign file is reported when training starts, not at the end)."""
        if self._classifier is None and classifier.default_path().is_file():
            self._classifier = classifier.load_classifier()
        return self._classifier is not None

    def score(self, samples: torch.Tensor) -> dict[str, Any]:
        """Modes of 1,000 and KL to the uniform distribution of triples, with the accuracy of
        the classifier that measured them."""
        if self._classifier is None:
            self._classifier = classifier.load_classifier()
        return classifier.stacked_mnist_metrics(samples, *self._classifier)


def mnist_root(root: str | Path | None) -> Path:
    """The folder with the MNIST IDX files: ``root``, else the cache (downloading if needed)."""
    return Path(root) if root is not None else download.fetch_mnist()


@DATASETS.register("stacked_mnist")
def stacked_mnist(root: str | Path | None = None) -> StackedMNISTDataset:
    """Stacked MNIST from the MNIST training files in ``root`` (raw or gzipped IDX)."""
    return StackedMNISTDataset(StackedMNIST.from_mnist_folder(mnist_root(root), "train"))


@DATASETS.register("cifar10")
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


@DATASETS.register("celeba")
def celeba(root: str | Path | None = None, side: int = 64) -> ImageDataset:
    """CelebA faces (Appendix E): the central square of each aligned image, resized to
    ``side`` x ``side`` (64 as in DCGAN). ``root`` is the folder of JPEGs (``celebA/`` or
    ``img_align_celeba/`` inside it is found too)."""
    if root is None:
        raise VeeganError("CelebA has no automatic download: set data_dir to the folder of its aligned JPEGs")
    return ImageDataset.from_hwc("celeba", *read_image_folder(_image_subfolder(Path(root)), center_crop="square", resize=side))


@DATASETS.register("images")
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
