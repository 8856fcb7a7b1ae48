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
    n = dataset.scored_count(n)
    was_training = method.training
    method.eval()
    generated = method.sample(n, g).cpu()
    method.train(was_training)
    return generated, dataset.real_rows(n, g).cpu()


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
    result.update(dataset.reference_scores(len(generated)))
    return result


def is_scored(result: dict[str, Any]) -> bool:
    """Whether an evaluation measured anything beyond the sample count."""
    return "real" in result


def scalars(result: dict[str, Any]) -> dict[str, Any]:
    """The metrics of the model's row alone: without the real-data and baseline rows."""
    return {k: v for k, v in result.items() if not isinstance(v, dict)}


def format_table_metrics(result: dict[str, Any]) -> str:
    """A user's table: one line per row (model, real training rows, Gaussian-mixture baseline),
    each scored against the held-out rows, then the privacy check's verdict on the model's
    samples (:func:`veegan.evaluation.privacy.privacy_verdict`)."""
    from .privacy import privacy_verdict  # scikit-learn and scipy load only where a table is scored

    def line(r: dict[str, Any]) -> str:
        parts = [f"coverage {r['coverage']:.3f}", f"recall {r['recall']:.3f}", f"precision {r['precision']:.3f}",
                 f"density {r['density']:.3f}", f"NDB/K {r['ndb_k']:.3f} ({r['filled_bins']}/{r['bins']} bins filled)"]
        if "classes" in r:
            parts.append(f"classes {r['classes_produced']}/{r['classes']} (KL {r['class_kl']:.3f})")
        if "label_agreement" in r:
            parts.append(f"label agreement {r['label_agreement']:.3f}")
        if "combinations" in r:
            parts.append(f"category combinations {r['combinations_produced']}/{r['combinations']}")
        if "dcr_share" in r:
            parts.append(f"DCR share {r['dcr_share']:.3f}, exact copies {r['exact_copies']:.3f}")
        return ", ".join(parts)

    rows = [("model", result), ("real data (training rows)", result["real"])]
    if "baseline" in result:
        rows.append((f"Gaussian mixture ({result['baseline']['components']} components)", result["baseline"]))
    verdict = [f"  {privacy_verdict(result)}"] if "dcr_share" in result else []
    return "\n".join([f"  {name:<32} {line(r)}" for name, r in rows] + verdict)


def format_metrics(result: dict[str, Any]) -> str:
    """One line: 'modes 8/8, high quality 52.9 %, reverse KL 0.012 (real data: ...)'; for a
    user's table, a line per row (:func:`format_table_metrics`)."""
    if "coverage" in result:
        return format_table_metrics(result)
    if "modes" not in result:
        return "the data's modes are unknown: mode metrics skipped"

    def line(r: dict[str, Any]) -> str:
        parts = [f"modes {r['modes']}/{r['max_modes']}"]
        if "high_quality_pct" in r:
            parts.append(f"high quality {r['high_quality_pct']:.1f} %")
        if "reverse_kl" in r:
            parts.append("reverse KL " + ("n/a" if r["reverse_kl"] is None else f"{r['reverse_kl']:.3f}"))
        if "kl" in r:
            parts.append(f"KL {r['kl']:.3f}")
            if "digits_pct" in r:
                parts.append(f"digits {r['digits_pct']:.1f} %")
            parts.append(f"(classifier test accuracy {100 * r['classifier_accuracy']:.2f} %)")
        return ", ".join(parts)

    rule = f"; {result['hq_rule']} high-quality radius {result['hq_radius']:.3g}" if "hq_rule" in result else ""
    return f"{line(result)}   (real data: {line(result['real'])}{rule})"


def short_summary(result: dict[str, Any]) -> str:
    """'8/8 modes, 52.9 % high quality' ('coverage 0.41, NDB/K 0.20' for a table), or 'done'
    when nothing was measured."""
    if "coverage" in result:
        return f"coverage {result['coverage']:.2f}, recall {result['recall']:.2f}, NDB/K {result['ndb_k']:.2f}"
    if "modes" not in result:
        return "done"
    if "high_quality_pct" not in result:
        return f"{result['modes']}/{result['max_modes']} modes, KL {result['kl']:.2f}"
    return f"{result['modes']}/{result['max_modes']} modes, {result['high_quality_pct']:.1f} % high quality"
