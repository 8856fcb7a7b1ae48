"""Stacked MNIST (VEEGAN Section 5.2, PacGAN; docs/protocol.md, "Datasets"): three MNIST digits
drawn independently, one per colour channel, give a 28 x 28 x 3 image. Its 1,000 modes are the
digit triples, labelled 100 * red digit + 10 * green digit + blue digit, which an MNIST digit
classifier reads off generated images (:class:`StackedMnistScorer`).
"""
from __future__ import annotations

import copy

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import VeeganError
from ..evaluation import classifier
from .base import Dataset, DatasetSpec, draw, pixels_to_float, register
from .images import IMAGE_METHOD_PRESETS, IMAGE_PRESET
from .mnist import load_mnist, mnist_root

N_MODES = 1000
CONFIDENT = 0.9  # a channel counts as a digit when the classifier's top probability reaches this
PACGAN_SIZE = 128_000  # the fixed Stacked MNIST set of the PacGAN study
CHANNEL_WEIGHTS = torch.tensor([100, 10, 1])  # label = 100 * red + 10 * green + blue


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
        return draw(torch.randint, len(self.images), (n, 3), generator=generator, device=self.images.device)

    def stack(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images (n, 3, H, W) with digit ``indices[:, c]`` in channel c, and their
        int64 mode labels 100 * red + 10 * green + blue."""
        return self.images[indices], (self.labels[indices] * CHANNEL_WEIGHTS.to(self.labels.device)).sum(dim=1)

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


class StackedMNISTDataset(Dataset):
    """Stacked MNIST as a training dataset: 28 x 28 x 3 images in [-1, 1], 1,000 modes."""

    shape = (3, 28, 28)
    dim = 3 * 28 * 28

    def __init__(self, stacked: StackedMNIST, name: str = "stacked_mnist") -> None:
        self.name, self.stacked = name, stacked

    def to(self, device: torch.device | str) -> StackedMNISTDataset:
        """Draw from digits held on ``device`` (MNIST's 60,000 are 47 MB as uint8)."""
        super().to(device)
        moved = copy.copy(self.stacked)
        moved.images, moved.labels = self.stacked.images.to(self.device), self.stacked.labels.to(self.device)
        self.stacked = moved
        return self

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.stacked.sample(n, generator)[0]


def stacked_mnist_metrics(samples: torch.Tensor, model: classifier.DigitClassifier, classifier_accuracy: float) -> dict[str, Any]:
    """Modes captured (distinct digit triples among the samples, of 1,000) and
    KL(p_gen || uniform) in nats, with p_gen the histogram of triples (Section 5.2); beyond the
    paper, ``digits_pct``: the percentage of channels that the classifier labels with confidence
    >= 0.9, its own account of whether the samples are digits at all (real data: about 99 %)."""
    if samples.ndim != 4 or samples.shape[1:] != (3, 28, 28):
        raise VeeganError(f"Stacked-MNIST metrics need N x 3 x 28 x 28 images, got {tuple(samples.shape)}")
    labels, confidence = model.predict_with_confidence(samples)
    digits = labels.view(len(samples), 3)
    triples = (digits * CHANNEL_WEIGHTS).sum(1)
    counts = torch.bincount(triples, minlength=N_MODES).double()
    p = counts / counts.sum()
    seen = p > 0
    kl = float((p[seen] * (p[seen] * N_MODES).log()).sum())
    digits_pct = 100 * float((confidence >= CONFIDENT).float().mean())
    return {"modes": int(seen.sum()), "max_modes": N_MODES, "kl": kl, "digits_pct": digits_pct,
            "classifier_accuracy": classifier_accuracy}


class StackedMnistScorer:
    """Labels each colour channel with the saved MNIST classifier (``veegan classifier train``).
    The classifier is loaded on the first question, so a damaged or foreign file is reported
    when training starts, not at its end."""

    description = "modes of 1,000 digit triples and KL to uniform, by the MNIST classifier"

    def __init__(self) -> None:
        self._loaded: dict[Path, tuple[classifier.DigitClassifier, float]] = {}

    def _classifier(self) -> tuple[classifier.DigitClassifier, float]:
        path = classifier.default_path()
        if path not in self._loaded:
            self._loaded[path] = classifier.load_classifier(path)
        return self._loaded[path]

    def ready(self, dataset: Dataset) -> bool:
        if classifier.default_path() in self._loaded or classifier.default_path().is_file():
            self._classifier()
            return True
        return False

    def __call__(self, dataset: Dataset, samples: torch.Tensor) -> dict[str, Any]:
        return stacked_mnist_metrics(samples, *self._classifier())


def stacked_mnist(root: str | Path | None = None) -> StackedMNISTDataset:
    """Stacked MNIST from the MNIST training files in ``root`` (raw or gzipped IDX)."""
    return StackedMNISTDataset(StackedMNIST.from_mnist_folder(mnist_root(root), "train"))


register(DatasetSpec("stacked_mnist", stacked_mnist, reads_files=True, scorer=StackedMnistScorer(),
                     preset=IMAGE_PRESET, method_presets=IMAGE_METHOD_PRESETS))
