"""Stacked MNIST (channels, labels, scaling, reproducibility) and finding/loading MNIST files."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from veegan.data.base import pixels_to_float
from veegan.data.mnist import load_mnist, locate_mnist
from veegan.data.stacked_mnist import N_MODES, StackedMNIST, build_stacked_mnist
from veegan.errors import VeeganError

from .image_helpers import SHARED_MNIST, raises_one_line, write_idx, write_mnist

# Ten "digits": image i is filled with the value 20 * i + 5, so a channel's value tells which
# image it came from; its label is a permutation of 0..9 so that labels differ from indices.
DIGIT_VALUES = 20 * np.arange(10) + 5
DIGIT_LABELS = np.array([3, 7, 0, 9, 1, 8, 2, 6, 4, 5])


def make_digits(side: int = 28) -> tuple[np.ndarray, np.ndarray]:
    images = np.broadcast_to(DIGIT_VALUES[:, None, None], (10, side, side)).astype(np.uint8)
    return images, DIGIT_LABELS.copy()


@pytest.fixture
def digits() -> tuple[np.ndarray, np.ndarray]:
    return make_digits()


def source_indices(images: torch.Tensor) -> torch.Tensor:
    """(n, 3) indices of the digit images each channel of float ``images`` was taken from."""
    pixels = torch.round((images + 1) * 127.5).long()
    assert (pixels == pixels[:, :, :1, :1]).all()  # each channel is one whole digit image
    return (pixels[:, :, 0, 0] - 5) // 20


def test_channels_and_labels_correspond(digits):
    stacked = StackedMNIST(*digits)
    images, labels = stacked.sample(500, torch.Generator().manual_seed(0))
    assert images.shape == (500, 3, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (500,) and labels.dtype == torch.int64
    digit = torch.as_tensor(DIGIT_LABELS)[source_indices(images)]
    assert torch.equal(labels, 100 * digit[:, 0] + 10 * digit[:, 1] + digit[:, 2])


def test_channels_are_drawn_independently():
    stacked = StackedMNIST(*make_digits(side=1))  # 1 x 1 digits keep 20,000 samples cheap
    images, labels = stacked.sample(20_000, torch.Generator().manual_seed(1))
    assert len(labels.unique()) == N_MODES  # about 20 draws per triple: all 1,000 appear
    indices = source_indices(images)
    assert (indices[:, 0] != indices[:, 1]).float().mean() == pytest.approx(0.9, abs=0.02)
    for channel in range(3):
        counts = torch.bincount(indices[:, channel], minlength=10).float()
        assert (counts / len(indices) - 0.1).abs().max() < 0.015


def test_scaling_to_minus_one_one():
    pixels = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
    scaled = pixels_to_float(pixels)
    assert scaled.dtype == torch.float32
    assert scaled[0] == -1.0 and scaled[-1] == 1.0
    assert torch.allclose(scaled, pixels.float() / 127.5 - 1)


def test_reproducible_from_generator(digits):
    stacked = StackedMNIST(*digits)
    first = stacked.sample(64, torch.Generator().manual_seed(7))
    again = stacked.sample(64, torch.Generator().manual_seed(7))
    other = stacked.sample(64, torch.Generator().manual_seed(8))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[1], other[1])


def test_fixed_dataset(digits):
    images, labels = build_stacked_mnist(*digits, n=300, seed=3)
    assert images.shape == (300, 3, 28, 28) and images.dtype == torch.uint8
    again_images, again_labels = build_stacked_mnist(*digits, n=300, seed=3)
    assert torch.equal(images, again_images) and torch.equal(labels, again_labels)
    assert not torch.equal(labels, build_stacked_mnist(*digits, n=300, seed=4)[1])
    sampled_images, sampled_labels = StackedMNIST(*digits).sample(300, torch.Generator().manual_seed(3))
    assert torch.equal(pixels_to_float(images), sampled_images) and torch.equal(labels, sampled_labels)


def test_accepts_channel_last_mnist_and_checks_inputs(digits):
    images, labels = digits
    stacked = StackedMNIST(images[..., None], labels)
    assert stacked.sample(2)[0].shape == (2, 3, 28, 28)
    for bad_images, bad_labels, message in [
        (images.astype(np.float32), labels, "needs N x H x W uint8 digit images, got float32"),
        (images, labels[:5], f"needs {len(images)} integer labels, got int64 (5,)"),
        (images, labels + 1, "needs digit labels 0..9, got 1..10"),
        (images[:0], labels[:0], "needs N x H x W uint8 digit images"),
    ]:
        with pytest.raises(VeeganError, match=re.escape(message)):
            StackedMNIST(bad_images, bad_labels)


# --------------------------------------------------------------------------------------------
# finding and loading MNIST


def test_locate_gzip_and_raw(tmp_path):
    write_mnist(tmp_path)
    found = locate_mnist(tmp_path)
    assert found == {
        "train_images": tmp_path / "train-images-idx3-ubyte.gz",
        "train_labels": tmp_path / "train-labels-idx1-ubyte.gz",
        "test_images": tmp_path / "t10k-images-idx3-ubyte",
        "test_labels": tmp_path / "t10k-labels-idx1-ubyte",
    }


def test_locate_torchvision_layout(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", gzip_train=False)
    assert locate_mnist(tmp_path)["train_images"] == tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"


def test_locate_reports_missing_files(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    raises_one_line(locate_mnist, tmp_path, naming="t10k-labels-idx1-ubyte")
    assert set(locate_mnist(tmp_path, ["train"])) == {"train_images", "train_labels"}
    raises_one_line(locate_mnist, tmp_path / "absent", naming="absent")
    raises_one_line(locate_mnist, tmp_path, ["validation"], naming="validation")


def test_load_mnist_and_stack(tmp_path):
    write_mnist(tmp_path)
    images, labels = load_mnist(tmp_path, "train")
    assert images.shape == (6, 28, 28, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, np.arange(6))
    assert load_mnist(tmp_path, "test")[0].shape == (4, 28, 28, 1)
    stacked = StackedMNIST.from_mnist_folder(tmp_path, "test")
    assert stacked.sample(3)[0].shape == (3, 3, 28, 28)


def test_load_mnist_checks_consistency(tmp_path):
    write_mnist(tmp_path, n_train=6)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8), compress=True)
    raises_one_line(load_mnist, tmp_path, "train", naming="train-labels-idx1-ubyte.gz")
    write_mnist(tmp_path / "small", side=14)
    raises_one_line(load_mnist, tmp_path / "small", "train", naming="train-images-idx3-ubyte.gz")


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(), reason="no real MNIST copy")
def test_real_mnist_stacks():
    stacked = StackedMNIST.from_mnist_folder(SHARED_MNIST, "test")
    images, labels = stacked.sample(1000, torch.Generator().manual_seed(0))
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels.min() >= 0 and labels.max() < N_MODES
