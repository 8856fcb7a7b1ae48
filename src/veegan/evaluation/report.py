"""A run's final report: its final metrics (metrics.json) and its picture, a density plot for
vectors (density.png) or sample grids for images (samples.png), beside the real data and from
the same draw of samples that was scored."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..nets import is_image
from ..training.run_dir import DENSITY_NAME, FINAL_METRICS_NAME, SAMPLES_NAME
from .evaluate import evaluation_draw, is_scored, score, short_summary
from .grids import plot_sample_grids
from .plots import plot_densities

if TYPE_CHECKING:
    from ..data.base import Dataset
    from ..methods.base import Method


def final_report(name: str, method: Method, dataset: Dataset, n: int, seed: int, step: int, out_dir: Path) -> dict[str, Any]:
    """Score ``n`` samples of ``method`` (called ``name``) drawn with ``seed`` beside ``n`` real
    ones, write metrics.json and the picture into ``out_dir``, and return the metrics."""
    generated, real = evaluation_draw(method, dataset, n, seed)
    result = score(dataset, generated, real)
    final = {"method": name, "dataset": dataset.name, "step": step, **result}
    (out_dir / FINAL_METRICS_NAME).write_text(json.dumps(final, indent=2) + "\n")
    subtitles = {}
    if is_scored(result):
        subtitles = {name: short_summary(result), "real data": short_summary(result["real"])}
    if is_image(dataset.shape):  # images: a grid of samples beside a grid of real images
        plot_sample_grids({name: generated, "real data": real}, out_dir / SAMPLES_NAME, subtitles)
    else:
        plot_densities({name: generated.numpy(), "real data": real.numpy()}, out_dir / DENSITY_NAME,
                       means=None if dataset.means is None else dataset.means.numpy(), subtitles=subtitles)
    return final
