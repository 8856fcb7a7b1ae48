"""Evaluate a generator against its dataset, always beside the real-data row."""
from __future__ import annotations

from typing import Any

import torch

from .datasets import Dataset
from .methods.base import Method
from .metrics import mode_metrics


def evaluation_draw(method: Method, dataset: Dataset, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(n generator samples, n true samples) from a generator of their own, so training's random
    stream is untouched and plots show exactly the samples that were scored."""
    g = torch.Generator().manual_seed(seed)
    was_training = method.training
    method.eval()
    generated = method.sample(n, g)
    method.train(was_training)
    return generated, dataset.sample(n, g)


def evaluate(method: Method, dataset: Dataset, n: int = 2500, seed: int = 0) -> dict[str, Any]:
    """Metrics of ``n`` generator samples and, under ``real``, of ``n`` true samples (the ceiling
    of each metric). Datasets without known modes return only the sample count."""
    if dataset.means is None:
        return {"samples": n}
    return score(dataset, *evaluation_draw(method, dataset, n, seed))


def score(dataset: Dataset, generated: torch.Tensor, real: torch.Tensor) -> dict[str, Any]:
    """The metrics of drawn samples, the real ones under ``real``; only the count when the
    dataset's modes are unknown."""
    result: dict[str, Any] = {"samples": len(generated)}
    if dataset.means is None:
        return result
    result.update(mode_metrics(generated, dataset.means, dataset.hq_radius, dataset.weights))
    result["real"] = mode_metrics(real, dataset.means, dataset.hq_radius, dataset.weights)
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
