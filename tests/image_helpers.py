"""Small real-format files that the image-data tests write themselves, and a shared assertion."""
from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from veegan.errors import VeeganError

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """Write ``array`` as an IDX file by hand: magic, big-endian sizes, big-endian values."""
    header = struct.pack(">HBB", 0, IDX_TYPE_CODES[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_cifar_batch(path: Path, images: np.ndarray, labels: list[int], protocol: int = 2) -> Path:
    """A CIFAR-10 python batch: rows of 1024 red, 1024 green, 1024 blue values, as the official files."""
    data = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    batch = {b"batch_label": b"test batch", b"labels": labels, b"data": data,
             b"filenames": [f"img{i}.png".encode() for i in range(len(images))]}
    path.write_bytes(pickle.dumps(batch, protocol=protocol))
    return path


def raises_one_line(call, *args, naming: str, **kwargs) -> str:
    """Run ``call``, check it raises a one-line VeeganError that names ``naming``; return the message."""
    with pytest.raises(VeeganError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert naming in message
    return message


def write_mnist(folder, n_train=6, n_test=4, side=28, gzip_train=True):
    """Tiny MNIST files: training files gzipped (as downloaded) unless ``gzip_train`` is False,
    test files raw (as unpacked)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n, compress in [("train", n_train, gzip_train), ("t10k", n_test, False)]:
        suffix = ".gz" if compress else ""
        images = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", (np.arange(n) % 10).astype(np.uint8), compress)


def write_stripe_mnist(folder: Path, n_train: int = 300, n_test: int = 100) -> Path:
    """MNIST-format files of easy "digits": digit c is a bright vertical stripe at columns
    2c + 4 to 2c + 6 on faint noise, so a classifier learns them in a few steps."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for prefix, n in [("train", n_train), ("t10k", n_test)]:
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
        for image, c in zip(images, labels):
            image[:, 2 * c + 4:2 * c + 7] = 255
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
    return folder
