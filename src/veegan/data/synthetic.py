"""The paper's synthetic datasets (Section 5.1; docs/protocol.md, "Datasets"): mixtures of
Gaussians with known modes, scored by the mode metrics.

A mixture draws fresh batches with torch's global generator (so a run is reproducible from its
seed and its checkpointed RNG state), and knows its mode means, mixture weights and its
high-quality radius, which the metrics use.
"""
from __future__ import annotations

import math

import torch
from scipy.stats import chi2

from ..evaluation.modes import MODE_SCORER
from .base import Dataset, DatasetSpec, draw, register

# Two rules for "high quality" (docs/protocol.md, "High-quality radius"). The paper's: the
# Euclidean distance to the nearest mean is within 3 std in 2-D and within 10 std in 1200-D.
# The calibrated one: the 2-D rule keeps 1 - exp(-9/2) = 98.89 % of a 2-D Gaussian's own samples,
# and we keep that coverage in any dimension, with the radius that holds that fraction of a
# mode's own samples (chi distribution with `mode_dim` dof). In 2-D the two coincide.
HIGH_QUALITY_COVERAGE = 1.0 - math.exp(-4.5)
PAPER_SIGMAS_2D, PAPER_SIGMAS_HIGH = 3.0, 10.0


def high_quality_radius(std: float, mode_dim: int) -> float:
    """Radius that holds ``HIGH_QUALITY_COVERAGE`` of an isotropic ``mode_dim``-D Gaussian;
    equals exactly 3 std in 2-D (the paper's rule)."""
    return std * math.sqrt(chi2.ppf(HIGH_QUALITY_COVERAGE, mode_dim))


class GaussianMixture(Dataset):
    """A mixture of isotropic Gaussians: x = means[k] + std * basis @ eps, eps ~ N(0, I), k drawn
    with probabilities ``weights`` (uniform when None).

    ``basis`` (D x d, orthonormal columns) embeds d-dimensional modes in D dimensions; None means
    the modes are full-dimensional.
    """

    scorer = MODE_SCORER
    device_tensors = ("means", "basis", "cumulative_weights")

    def __init__(
        self, name: str, means: torch.Tensor, std: float, basis: torch.Tensor | None = None,
        weights: torch.Tensor | None = None,
    ) -> None:
        self.name, self.means, self.std, self.basis = name, means, std, basis
        self.dim = self.means.shape[1]
        self.mode_dim = self.dim if self.basis is None else self.basis.shape[1]
        uniform = weights is None
        self.weights = torch.full((len(self.means),), 1.0 / len(self.means)) if uniform else weights / weights.sum()
        # unequal weights: k by inverse CDF of one uniform draw; uniform ones keep randint (and
        # with it every earlier run's data stream)
        self.cumulative_weights = None if uniform else self.weights.double().cumsum(0)
        self.set_radii(std, self.mode_dim)

    def set_radii(self, std: float, mode_dim: int) -> None:
        """The high-quality radius under each rule: ``hq_radius`` (calibrated) and ``paper_radius``."""
        self.hq_radius = high_quality_radius(std, mode_dim)
        self.paper_radius = (PAPER_SIGMAS_2D if self.dim == 2 else PAPER_SIGMAS_HIGH) * std

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        k = self.draw_modes(n, generator)
        eps = draw(torch.randn, n, self.mode_dim, generator=generator, device=self.device)
        if self.std != 1.0:  # hd1200's std is 1: skip a pass over 500 x 700 values (x * 1.0 == x exactly)
            eps = eps * self.std
        if self.basis is not None:
            eps = eps @ self.on_device("basis").T
        return self.on_device("means")[k] + eps

    def draw_modes(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """n mode indices drawn with the mixture weights."""
        if self.cumulative_weights is None:
            return draw(torch.randint, len(self.means), (n,), generator=generator, device=self.device)
        u = draw(torch.rand, n, generator=generator, device=self.device, dtype=torch.float64)
        cumulative = self.on_device("cumulative_weights")
        return torch.searchsorted(cumulative, u, right=True).clamp_(max=len(cumulative) - 1)


def ring(n_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """8 Gaussians at angles 2 * pi * k / 8 on a circle of radius 2, std 0.02 (Unrolled GAN's values)."""
    angles = 2 * math.pi * torch.arange(n_modes) / n_modes
    means = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    return GaussianMixture("ring", means, std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """25 Gaussians with means {-4, -2, 0, 2, 4}^2 and std 0.05 (the authors' code)."""
    axis = spacing * (torch.arange(side) - (side - 1) / 2)
    means = torch.cartesian_prod(axis, axis)
    return GaussianMixture("grid", means, std)


class FixedSetMixture(GaussianMixture):
    """A fixed training set drawn once, with its own seed, from a mixture whose modes vary in the
    first ``mode_dim`` coordinates only: x = means[k] + std * [eps, 0], eps ~ N(0, I_mode_dim),
    k uniform. Batches are rows drawn by index, uniformly with replacement, so a step's data
    draw is one gather."""

    device_tensors = ("data",)

    def __init__(self, name: str, means: torch.Tensor, std: float, mode_dim: int, size: int, seed: int) -> None:
        super().__init__(name, means, std)
        self.mode_dim = mode_dim
        self.set_radii(std, mode_dim)
        g = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(len(means), (size,), generator=g)
        self.data = means[self.labels]
        self.data[:, :mode_dim] += std * torch.randn(size, mode_dim, generator=g)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.on_device("data")[draw(torch.randint, len(self.data), (n,), generator=generator, device=self.device)]


# mode k's mean is HD1200_LEVELS[k] times the all-ones vector (PacGAN's VEEGAN1200DPackingMixture)
HD1200_LEVELS = (-1.0, -0.5, 0.0, 0.5, -2.0, -2.5, 10.0, 0.25, -13.0, -5.5)


def hd1200(dim: int = 1200, mode_dim: int = 700, std: float = 1.0, size: int = 100_000, seed: int = 1200) -> FixedSetMixture:
    """The 1200-D mixture as the one public construction builds it (PacGAN's code; docs/protocol.md,
    "1200-D mixture"): ten modes with means c_k (1, ..., 1), c = (-1, -0.5, 0, 0.5, -2, -2.5, 10,
    0.25, -13, -5.5), N(0, 1) noise on
    the first 700 coordinates only, uniform labels, a fixed set of 100,000 samples drawn with a
    fixed seed. The closest means are 8.66 apart; a real sample lies about 26.5 from its mean."""
    means = torch.tensor(HD1200_LEVELS).unsqueeze(1) * torch.ones(1, dim)
    return FixedSetMixture("hd1200", means, std, mode_dim, size, seed)


def hd1200_embedded(
    n_modes: int = 10, dim: int = 1200, mode_dim: int = 700, std: float = 1.0,
    mean_scale: float = 2.0, seed: int = 1200,
) -> GaussianMixture:
    """``hd1200`` before veegan 0.2.0, our own construction: ten 700-D Gaussians embedded in
    1200-D (paper Section 5.1; docs/protocol.md records the rest as our choice). With a fixed
    seed: means ~ N(0, mean_scale^2 I_1200), one shared embedding with orthonormal columns (QR
    of a Gaussian matrix), std 1, fresh draws. Means lie 92-101 std apart, so even the point
    halfway between the closest two (46 std from each) is far outside the 28-std high-quality
    radius."""
    g = torch.Generator().manual_seed(seed)
    means = mean_scale * torch.randn(n_modes, dim, generator=g)
    basis, _ = torch.linalg.qr(torch.randn(dim, mode_dim, generator=g))
    return GaussianMixture("hd1200_embedded", means, std, basis)


for _factory in (ring, grid, hd1200_embedded):
    register(DatasetSpec(_factory.__name__, _factory, scorer=MODE_SCORER))
register(DatasetSpec("hd1200", hd1200, scorer=MODE_SCORER, changed_in="0.2.0", previous="hd1200_embedded"))
