"""Evaluate a generator against its dataset, always beside the real-data row."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from ..data.base import Dataset
    from ..methods.base import Method


def evaluation_seed(seed: int, step: int) -> int:
    """The seed of a run's evaluation at ``step``: its own generator, so evaluations never
    perturb training, and a different draw at every step."""
    return seed * 1_000_003 + step


def evaluation_draw(method: Method, dataset: Dataset, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(n generator samples, n true samples), on the CPU, from a CPU generator of their own: so
    training's random stream is untouched, the draw is the same on every device, and plots show
    exactly the samples that were scored."""
    g = torch.Generator().manual_seed(seed)
    was_training = method.training
    method.eval()
    generated = method.sample(n, g).cpu()
    method.train(was_training)
    return generated, dataset.sample(n, g).cpu()


def evaluate(method: Method, dataset: Dataset, n: int = 2500, seed: int = 0) -> dict[str, Any]:
    """Metrics of ``n`` generator samples and, under ``real``, of ``n`` true samples (the ceiling
    of each metric). Datasets that cannot be scored return only the sample count."""
    if not dataset.has_metrics:
        return {"samples": n}
    return score(dataset, *evaluation_draw(method, dataset, n, seed))


def score(dataset: Dataset, generated: torch.Tensor, real: torch.Tensor) -> dict[str, Any]:
    """The metrics of drawn samples, the real ones under ``real``; only the count when the
    dataset cannot be scored (unknown modes, or no classifier for its modes)."""
    result: dict[str, Any] = {"samples": len(generated)}
    if not dataset.has_metrics:
        return result
    result.update(dataset.score(generated))
    result["real"] = dataset.score(real)
    return result


def format_metrics(result: dict[str, Any]) -> str:
    """One line: 'modes 8/8, high quality 52.9 %, reverse KL 0.012 (real data: ...)'."""
    if "modes" not in result:
        return "the data's modes are unknown: mode metrics skipped"

    def line(r: dict[str, Any]) -> str:
        parts = [f"modes {r['modes']}/{r['max_modes']}"]
        if "high_quality_pct" in r:
            parts.append(f"high quality {r['high_quality_pct']:.1f} %")
        if "reverse_kl" in r:
            parts.append("reverse KL " + ("n/a" if r["reverse_kl"] is None else f"{r['reverse_kl']:.3f}"))
        if "kl" in r:
            parts.append(f"KL {r['kl']:.3f} (classifier test accuracy {100 * r['classifier_accuracy']:.2f} %)")
        return ", ".join(parts)

    rule = f"; {result['hq_rule']} high-quality radius {result['hq_radius']:.3g}" if "hq_rule" in result else ""
    return f"{line(result)}   (real data: {line(result['real'])}{rule})"


def short_summary(result: dict[str, Any]) -> str:
    """'8/8 modes, 52.9 % high quality', or 'done' when the modes are unknown."""
    if "modes" not in result:
        return "done"
    if "high_quality_pct" not in result:
        return f"{result['modes']}/{result['max_modes']} modes, KL {result['kl']:.2f}"
    return f"{result['modes']}/{result['max_modes']} modes, {result['high_quality_pct']:.1f} % high quality"
