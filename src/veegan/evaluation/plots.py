"""Density plots of generator samples in the style of the paper's Figure 2, as PNG files."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

GRID = 300  # pixels per side of the density image
BANDWIDTH = 0.01  # kernel std as a fraction of the plotted width


def projection_basis(means: np.ndarray | None, reference: np.ndarray) -> np.ndarray | None:
    """None for 2-D data; otherwise the two principal directions of the mode means (or of the
    reference samples when modes are unknown), so that distinct modes stay apart. Means on one
    line (hd1200's) give one direction; the second is then the reference samples' widest spread
    across it."""
    points = means if means is not None and len(means) >= 3 else reference
    if points.shape[1] == 2:
        return None
    _, spread, vt = np.linalg.svd(points - points.mean(axis=0), full_matrices=False)
    if len(spread) > 1 and spread[1] > 1e-6 * spread[0]:
        return vt[:2].T
    across = reference - reference.mean(axis=0)
    across -= np.outer(across @ vt[0], vt[0])
    return np.stack([vt[0], np.linalg.svd(across, full_matrices=False)[2][0]], axis=1)


def project(x: np.ndarray, basis: np.ndarray | None) -> np.ndarray:
    return x if basis is None else x @ basis


def density_image(points: np.ndarray, extent: Sequence[float]) -> np.ndarray:
    """A kernel density estimate on a GRID x GRID raster: a 2-D histogram smoothed with a
    Gaussian kernel, normalised to sum to one (shape [y, x])."""
    x0, x1, y0, y1 = extent
    hist, _, _ = np.histogram2d(points[:, 1], points[:, 0], bins=GRID, range=[[y0, y1], [x0, x1]])
    smooth = gaussian_filter(hist, sigma=BANDWIDTH * GRID)
    total = smooth.sum()
    return smooth / total if total > 0 else smooth


def plot_densities(
    panels: Mapping[str, np.ndarray], path: str | Path, means: np.ndarray | None = None,
    subtitles: Mapping[str, str] | None = None,
) -> Path:
    """One density panel per entry of ``panels`` (title -> N x D samples), side by side, with the
    true means marked as white crosses. D > 2 is shown in the plane of the means' two principal
    directions. The plotted window is set by the means (or by the first panel)."""
    return plot_density_grid([DensityRow("", panels, means, subtitles or {})], path)


class DensityRow:
    """One row of a density figure: a label, panels (title -> samples), the true means.
    ``projected``: the panels and means are already in the plane of projection_basis."""

    def __init__(self, label: str, panels: Mapping[str, np.ndarray], means: np.ndarray | None = None,
                 subtitles: Mapping[str, str] | None = None, projected: bool = False) -> None:
        self.label, self.panels, self.means, self.subtitles = label, panels, means, subtitles or {}
        self.projected = projected


def plot_density_grid(rows: Sequence[DensityRow], path: str | Path) -> Path:
    """A figure like the paper's Figure 2: one row per dataset, one column per panel."""
    path = Path(path)
    columns = max(len(row.panels) for row in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(3.3 * columns, 3.8 * len(rows)), squeeze=False)
    projected = False
    for row, row_axes in zip(rows, axes):
        first = next(iter(row.panels.values()))
        basis = projection_basis(row.means, first)
        projected |= basis is not None or row.projected
        extent = _extent(project(row.means if row.means is not None else first, basis), row.means is not None)
        for ax, (title, samples) in zip(row_axes, row.panels.items()):
            image = density_image(project(np.asarray(samples, dtype=np.float64), basis), extent)
            ax.imshow(np.sqrt(image), origin="lower", extent=extent, cmap="magma", interpolation="bilinear")
            if row.means is not None:
                m = project(row.means, basis)
                ax.scatter(m[:, 0], m[:, 1], marker="x", s=18, linewidths=0.8, c="white", alpha=0.7)
            subtitle = row.subtitles.get(title)
            ax.set_title(title if not subtitle else f"{title}\n{subtitle}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        if row.label:
            row_axes[0].set_ylabel(row.label, fontsize=11)
        for ax in row_axes[len(row.panels):]:
            ax.axis("off")
    if projected:
        fig.text(0.5, 0.005, "data above 2-D: projection on the principal directions of the mode means "
                 "(or of the samples across them)",
                 ha="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _extent(anchor: np.ndarray, exact: bool) -> list[float]:
    """A square window around the means (exact) or the bulk of the samples, with a margin."""
    lo, hi = (anchor.min(axis=0), anchor.max(axis=0)) if exact else (
        np.percentile(anchor, 0.5, axis=0), np.percentile(anchor, 99.5, axis=0))
    centre, half = (lo + hi) / 2, max((hi - lo).max() / 2, 1e-6) * 1.3
    return [centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half]
