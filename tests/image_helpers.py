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
