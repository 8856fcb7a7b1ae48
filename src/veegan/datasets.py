"""The paper's synthetic datasets (Section 5.1, PROTOCOL.md) and the user's own N x D arrays.

A dataset draws fresh batches with torch's global generator (so a run is reproducible from its
seed and its checkpointed RNG state). A mixture also knows its mode means, mixture weights and
its high-quality radius, which the metrics use.
"""
from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from scipy.stats import chi2

from .errors import VeeganError
from .metrics import mode_metrics
from .registry import Registry

# The paper's 2-D rule "within three standard deviations of the nearest mode" keeps
# 1 - exp(-9/2) = 98.89 % of a 2-D Gaussian's own samples. We keep the same coverage in any
# dimension: a sample is high quality if its distance to the nearest mean is below the radius
# that holds that fraction of the mode's own samples (chi distribution with `mode_dim` dof).
HIGH_QUALITY_COVERAGE = 1.0 - math.exp(-4.5)


def high_quality_radius(std: float, mode_dim: int) -> float:
    """Radius that holds ``HIGH_QUALITY_COVERAGE`` of an isotropic ``mode_dim``-D Gaussian;
    equals exactly 3 std in 2-D (the paper's rule)."""
    return std * math.sqrt(chi2.ppf(HIGH_QUALITY_COVERAGE, mode_dim))


class Dataset:
    """A source of training batches; ``means`` is None when the modes are unknown."""

    name: str
    dim: int  # the number of values in one sample
    means: torch.Tensor | None = None
    weights: torch.Tensor | None = None
    hq_radius: float | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one sample: (D,) for vectors, (channels, height, width) for images."""
        return (self.dim,)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    @property
    def has_metrics(self) -> bool:
        """Whether :meth:`score` can measure samples of this dataset."""
        return self.means is not None

    def score(self, samples: torch.Tensor) -> dict[str, Any]:
        """Mode metrics of ``samples`` (modes captured, % high quality, reverse KL)."""
        if self.means is None or self.hq_radius is None:
            raise VeeganError(f"{self.name}: the data's modes are unknown, so samples cannot be scored")
        return mode_metrics(samples, self.means, self.hq_radius, self.weights)


class GaussianMixture(Dataset):
    """Uniform mixture of isotropic Gaussians: x = means[k] + std * basis @ eps, eps ~ N(0, I).

    ``basis`` (D x d, orthonormal columns) embeds d-dimensional modes in D dimensions; None means
    the modes are full-dimensional.
    """

    def __init__(
        self, name: str, means: torch.Tensor, std: float, basis: torch.Tensor | None = None
    ) -> None:
        self.name, self.means, self.std, self.basis = name, means, std, basis
        self.dim = self.means.shape[1]
        self.mode_dim = self.dim if self.basis is None else self.basis.shape[1]
        self.weights = torch.full((len(self.means),), 1.0 / len(self.means))
        self.hq_radius = high_quality_radius(self.std, self.mode_dim)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        k = torch.randint(len(self.means), (n,), generator=generator)
        eps = torch.randn(n, self.mode_dim, generator=generator)
        if self.std != 1.0:  # hd1200's std is 1: skip a pass over 500 x 700 values (x * 1.0 == x exactly)
            eps = eps * self.std
        if self.basis is not None:
            eps = eps @ self.basis.T
        return self.means[k] + eps


class ArrayDataset(Dataset):
    """The user's own data: rows of an N x D float array, drawn uniformly with replacement."""

    def __init__(self, data: np.ndarray, name: str = "data") -> None:
        self.name = name
        self.data = torch.as_tensor(data, dtype=torch.float32)
        self.dim = self.data.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.data[torch.randint(len(self.data), (n,), generator=generator)]


DATASETS: Registry[Callable[[], Dataset]] = Registry("dataset")


@DATASETS.register("ring")
def ring(n_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """8 Gaussians at angles 2*pi*k/8 on a circle of radius 2, std 0.02 (Unrolled GAN's values)."""
    angles = 2 * math.pi * torch.arange(n_modes) / n_modes
    means = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    return GaussianMixture("ring", means, std)


@DATASETS.register("grid")
def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """25 Gaussians with means {-4, -2, 0, 2, 4}^2 and std 0.05 (the authors' code)."""
    axis = spacing * (torch.arange(side) - (side - 1) / 2)
    means = torch.cartesian_prod(axis, axis)
    return GaussianMixture("grid", means, std)


@DATASETS.register("hd1200")
def hd1200(
    n_modes: int = 10, dim: int = 1200, mode_dim: int = 700, std: float = 1.0,
    mean_scale: float = 2.0, seed: int = 1200,
) -> GaussianMixture:
    """Ten 700-D Gaussians embedded in 1200-D (paper Section 5.1; PROTOCOL.md leaves the rest
    to us). With a fixed seed: means ~ N(0, mean_scale^2 I_1200), one shared embedding with
    orthonormal columns (QR of a Gaussian matrix), std 1. Means lie about 98 std apart, so even
    a point halfway between two means (49 std) is far outside the 28-std high-quality radius."""
    g = torch.Generator().manual_seed(seed)
    means = mean_scale * torch.randn(n_modes, dim, generator=g)
    basis, _ = torch.linalg.qr(torch.randn(dim, mode_dim, generator=g))
    return GaussianMixture("hd1200", means, std, basis)


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
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise VeeganError(f"data file {path} contains NaN or infinite values (or values beyond float32's range)")
    return array.reshape(len(array), *sample_shape) if image_rows else array


def make_dataset(name: str, data_file: str | None = None, data_dir: str | None = None) -> Dataset:
    """The named dataset (reading its files from ``data_dir`` where it has files), or the
    user's array when ``data_file`` is given."""
    if data_file is not None:
        return ArrayDataset(load_array(data_file), name=Path(data_file).stem)
    factory = DATASETS.get(name)
    if data_dir is None:
        return factory()
    if "root" not in inspect.signature(factory).parameters:
        raise VeeganError(f"dataset {name!r} is generated, not read from files: drop data_dir")
    return factory(root=data_dir)


from . import image_datasets  # noqa: E402,F401  (registers the image datasets)
