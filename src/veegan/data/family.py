"""A family of Gaussian mixtures beyond the paper's datasets, to see where mode coverage holds
as the dimension grows: ``mix-d{dim}-k{modes}-{equal|unequal}-s{separation}``, for example
``mix-d50-k20-unequal-s4``. Every member is built from its name alone:

- ``modes`` means spread by a maximin design: from 50 x modes candidates drawn uniformly in a
  cube, the farthest-point rule picks each next mean;
- then scaled so that the two closest means lie ``separation`` calibrated high-quality radii
  apart (at 2 the high-quality balls of the closest two touch), in any dimension;
- ``equal`` weights, or ``unequal`` ones proportional to 1, 2, ..., modes, in an order drawn
  from the seed (so the rare modes are not all on one side);
- standardised, as a user's data often is: centred, and scaled so that the average
  per-coordinate variance of the data is 1 (the modes' std is what is left);
- the seed is a checksum of the name, so a name always means the same data.

Training draws fresh samples every step, as for ``ring`` and ``grid``.
"""
from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass

import torch

from ..errors import VeeganError
from ..evaluation.modes import MODE_SCORER
from .base import DatasetSpec
from .synthetic import GaussianMixture, high_quality_radius

# the family the beyond-2-D study uses (docs/beyond-2d.md); any other values are accepted too
FAMILY_DIMS = (2, 5, 10, 50, 200)
FAMILY_MODES = 20
FAMILY_WEIGHTS = ("equal", "unequal")
FAMILY_SEPARATIONS = (2, 4, 8)
NAME_PATTERN = re.compile(r"mix-d(\d+)-k(\d+)-(equal|unequal)-s(\d+(?:\.\d+)?)")
NAME_FORM = "mix-dD-kK-{equal,unequal}-sS"
CANDIDATES_PER_MODE = 50


@dataclass(frozen=True)
class FamilyMember:
    dim: int
    modes: int
    weights: str  # "equal" or "unequal"
    separation: float  # closest means apart, in calibrated high-quality radii

    @property
    def name(self) -> str:
        return f"mix-d{self.dim}-k{self.modes}-{self.weights}-s{self.separation:g}"

    @classmethod
    def parse(cls, name: str) -> FamilyMember | None:
        """The member a name stands for; None for a name of another form; a one-line error for a
        family name with impossible values."""
        match = NAME_PATTERN.fullmatch(name)
        if match is None:
            return None
        dim, modes, weights, separation = int(match[1]), int(match[2]), match[3], float(match[4])
        if dim < 1 or modes < 2 or separation <= 0:
            raise VeeganError(f"dataset {name!r}: {NAME_FORM} needs D >= 1, K >= 2 and S > 0")
        return cls(dim, modes, weights, separation)

    def describe(self) -> str:
        weighting = "equal weights" if self.weights == "equal" else f"weights 1 : 2 : ... : {self.modes} in random order"
        return (f"{self.modes} isotropic Gaussians in {self.dim}-D, {weighting}; the closest means "
                f"{self.separation:g} calibrated high-quality radii apart; standardised (average per-coordinate variance 1)")


def maximin_points(count: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` well-spread points: from candidates uniform in [-1, 1]^dim, the one nearest the
    centre first, then each time the candidate farthest from those already chosen."""
    candidates = 2 * torch.rand(CANDIDATES_PER_MODE * count, dim, generator=generator, dtype=torch.float64) - 1
    chosen = [int(candidates.norm(dim=1).argmin())]
    nearest = (candidates - candidates[chosen[0]]).norm(dim=1)
    for _ in range(count - 1):
        chosen.append(int(nearest.argmax()))
        nearest = torch.minimum(nearest, (candidates - candidates[chosen[-1]]).norm(dim=1))
    return candidates[chosen]


def family_mixture(member: FamilyMember) -> GaussianMixture:
    """The mixture ``member`` names (see the module docstring)."""
    g = torch.Generator().manual_seed(zlib.crc32(member.name.encode()))
    means = maximin_points(member.modes, member.dim, g)
    closest = torch.pdist(means).min()
    std = 1.0
    means = means * (member.separation * high_quality_radius(std, member.dim) / closest)
    weights = torch.ones(member.modes, dtype=torch.float64)
    if member.weights == "unequal":
        weights = torch.arange(1, member.modes + 1, dtype=torch.float64)[torch.randperm(member.modes, generator=g)]
    weights = weights / weights.sum()
    centre = weights @ means
    means = means - centre
    spread = float(weights @ means.square().sum(dim=1)) / member.dim  # the means' share of the per-coordinate variance
    scale = 1.0 / math.sqrt(std**2 + spread)
    return GaussianMixture(member.name, (means * scale).float(), std * scale,
                           weights=None if member.weights == "equal" else weights.float())


def family_spec(name: str) -> DatasetSpec | None:
    """The dataset spec of a family name (for the registry's lookup), or None for another name."""
    member = FamilyMember.parse(name)
    if member is None:
        return None

    def factory() -> GaussianMixture:
        return family_mixture(member)

    factory.__doc__ = member.describe()
    return DatasetSpec(member.name, factory, scorer=MODE_SCORER)


def family_names() -> list[str]:
    """The members of the beyond-2-D study's family."""
    return [FamilyMember(d, FAMILY_MODES, w, s).name for d in FAMILY_DIMS for w in FAMILY_WEIGHTS for s in FAMILY_SEPARATIONS]
