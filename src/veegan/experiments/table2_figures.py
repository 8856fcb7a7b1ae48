"""The figures of ``veegan reproduce table2``: a sample grid per dataset (seed 0 of each method
beside the real data), the inference figure (Appendix D: real images above G(F(x)), VEEGAN) and
the nearest-sample figure (Figure 3a: CIFAR-10 test images beside the nearest of 2,000 samples
of each method). A run kept in a result store without its checkpoint still shows its 64 kept
images in the grid; the two figures that need a generator use the runs at hand."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..api import load
from ..data.base import pixels_to_float
from ..data.images import cifar10_split
from ..evaluation.grids import inference_figure, nearest_figure, plot_sample_grids
from ..training.checkpoint import CHECKPOINT_NAME
from .result_store import FIGURE_NAME, ResultStore

GRID_IMAGES = 64


def cifar10_test_images(data_dir: str | None, n: int) -> torch.Tensor:
    """The first ``n`` CIFAR-10 test images (a fixed subset) in [-1, 1]."""
    return pixels_to_float(cifar10_split(data_dir, "test").images[:n])


def _kept_grid(store: ResultStore | None, run_dir: Path) -> dict[str, torch.Tensor] | None:
    """The kept 8-bit images of a run (generated and real) in [-1, 1], or None."""
    path = store.place(run_dir) / FIGURE_NAME if store else None
    if path is None or not path.is_file():
        return None
    with np.load(path) as kept:
        return {name: pixels_to_float(torch.from_numpy(kept[name])) for name in ("generated", "real")}


def table2_figures(out: Path, methods: Sequence[str], datasets: Sequence[str], store: ResultStore | None = None,
                   n_nearest: int = 8) -> None:
    """samples_<dataset>.png, inference_<dataset>.png and nearest.png in ``out``."""
    for dataset in datasets:
        runs: dict[str, Any] = {}  # seed 0 of each method at hand, sharing one copy of the dataset
        panels: dict[str, torch.Tensor] = {}
        real = None
        for method in methods:
            run_dir = out / dataset / method / "seed0"
            if (run_dir / CHECKPOINT_NAME).is_file():
                runs[method] = load(run_dir, next(iter(runs.values())).dataset if runs else None)
                generated, real_images = (torch.from_numpy(x) for x in runs[method].evaluation_samples(GRID_IMAGES))
            elif (kept := _kept_grid(store, run_dir)) is not None:
                generated, real_images = kept["generated"], kept["real"]
            else:
                print(f"samples_{dataset}.png: {method} left out (seed 0 neither in {out} nor kept)", file=sys.stderr)
                continue
            panels[method] = generated
            real = real_images if real is None else real
        if real is None:
            continue
        plot_sample_grids({"real data": real, **panels}, out / f"samples_{dataset}.png")
        if "veegan" in runs:
            veegan = runs["veegan"].method
            images = runs["veegan"].dataset.sample(10, torch.Generator().manual_seed(0))
            with torch.no_grad():
                reconstructed = veegan.generator(veegan.reconstructor(images), torch.zeros(10, veegan.generator.noise_dim))
            inference_figure(images, reconstructed, out / f"inference_{dataset}.png")
        if dataset == "cifar10" and runs:
            test_images = cifar10_test_images(next(iter(runs.values())).config.data_dir, n_nearest)
            generated = {m: torch.from_numpy(run.sample(2_000, seed=0)) for m, run in runs.items()}
            nearest_figure(test_images, generated, out / "nearest.png")
