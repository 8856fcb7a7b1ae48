"""Readers of MNIST IDX files, CIFAR-10 python batches and image folders, on small files the
tests write themselves (and, when present, the real MNIST test set)."""
from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from veegan.data.readers import (
    read_cifar10,
    read_cifar10_batch,
    read_idx,
    read_image_folder,
    read_mnist_images,
    read_mnist_labels,
)

from .image_helpers import SHARED_MNIST, raises_one_line, write_cifar_batch, write_idx


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------------------------
# MNIST IDX


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_idx_images_and_labels(tmp_path, rng, compress):
    images = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    labels = np.array([3, 0, 9, 1, 1], dtype=np.uint8)
    read_images = read_mnist_images(write_idx(tmp_path / "images", images, compress))
    read_labels = read_mnist_labels(write_idx(tmp_path / "labels", labels, compress))
    assert read_images.shape == (5, 4, 3, 1) and read_images.dtype == np.uint8
    np.testing.assert_array_equal(read_images[..., 0], images)
    assert read_labels.dtype == np.int64
    np.testing.assert_array_equal(read_labels, labels)
    read_images[0, 0, 0, 0] = 7  # a writable copy, not a view of the file's bytes


@pytest.mark.parametrize("dtype", [np.int32, np.float32])
def test_idx_big_endian_types(tmp_path, dtype):
    array = np.array([[1, -2, 300], [70000, 5, -6]], dtype=dtype)
    read = read_idx(write_idx(tmp_path / "values", array))
    assert read.dtype == np.dtype(dtype)  # native byte order
    np.testing.assert_array_equal(read, array)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_idx_truncated(tmp_path, rng, compress):
    path = write_idx(tmp_path / "images.idx", rng.integers(0, 256, size=(10, 8, 8), dtype=np.uint8))
    data = path.read_bytes()[:-1]
    path.write_bytes(gzip.compress(data) if compress else data)
    raises_one_line(read_mnist_images, path, naming=str(path))


def test_idx_truncated_gzip_stream(tmp_path, rng):
    path = write_idx(tmp_path / "images.gz", rng.integers(0, 256, size=(10, 8, 8), dtype=np.uint8), compress=True)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    assert "truncated" in raises_one_line(read_mnist_images, path, naming=str(path))


def test_idx_extra_bytes_and_short_header(tmp_path):
    path = write_idx(tmp_path / "labels", np.arange(4, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    raises_one_line(read_idx, path, naming=str(path))
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 2))  # 3 sizes announced, 1 given
    raises_one_line(read_idx, path, naming=str(path))


@pytest.mark.parametrize("start", [b"\x00\x00\x07\x03", b"\x01\x00\x08\x03", b"\x89PNG", b"", b"\x00\x00"])
def test_idx_wrong_magic(tmp_path, start):
    path = tmp_path / "not-idx"
    path.write_bytes(start + bytes(16))
    assert "magic" in raises_one_line(read_idx, path, naming=str(path))


def test_idx_missing_file_and_wrong_contents(tmp_path):
    raises_one_line(read_mnist_images, tmp_path / "absent.gz", naming="absent.gz")
    labels = write_idx(tmp_path / "labels", np.array([1, 2], dtype=np.uint8))
    raises_one_line(read_mnist_images, labels, naming=str(labels))  # 1-D, not images
    out_of_range = write_idx(tmp_path / "labels-12", np.array([1, 12], dtype=np.uint8))
    raises_one_line(read_mnist_labels, out_of_range, naming=str(out_of_range))


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(), reason="no real MNIST copy")
def test_real_mnist_test_set():
    images = read_mnist_images(SHARED_MNIST / "t10k-images-idx3-ubyte.gz")
    labels = read_mnist_labels(SHARED_MNIST / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10_000, 28, 28, 1) and images.dtype == np.uint8
    assert labels.shape == (10_000,)
    assert set(labels.tolist()) == set(range(10))
    assert images.max() == 255 and images.min() == 0


# --------------------------------------------------------------------------------------------
# CIFAR-10 python batches


def write_cifar_dir(root: Path, rng, protocol: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Five training batches of 2 images and a test batch of 3 in ``root``; returns the training set."""
    root.mkdir(parents=True, exist_ok=True)
    images = rng.integers(0, 256, size=(10, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(10) % 10
    for i in range(5):
        pair = slice(2 * i, 2 * i + 2)
        write_cifar_batch(root / f"data_batch_{i + 1}", images[pair], labels[pair].tolist(), protocol)
    write_cifar_batch(root / "test_batch", images[:3], [7, 8, 9], protocol)
    return images, labels


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_cifar10_train_and_test(tmp_path, rng, protocol):
    images, labels = write_cifar_dir(tmp_path / "cifar-10-batches-py", rng, protocol)
    train_images, train_labels = read_cifar10(tmp_path / "cifar-10-batches-py", "train")
    assert train_images.shape == (10, 32, 32, 3) and train_images.dtype == np.uint8
    np.testing.assert_array_equal(train_images, images)
    np.testing.assert_array_equal(train_labels, labels)
    assert train_labels.dtype == np.int64
    test_images, test_labels = read_cifar10(tmp_path, "test")  # the parent folder works too
    np.testing.assert_array_equal(test_images, images[:3])
    np.testing.assert_array_equal(test_labels, [7, 8, 9])


def python2_cifar_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """The opcodes Python 2's cPickle (protocol 2) writes for a batch, as in the official files:
    str keys and array bytes as byte strings, numpy under ``numpy.core``."""
    def string(b: bytes) -> bytes:
        return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b

    def integer(n: int) -> bytes:
        return b"J" + struct.pack("<i", n)

    dtype = (b"cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1) + b"\x87R(" + integer(3)
             + string(b"|") + b"NNN" + integer(-1) + integer(-1) + integer(0) + b"tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + integer(0) + b"\x85" + string(b"b")
             + b"\x87R(" + integer(1) + integer(data.shape[0]) + integer(data.shape[1]) + b"\x86" + dtype
             + b"\x89" + string(data.tobytes()) + b"tb")
    label_list = b"](" + b"".join(integer(label) for label in labels) + b"e"
    return b"\x80\x02}(" + string(b"data") + array + string(b"labels") + label_list + b"u."


def test_cifar10_python2_pickle(tmp_path, rng):
    data = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
    path = tmp_path / "data_batch_1"
    path.write_bytes(python2_cifar_pickle(data, [3, 8]))
    images, labels = read_cifar10_batch(path)
    np.testing.assert_array_equal(images, data.reshape(2, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(labels, [3, 8])


def test_cifar10_pixel_layout(tmp_path):
    """Row layout of the official files: 1024 red values (row-major), then green, then blue."""
    row = np.arange(3072) % 251
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({b"data": row[None].astype(np.uint8), b"labels": [4]}, protocol=2))
    images, _ = read_cifar10_batch(path)
    for channel, y, x in [(0, 0, 1), (1, 5, 7), (2, 31, 31)]:
        assert images[0, y, x, channel] == row[channel * 1024 + y * 32 + x]


def test_cifar10_corrupt_and_truncated(tmp_path, rng):
    write_cifar_dir(tmp_path, rng)
    batch = tmp_path / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:1000])
    raises_one_line(read_cifar10, tmp_path, naming=str(batch))
    batch.write_bytes(b"this is not a pickle at all")
    raises_one_line(read_cifar10, tmp_path, naming=str(batch))
    batch.unlink()
    raises_one_line(read_cifar10, tmp_path, naming=str(batch))


class _Touch:
    """Unpickling this would create a file: the restricted unpickler must refuse it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_cifar10_refuses_arbitrary_classes(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil_batch"
    path.write_bytes(pickle.dumps({b"data": _Touch(marker), b"labels": [0]}))
    assert "Path.touch" in raises_one_line(read_cifar10_batch, path, naming=str(path))
    assert not marker.exists()


def test_cifar10_wrong_contents(tmp_path):
    path = tmp_path / "batch"
    cases = [
        [1, 2, 3],  # not a dict
        {b"labels": [0]},  # no data
        {b"data": np.zeros((1, 100), np.uint8), b"labels": [0]},  # wrong row length
        {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]},  # too few labels
        {b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]},  # label outside 0..9
    ]
    for contents in cases:
        path.write_bytes(pickle.dumps(contents, protocol=2))
        raises_one_line(read_cifar10_batch, path, naming=str(path))
    raises_one_line(read_cifar10, tmp_path, "validation", naming="validation")


# --------------------------------------------------------------------------------------------
# image folders


def save_image(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def test_flat_folder_sorted_rgb(tmp_path, rng):
    pixels = {name: rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8) for name in ["b.png", "a.png", "c.bmp"]}
    for name, value in pixels.items():
        save_image(tmp_path / name, value)
    grey = rng.integers(0, 256, size=(6, 5), dtype=np.uint8)
    save_image(tmp_path / "d.png", grey)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"ignored")
    images, labels = read_image_folder(tmp_path)
    assert labels is None
    assert images.shape == (4, 6, 5, 3) and images.dtype == np.uint8
    for i, name in enumerate(["a.png", "b.png", "c.bmp"]):
        np.testing.assert_array_equal(images[i], pixels[name])
    np.testing.assert_array_equal(images[3], np.repeat(grey[..., None], 3, axis=2))


def test_class_folders_give_labels(tmp_path, rng):
    for path in ["dog/1.png", "dog/0.png", "cat/x.png", "cat/more/y.png", "emu/z.jpg"]:
        save_image(tmp_path / path, rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8))
    (tmp_path / ".cache").mkdir()
    images, labels = read_image_folder(tmp_path)
    assert images.shape == (5, 4, 4, 3)
    # classes sorted: cat = 0 (x.png, more/y.png), dog = 1 (0.png, 1.png), emu = 2
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 2])
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(images[2], np.asarray(Image.open(tmp_path / "dog/0.png")))


def test_jpeg_is_read_close_to_its_pixels(tmp_path):
    save_image(tmp_path / "flat.jpg", np.full((16, 16, 3), (200, 40, 90), dtype=np.uint8))
    images, _ = read_image_folder(tmp_path)
    assert np.abs(images.astype(int) - [200, 40, 90]).max() <= 3


def test_center_crop_and_resize(tmp_path, rng):
    pixels = rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)  # height 30, width 40
    save_image(tmp_path / "a.png", pixels)
    cropped, _ = read_image_folder(tmp_path, center_crop=20)
    np.testing.assert_array_equal(cropped[0], pixels[5:25, 10:30])
    assert read_image_folder(tmp_path, resize=8)[0].shape == (1, 8, 8, 3)
    assert read_image_folder(tmp_path, center_crop=20, resize=8)[0].shape == (1, 8, 8, 3)
    assert read_image_folder(tmp_path, center_crop=30, resize=64)[0].shape == (1, 64, 64, 3)
    raises_one_line(read_image_folder, tmp_path, center_crop=31, naming="a.png")
    raises_one_line(read_image_folder, tmp_path, resize=0, naming="resize")


def test_different_sizes_need_crop_or_resize(tmp_path, rng):
    save_image(tmp_path / "a.png", rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8))
    save_image(tmp_path / "b.png", rng.integers(0, 256, size=(9, 8, 3), dtype=np.uint8))
    raises_one_line(read_image_folder, tmp_path, naming="b.png")
    assert read_image_folder(tmp_path, resize=4)[0].shape == (2, 4, 4, 3)


def test_empty_and_missing_folders(tmp_path, rng):
    raises_one_line(read_image_folder, tmp_path / "absent", naming="absent")
    (tmp_path / "empty").mkdir()
    raises_one_line(read_image_folder, tmp_path / "empty", naming="empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "readme.txt").write_text("no images here")
    raises_one_line(read_image_folder, tmp_path / "text", naming="text")
    save_image(tmp_path / "classes" / "cat" / "a.png", rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8))
    (tmp_path / "classes" / "dog").mkdir()
    raises_one_line(read_image_folder, tmp_path / "classes", naming="dog")
    save_image(tmp_path / "mixed" / "cat" / "a.png", rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8))
    save_image(tmp_path / "mixed" / "b.png", rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8))
    raises_one_line(read_image_folder, tmp_path / "mixed", naming="mixed")


def test_undecodable_images(tmp_path, rng):
    save_image(tmp_path / "good.png", rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8))
    (tmp_path / "junk.png").write_bytes(b"definitely not a png")
    raises_one_line(read_image_folder, tmp_path, naming="junk.png")
    (tmp_path / "junk.png").unlink()
    truncated = save_image(tmp_path / "cut.jpg", rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8))
    truncated.write_bytes(truncated.read_bytes()[:400])
    raises_one_line(read_image_folder, tmp_path, naming="cut.jpg")
