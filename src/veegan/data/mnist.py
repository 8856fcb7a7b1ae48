"""MNIST's files: where they are (a folder, or the cache, downloading) and one split read from
them. Stacked MNIST draws from them, and the digit classifier trains on them."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import VeeganError
from . import download
from .readers import read_mnist_images, read_mnist_labels

# File names without ".gz" (the official downloads are gzipped; unpacked copies work too).
MNIST_FILES = {
    "train": {"images": "train-images-idx3-ubyte", "labels": "train-labels-idx1-ubyte"},
    "test": {"images": "t10k-images-idx3-ubyte", "labels": "t10k-labels-idx1-ubyte"},
}
MNIST_SIDE = 28


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


def mnist_root(root: str | Path | None) -> Path:
    """The folder with the MNIST IDX files: ``root``, else the cache (downloading if needed)."""
    return Path(root) if root is not None else download.fetch_mnist()
