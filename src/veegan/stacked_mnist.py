"""Stacked MNIST (PROTOCOL.md; VEEGAN Section 5.2, PacGAN): three MNIST digits drawn
independently, one per colour channel, give a 28 x 28 x 3 image. Its 1,000 modes are the digit
triples, labelled 100 * red digit + 10 * green digit + blue digit.

Also finds and loads the MNIST IDX files the stacks are drawn from.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .errors import VeeganError
from .image_files import read_mnist_images, read_mnist_labels

# File names without ".gz" (the official downloads are gzipped; unpacked copies work too).
MNIST_FILES = {
    "train": {"images": "train-images-idx3-ubyte", "labels": "train-labels-idx1-ubyte"},
    "test": {"images": "t10k-images-idx3-ubyte", "labels": "t10k-labels-idx1-ubyte"},
}
MNIST_SIDE = 28
N_MODES = 1000
PACGAN_SIZE = 128_000  # the fixed Stacked MNIST set of the PacGAN study
CHANNEL_WEIGHTS = torch.tensor([100, 10, 1])  # label = 100 * red + 10 * green + blue


def _find_idx(root: Path, stem: str) -> Path | None:
    """``stem`` or ``stem.gz`` in ``root`` or in torchvision's ``root/MNIST/raw``."""
    for folder in (root, root / "MNIST" / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def locate_mnist(root: str | Path, splits: Sequence[str] = ("train", "test")) -> dict[str, Path]:
    """The MNIST IDX files (raw or gzip) of ``splits`` in ``root``, keyed ``"train_images"``,
    ``"train_labels"``, ``"test_images"``, ``"test_labels"``; every one must be there."""
    root = Path(root)
    if not root.is_dir():
        raise VeeganError(f"MNIST folder {root} does not exist")
    unknown = [split for split in splits if split not in MNIST_FILES]
    if unknown:
        raise VeeganError(f"unknown MNIST split {unknown[0]!r}; choose from {', '.join(MNIST_FILES)}")
    found, missing = {}, []
    for split in splits:
        for kind, stem in MNIST_FILES[split].items():
            path = _find_idx(root, stem)
            if path is None:
                missing.append(f"{stem}[.gz]")
            else:
                found[f"{split}_{kind}"] = path
    if missing:
        raise VeeganError(f"MNIST folder {root} lacks {', '.join(missing)}")
    return found


def load_mnist(root: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """One MNIST split from ``root``: uint8 images (N, 28, 28, 1) and int64 labels (N,)."""
    paths = locate_mnist(root, (split,))
    images = read_mnist_images(paths[f"{split}_images"])
    labels = read_mnist_labels(paths[f"{split}_labels"])
    if images.shape[1:3] != (MNIST_SIDE, MNIST_SIDE):
        raise VeeganError(f"{paths[f'{split}_images']} holds {images.shape[1]}x{images.shape[2]} images, not 28x28")
    if len(images) != len(labels):
        raise VeeganError(
            f"{paths[f'{split}_images']} holds {len(images)} images but "
            f"{paths[f'{split}_labels']} holds {len(labels)} labels"
        )
    return images, labels


def pixels_to_float(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0..255 as float32 in [-1, 1]."""
    return pixels.float() / 127.5 - 1.0


class StackedMNIST:
    """Stacked MNIST drawn from MNIST ``images`` (N, 28, 28[, 1], uint8) and ``labels`` (N,).

    ``sample`` draws fresh triples from a ``torch.Generator``, so a seeded generator gives the
    same batches again.
    """

    n_modes = N_MODES

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim == 4 and images.shape[-1] == 1:
            images = images[..., 0]
        if images.dtype != np.uint8 or images.ndim != 3 or len(images) == 0:
            raise VeeganError(f"Stacked MNIST needs N x H x W uint8 digit images, got {images.dtype} {images.shape}")
        if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
            raise VeeganError(f"Stacked MNIST needs {len(images)} integer labels, got {labels.dtype} {labels.shape}")
        if labels.min() < 0 or labels.max() > 9:
            raise VeeganError(f"Stacked MNIST needs digit labels 0..9, got {labels.min()}..{labels.max()}")
        self.images = torch.from_numpy(np.ascontiguousarray(images))
        self.labels = torch.from_numpy(labels.astype(np.int64))

    @classmethod
    def from_mnist_folder(cls, root: str | Path, split: str = "train") -> StackedMNIST:
        """Stacked MNIST drawn from the MNIST files in ``root`` (see :func:`load_mnist`)."""
        return cls(*load_mnist(root, split))

    def draw_indices(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, 3) indices of the red, green and blue digits, drawn independently and uniformly."""
        return torch.randint(len(self.images), (n, 3), generator=generator)

    def stack(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images (n, 3, H, W) with digit ``indices[:, c]`` in channel c, and their
        int64 mode labels 100 * red + 10 * green + blue."""
        return self.images[indices], (self.labels[indices] * CHANNEL_WEIGHTS).sum(dim=1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A fresh batch: float32 images (n, 3, H, W) in [-1, 1] and int64 labels in 0..999."""
        images, labels = self.stack(self.draw_indices(n, generator))
        return pixels_to_float(images), labels


def build_stacked_mnist(
    images: np.ndarray, labels: np.ndarray, n: int = PACGAN_SIZE, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed Stacked MNIST set of ``n`` images (PacGAN used 128,000), the same for the same
    seed: uint8 images (n, 3, 28, 28), kept as uint8 (301 MB for 128,000; convert batches
    with :func:`pixels_to_float`), and int64 labels. Equals ``StackedMNIST.sample`` with a
    generator seeded ``seed``, before scaling."""
    stacked = StackedMNIST(images, labels)
    return stacked.stack(stacked.draw_indices(n, torch.Generator().manual_seed(seed)))
