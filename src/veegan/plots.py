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
    reference samples when modes are unknown), so that distinct modes stay apart."""
    points = means if means is not None and len(means) >= 3 else reference
    if points.shape[1] == 2:
        return None
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[:2].T


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
    path = Path(path)
    first = next(iter(panels.values()))
    basis = projection_basis(means, first)
    anchor = project(means if means is not None else first, basis)
    lo, hi = np.percentile(anchor, 0.5, axis=0), np.percentile(anchor, 99.5, axis=0)
    if means is not None:
        lo, hi = anchor.min(axis=0), anchor.max(axis=0)
    centre, half = (lo + hi) / 2, max((hi - lo).max() / 2, 1e-6) * 1.3
    extent = [centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half]

    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.8), squeeze=False)
    for ax, (title, samples) in zip(axes[0], panels.items()):
        image = density_image(project(np.asarray(samples, dtype=np.float64), basis), extent)
        ax.imshow(np.sqrt(image), origin="lower", extent=extent, cmap="magma", interpolation="bilinear")
        if means is not None:
            m = project(means, basis)
            ax.scatter(m[:, 0], m[:, 1], marker="x", s=18, linewidths=0.8, c="white", alpha=0.7)
        ax.set_title(title if not subtitles or title not in subtitles else f"{title}\n{subtitles[title]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if basis is not None:
        fig.text(0.5, 0.01, "projection on the two principal directions of the mode means", ha="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
