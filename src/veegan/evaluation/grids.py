"""Grids of images as PNG files: generator samples beside real images (a run's samples.png),
and raw grids for figures such as the paper's Appendix D (real images above G(F(x)))."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
from PIL import Image

from .plots import plt

GRID_SIDE = 8  # images per row and column of a sample grid


def image_grid(images: torch.Tensor, columns: int = GRID_SIDE, gap: int = 2) -> np.ndarray:
    """Images (N, C, H, W) in [-1, 1] (C = 1 or 3) tiled row by row into one uint8 RGB array,
    with ``gap`` white pixels between tiles."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"image_grid needs N x 1 or N x 3 x H x W images, got {tuple(images.shape)}")
    n, _, h, w = images.shape
    rows = math.ceil(n / columns)
    pixels = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    pixels = pixels.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).numpy()
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 255, dtype=np.uint8)
    for i, tile in enumerate(pixels):
        r, c = divmod(i, columns)
        grid[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tile
    return grid


def save_image_grid(images: torch.Tensor, path: str | Path, columns: int = GRID_SIDE, scale: int = 2) -> Path:
    """Write ``image_grid(images)`` as a PNG, each pixel ``scale`` x ``scale``."""
    path = Path(path)
    grid = Image.fromarray(image_grid(images, columns))
    grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST).save(path)
    return path


def plot_sample_grids(
    panels: Mapping[str, torch.Tensor], path: str | Path, subtitles: Mapping[str, str] | None = None,
) -> Path:
    """One titled 8 x 8 grid per entry of ``panels`` (title -> images), side by side."""
    path = Path(path)
    subtitles = subtitles or {}
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.6), squeeze=False)
    for ax, (title, images) in zip(axes[0], panels.items()):
        ax.imshow(image_grid(images[:GRID_SIDE**2]), interpolation="nearest")
        ax.set_title(title + (f"\n{subtitles[title]}" if title in subtitles else ""), fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def inference_figure(real: torch.Tensor, reconstructed: torch.Tensor, path: str | Path) -> Path:
    """The paper's Appendix D figure: real images in the top row, G(F(x)) below each."""
    if real.shape != reconstructed.shape:
        raise ValueError(f"real {tuple(real.shape)} and reconstructed {tuple(reconstructed.shape)} differ in shape")
    return save_image_grid(torch.cat([real, reconstructed]), path, columns=len(real))


def nearest_samples(real: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
    """For each real image, the generated image nearest to it in Euclidean distance."""
    distances = torch.cdist(real.flatten(1), generated.flatten(1))
    return generated[distances.argmin(dim=1)]


def nearest_figure(real: torch.Tensor, generated: Mapping[str, torch.Tensor], path: str | Path) -> Path:
    """The paper's Figure 3a: one row per real image, the real image first, then the nearest
    sample of each method (columns in the order of ``generated``)."""
    columns = [real] + [nearest_samples(real, samples) for samples in generated.values()]
    tiles = torch.stack(columns, dim=1).flatten(0, 1)  # row by row: real, method 1, method 2, ...
    return save_image_grid(tiles, path, columns=len(columns))
