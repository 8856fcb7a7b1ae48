"""Mode-collapse metrics on mixtures with known modes (paper Section 5.1; docs/protocol.md,
"Metrics").

Plain functions of a sample array and the mixture's means; they return flat dicts whose keys
(``modes``, ``max_modes``, ``high_quality_pct``, ``reverse_kl``) are the exported names."""
from __future__ import annotations

from typing import Any

import torch

# The keys of every metrics dict (the exported names; evaluate --json prints them, with the
# rule they were measured under, ``hq_rule``).
METRIC_KEYS = ("modes", "max_modes", "high_quality_pct", "reverse_kl")


def nearest_mode(samples: torch.Tensor, means: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the nearest mean (L2) for each sample, and the distance to it."""
    distance, index = torch.cdist(samples.double(), means.double()).min(dim=1)
    return index, distance


def mode_histogram(samples: torch.Tensor, means: torch.Tensor, hq_radius: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(counts of high-quality samples per mode, mask of high-quality samples). A sample is high
    quality if it lies within ``hq_radius`` of its nearest mean (Section 5.1)."""
    index, distance = nearest_mode(samples, means)
    high_quality = distance <= hq_radius
    return torch.bincount(index[high_quality], minlength=len(means)), high_quality


def reverse_kl(counts: torch.Tensor, weights: torch.Tensor) -> float | None:
    """KL(p_gen || p_data) in nats between the normalised histogram ``counts`` of nearest modes
    and the mixture weights; None when there is no sample to form a histogram from."""
    total = counts.sum().item()
    if total == 0:
        return None
    p = counts.double() / total
    present = p > 0
    return float((p[present] * (p[present] / weights.double()[present]).log()).sum())


def mode_metrics(
    samples: torch.Tensor, means: torch.Tensor, hq_radius: float, weights: torch.Tensor | None = None
) -> dict[str, float | int | None]:
    """Modes captured (distinct nearest means among high-quality samples), % high-quality
    samples, and the reverse KL of the high-quality samples' mode histogram."""
    return metrics_within(*nearest_mode(samples, means), len(means), hq_radius, weights)


def metrics_within(
    index: torch.Tensor, distance: torch.Tensor, n_modes: int, hq_radius: float, weights: torch.Tensor | None = None
) -> dict[str, float | int | None]:
    """:func:`mode_metrics` from the samples' nearest modes and distances (:func:`nearest_mode`),
    so that several radii share one distance computation."""
    if weights is None:
        weights = torch.full((n_modes,), 1.0 / n_modes, device=index.device)
    high_quality = distance <= hq_radius
    counts = torch.bincount(index[high_quality], minlength=n_modes)
    return {
        "modes": int((counts > 0).sum()),
        "max_modes": n_modes,
        "high_quality_pct": 100.0 * high_quality.double().mean().item(),
        "reverse_kl": reverse_kl(counts, weights),
    }


HQ_RULES = ("calibrated", "paper")
RULE_KEYS = ("modes", "high_quality_pct", "reverse_kl")  # the metrics that depend on the rule


class ModeScorer:
    """The scorer of mixtures with known means: :func:`mode_metrics` with the dataset's mixture
    weights, under the calibrated high-quality radius (``hq_radius``, the top-level keys) and
    under the paper's (``paper_radius``, under ``paper_rule``). For unequal weights also
    ``mode_mass``: the fraction of all samples that are high quality at each mode, beside the
    weights the data has."""

    description = "modes captured, % high quality and reverse KL, by the nearest mode mean"

    def ready(self, dataset: Any) -> bool:
        return dataset.means is not None and dataset.hq_radius is not None

    def __call__(self, dataset: Any, samples: torch.Tensor) -> dict[str, Any]:
        nearest = nearest_mode(samples, dataset.means)  # one distance computation for both rules
        result = metrics_within(*nearest, len(dataset.means), dataset.hq_radius, dataset.weights)
        paper = metrics_within(*nearest, len(dataset.means), dataset.paper_radius, dataset.weights)
        if not torch.allclose(dataset.weights, dataset.weights[0]):  # unequal weights: where the mass went
            index, distance = nearest
            counts = torch.bincount(index[distance <= dataset.hq_radius], minlength=len(dataset.means))
            result["mode_mass"] = (counts.double() / len(samples)).tolist()
        return {**result, "hq_rule": "calibrated", "hq_radius": dataset.hq_radius,
                "paper_rule": {"hq_radius": dataset.paper_radius, **{key: paper[key] for key in RULE_KEYS}}}


def under_rule(result: dict[str, Any], rule: str) -> dict[str, Any]:
    """``result`` (and its real-data row) with the rule-dependent metrics of ``rule`` on top."""
    if rule == "calibrated" or "paper_rule" not in result:
        return result
    out = {**result, **result["paper_rule"], "hq_rule": "paper"}
    out.pop("paper_rule")
    if "real" in result:
        out["real"] = under_rule(result["real"], rule)
    return out


MODE_SCORER = ModeScorer()
