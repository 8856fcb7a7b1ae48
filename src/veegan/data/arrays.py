"""An N x D array (or N x C x H x W images) from a .npy or .csv file, read with one-line errors:
what ``veegan encode`` reads for a run on a built-in dataset. A user's table is :mod:`.own_table`."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import VeeganError


def load_array(path: str | Path, sample_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Read an N x D numeric array from ``.npy`` or ``.csv`` and check it, with one-line errors.
    With ``sample_shape`` (C, H, W), an N x C x H x W ``.npy`` array of images is accepted too."""
    path = Path(path)
    if not path.is_file():
        raise VeeganError(f"data file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".csv":
            array = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        else:
            raise VeeganError(f"data file {path} must end in .npy or .csv")
    except VeeganError:
        raise
    except ValueError as exc:
        if str(exc).startswith("EOF"):  # numpy's words for a .npy file cut short
            raise VeeganError(f"data file {path} cannot be read (truncated or corrupt?): {exc}") from None
        raise VeeganError(f"data file {path} is not a numeric array: {str(exc).splitlines()[0]}") from None
    except (OSError, EOFError) as exc:
        raise VeeganError(f"data file {path} cannot be read (truncated or corrupt?): {exc}") from None
    if not isinstance(array, np.ndarray):
        raise VeeganError(f"data file {path} holds an archive of arrays (.npz?), not one N x D array")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise VeeganError(f"data file {path} holds {array.dtype} values, not real numbers")
    if sample_shape is not None and len(sample_shape) > 1 and tuple(array.shape[1:]) == tuple(sample_shape):
        array = array.reshape(len(array), -1)  # images: checked as N x (C*H*W), returned in their shape
        image_rows = True
    else:
        image_rows = False
    if array.ndim != 2:
        expected = "N x " + " x ".join(map(str, sample_shape)) if sample_shape and len(sample_shape) > 1 else "N x D"
        raise VeeganError(f"data file {path} must hold an {expected} array, got shape {array.shape}")
    if array.shape[0] < 2 or array.shape[1] < 1:
        raise VeeganError(f"data file {path} must hold at least 2 rows and 1 column, got {array.shape}")
    with np.errstate(over="ignore"):  # a value beyond float32's range becomes inf, refused below
        array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise VeeganError(f"data file {path} contains NaN or infinite values (or values beyond float32's range)")
    return array.reshape(len(array), *sample_shape) if image_rows else array
