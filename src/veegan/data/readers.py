"""Readers for the image datasets' real file formats: MNIST's IDX files, CIFAR-10's python
batches and folders of images (CIFAR-10 as JPEG, CelebA).

Every reader returns uint8 images of shape (N, H, W, C), with int64 labels where the format has
them. Any bad input (missing, truncated or corrupt file, wrong magic number, empty folder, an
image that does not decode) raises :class:`VeeganError` with a one-line message naming the file.
"""
from __future__ import annotations

import codecs
import gzip
import math
import pickle
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import VeeganError, one_line

GZIP_MAGIC = b"\x1f\x8b"

# IDX type codes (third byte of the magic number) and the big-endian dtypes they stand for.
IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}

CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCHES = ("test_batch",)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_SIDE = 32

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


def _read_bytes(path: Path, what: str) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    if not path.is_file():
        raise VeeganError(f"{what} {path} does not exist")
    try:
        data = path.read_bytes()
        if data[:2] == GZIP_MAGIC:
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise VeeganError(f"{what} {path} cannot be read (truncated or corrupt?): {one_line(exc)}") from None
    return data


# --------------------------------------------------------------------------------------------
# MNIST: IDX files


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip or raw): magic 0x00 0x00 <type> <ndim>, ndim big-endian uint32
    sizes, then exactly prod(sizes) values. Returns a native-endian array of that shape."""
    path = Path(path)
    data = _read_bytes(path, "IDX file")
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in IDX_DTYPES:
        raise VeeganError(f"IDX file {path} has a wrong magic number {data[:4].hex() or '(empty file)'}")
    dtype, ndim = IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if ndim == 0:
        raise VeeganError(f"IDX file {path} declares 0 dimensions")
    if len(data) < header:
        raise VeeganError(f"IDX file {path} ends inside its header ({len(data)} bytes, {ndim} dimensions)")
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - header != expected:
        raise VeeganError(
            f"IDX file {path} holds {len(data) - header} bytes of data, but its header {shape} "
            f"needs {expected} (truncated or corrupt?)"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_mnist_images(path: str | Path) -> np.ndarray:
    """MNIST images from an IDX file as uint8 (N, H, W, 1)."""
    images = read_idx(path)
    if images.dtype != np.uint8 or images.ndim != 3 or 0 in images.shape:
        raise VeeganError(f"IDX file {path} holds {images.dtype} of shape {images.shape}, not N x H x W uint8 images")
    return images[..., None]


def read_mnist_labels(path: str | Path, n_classes: int = 10) -> np.ndarray:
    """MNIST labels from an IDX file as int64 (N,), each in 0..n_classes-1."""
    labels = read_idx(path)
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise VeeganError(f"IDX file {path} holds {labels.dtype} of shape {labels.shape}, not N uint8 labels")
    if labels.size and labels.max() >= n_classes:
        raise VeeganError(f"IDX file {path} holds label {labels.max()}, outside 0..{n_classes - 1}")
    return labels.astype(np.int64)


# --------------------------------------------------------------------------------------------
# CIFAR-10: the official python batches


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as Python 3 pickles bytes at protocol 2, for latin-1 only."""
    if codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"refusing to encode with {encoding!r}")
    return text.encode("latin1")


def _allowed_pickle_globals() -> dict[tuple[str, str], object]:
    """The only globals a CIFAR-10 batch may name: numpy's array reconstruction (under the
    module names numpy 1 and numpy 2 write) and the bytes encoder of protocol-2 pickles."""
    reconstruct = np.zeros(1).__reduce__()[0]  # numpy.core.multiarray._reconstruct
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]  # numpy.core.numeric._frombuffer (protocol 5)
    scalar = np.float64(0).__reduce__()[0]  # numpy.core.multiarray.scalar
    allowed: dict[tuple[str, str], object] = {("_codecs", "encode"): _latin1_bytes}
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{core}.multiarray", "scalar")] = scalar
        allowed[(f"{core}.numeric", "_frombuffer")] = frombuffer
    allowed[("numpy", "ndarray")] = np.ndarray
    allowed[("numpy", "dtype")] = np.dtype
    return allowed


class _RefusedGlobal(pickle.UnpicklingError):
    """A pickle names a class or function outside the allowed few."""


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that builds builtins and numpy arrays and refuses every other class."""

    allowed = _allowed_pickle_globals()

    def find_class(self, module: str, name: str) -> object:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise _RefusedGlobal(f"{module}.{name}") from None


def _field(batch: dict, key: str) -> object:
    """``batch[key]`` under the bytes key of the official (Python 2) pickles or a str key."""
    return batch[key.encode()] if key.encode() in batch else batch.get(key)


def read_cifar10_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: uint8 images (N, 32, 32, 3) and int64 labels (N,)."""
    path = Path(path)
    if not path.is_file():
        raise VeeganError(f"CIFAR-10 batch {path} does not exist")
    try:
        with path.open("rb") as f:
            batch = _ArrayUnpickler(f, encoding="bytes").load()
    except _RefusedGlobal as exc:
        raise VeeganError(f"CIFAR-10 batch {path} refers to {exc}; only numpy arrays may be unpickled") from None
    except Exception as exc:  # a damaged pickle fails in many ways: EOFError, ValueError, KeyError, ...
        raise VeeganError(f"CIFAR-10 batch {path} cannot be read (truncated or corrupt?): {one_line(exc)}") from None
    if not isinstance(batch, dict):
        raise VeeganError(f"CIFAR-10 batch {path} holds a {type(batch).__name__}, not a dict")
    data, labels = _field(batch, "data"), _field(batch, "labels")
    pixels = 3 * CIFAR10_SIDE * CIFAR10_SIDE
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != pixels:
        shape = getattr(data, "shape", None)
        raise VeeganError(f"CIFAR-10 batch {path} has no N x {pixels} uint8 'data' array (found shape {shape})")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        labels = None
    if labels is None or labels.shape != (len(data),) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise VeeganError(f"CIFAR-10 batch {path} has no list of {len(data)} 'labels' in 0..9")
    images = data.reshape(-1, 3, CIFAR10_SIDE, CIFAR10_SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def read_cifar10(root: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from the official ``cifar-10-batches-py`` directory (``root`` is that directory
    or its parent): ``train`` = data_batch_1..5 (50,000 images), ``test`` = test_batch (10,000)."""
    root = Path(root)
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    names = {"train": CIFAR10_TRAIN_BATCHES, "test": CIFAR10_TEST_BATCHES}.get(split)
    if names is None:
        raise VeeganError(f"unknown CIFAR-10 split {split!r}; choose 'train' or 'test'")
    batches = [read_cifar10_batch(root / name) for name in names]
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


# --------------------------------------------------------------------------------------------
# folders of images


def _is_hidden(path: Path, below: Path) -> bool:
    """Whether ``path`` or a folder between ``below`` and it starts with a dot."""
    return any(part.startswith(".") for part in path.relative_to(below).parts)


def _image_files(folder: Path, recursive: bool, extensions: tuple[str, ...]) -> list[Path]:
    """Image files in ``folder`` (and below when ``recursive``), sorted, hidden ones skipped."""
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p for p in candidates
        if p.is_file() and p.suffix.lower() in extensions and not _is_hidden(p, folder)
    )


def image_folder_classes(root: str | Path) -> list[str] | None:
    """The class names of an image folder (its visible sub-folders, sorted), or None when the
    images lie directly in ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise VeeganError(f"image folder {root} does not exist")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not _is_hidden(p, root))
    return classes or None


def _load_image(path: Path, center_crop: int | str | None, resize: int | None) -> np.ndarray:
    """One image as uint8 RGB (H, W, 3), center-cropped to a square and resized when asked;
    ``center_crop="square"`` takes each image's own largest central square."""
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise VeeganError(f"image {path} does not decode: {one_line(exc)}") from None
    if center_crop == "square":
        center_crop = min(image.size)
    if center_crop is not None:
        width, height = image.size
        if width < center_crop or height < center_crop:
            raise VeeganError(f"image {path} is {width}x{height}, smaller than center_crop={center_crop}")
        left, top = (width - center_crop) // 2, (height - center_crop) // 2
        image = image.crop((left, top, left + center_crop, top + center_crop))
    if resize is not None:
        image = image.resize((resize, resize), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def read_image_folder(
    root: str | Path,
    *,
    center_crop: int | str | None = None,
    resize: int | None = None,
    extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
) -> tuple[np.ndarray, np.ndarray | None]:
    """All images under ``root`` as uint8 RGB (N, H, W, 3), in sorted file order.

    With sub-folders, each is a class (labels = index in the sorted sub-folder names, images
    found recursively inside it); with images directly in ``root``, labels is None.
    ``center_crop`` cuts the central square of that side ("square": of each image's shorter
    side); ``resize`` then scales to a square of
    that side (bilinear; a non-square image is stretched, so crop first). Without either, every
    image must already have the same size.
    """
    root = Path(root)
    for option, value in (("center_crop", None if center_crop == "square" else center_crop), ("resize", resize)):
        if value is not None and value < 1:
            raise VeeganError(f"{option} must be a positive number of pixels, got {value}")
    classes = image_folder_classes(root)
    extensions = tuple(e.lower() for e in extensions)
    if classes is None:
        files, labels = _image_files(root, recursive=False, extensions=extensions), None
    else:
        if _image_files(root, recursive=False, extensions=extensions):
            raise VeeganError(f"image folder {root} mixes images and class sub-folders; use one layout")
        per_class = [_image_files(root / name, recursive=True, extensions=extensions) for name in classes]
        for name, class_files in zip(classes, per_class):
            if not class_files:
                raise VeeganError(f"class folder {root / name} holds no images ({', '.join(extensions)})")
        files = [f for class_files in per_class for f in class_files]
        labels = np.repeat(np.arange(len(classes), dtype=np.int64), [len(c) for c in per_class])
    if not files:
        raise VeeganError(f"image folder {root} holds no images ({', '.join(extensions)})")

    first = _load_image(files[0], center_crop, resize)
    images = np.empty((len(files), *first.shape), dtype=np.uint8)
    images[0] = first
    for i, path in enumerate(files[1:], start=1):
        image = _load_image(path, center_crop, resize)
        if image.shape != first.shape:
            raise VeeganError(
                f"image {path} is {image.shape[1]}x{image.shape[0]} but {files[0]} is "
                f"{first.shape[1]}x{first.shape[0]}; pass center_crop or resize"
            )
        images[i] = image
    return images, labels
