"""Evaluate a generator against its dataset, always beside the real-data row."""
from __future__ import annotations

from typing import Any

import torch

from .datasets import Dataset
from .methods.base import Method
from .metrics import mode_metrics


def evaluate(method: Method, dataset: Dataset, n: int = 2500, seed: int = 0) -> dict[str, Any]:
    """Metrics of ``n`` generator samples and, under ``real``, of ``n`` true samples (the ceiling
    of each metric). Draws with its own generator, so training's random stream is untouched.
    Datasets without known modes return only the sample count."""
    g = torch.Generator().manual_seed(seed)
    was_training = method.training
    method.eval()
    samples = method.sample(n, g)
    method.train(was_training)
    result: dict[str, Any] = {"samples": n}
    if dataset.means is None:
        return result
    result.update(mode_metrics(samples, dataset.means, dataset.hq_radius, dataset.weights))
    result["real"] = mode_metrics(dataset.sample(n, g), dataset.means, dataset.hq_radius, dataset.weights)
    return result


def format_metrics(result: dict[str, Any]) -> str:
    """One line: 'modes 8/8, high quality 52.9 %, reverse KL 0.012 (real data: ...)'."""
    if "modes" not in result:
        return "the data's modes are unknown: mode metrics skipped"

    def line(r: dict[str, Any]) -> str:
        kl = "n/a" if r["reverse_kl"] is None else f"{r['reverse_kl']:.3f}"
        return f"modes {r['modes']}/{r['max_modes']}, high quality {r['high_quality_pct']:.1f} %, reverse KL {kl}"

    return f"{line(result)}   (real data: {line(result['real'])})"


def short_summary(result: dict[str, Any]) -> str:
    """'8/8 modes, 52.9 % high quality', or 'done' when the modes are unknown."""
    if "modes" not in result:
        return "done"
    return f"{result['modes']}/{result['max_modes']} modes, {result['high_quality_pct']:.1f} % high quality"
