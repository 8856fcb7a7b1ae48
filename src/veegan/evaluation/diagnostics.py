"""A look inside a trained run on one batch, for finding out why a method collapses (``veegan
diagnose``): each loss term's gradient norm on each network it trains (which term drives G), how
well D separates the generated side from the real one (whether it wins outright), the spread of
each latent side of a joint D's pairs, and the scale of G's samples against the data's; on a
user's table also the coverage metrics of a batch of samples against the held-out rows."""
from __future__ import annotations

import math
from typing import Any

import torch

from ..data.base import Dataset
from ..methods import Method


def gradient_norms(method: Method, terms: dict[str, torch.Tensor]) -> dict[str, float]:
    """``grad_norm/<term>/<network>``: ||d term / d parameters|| of each network the term trains
    (``Method.trains``), each term on its own."""
    out = {}
    for term, networks in method.trains.items():
        if term not in terms or not terms[term].requires_grad:
            continue
        for name in networks:
            params = [p for p in getattr(method, name).parameters() if p.requires_grad]
            if not params:
                continue
            grads = torch.autograd.grad(terms[term], params, retain_graph=True, allow_unused=True)
            out[f"grad_norm/{term}/{name}"] = math.sqrt(sum(g.square().sum().item() for g in grads if g is not None))
    return out


def discriminator_accuracy(logits_generated: torch.Tensor, logits_real: torch.Tensor) -> float:
    """The share of the batch D labels right, both sides weighted alike. D's loss (eq. 6) pushes
    generated logits up and real ones down, so D says 'generated' where its logit is > 0."""
    return 0.5 * ((logits_generated > 0).float().mean() + (logits_real < 0).float().mean()).item()


def discriminator_view(observed: dict[str, Any]) -> dict[str, float]:
    """D's logits on either side (mean, std), its accuracy, and for a joint D(z, x) the mean
    squared latent coordinate of each side: N(0, I) noise gives 1; a side far from 1 lets D
    tell the pairs apart by z alone."""
    generated, real = observed["logits_generated"].float(), observed["logits_real"].float()
    out = {"discriminator/logit_generated_mean": generated.mean().item(),
           "discriminator/logit_generated_std": generated.std().item(),
           "discriminator/logit_real_mean": real.mean().item(),
           "discriminator/logit_real_std": real.std().item(),
           "discriminator/accuracy": discriminator_accuracy(generated, real)}
    if len(observed["generated"]) == 2:  # a joint D(z, x): z comes first
        for side in ("generated", "real"):
            z = observed[side][0].float()
            out[f"latent/{side}_mean_square"] = z.square().mean().item()
    return out


def diagnose(method: Method, dataset: Dataset, batch: int = 500, step: int = 0, seed: int = 0) -> dict[str, float]:
    """One training batch of ``method`` looked at from inside (see the module's docstring).
    ``step``: the step whose loss is computed (it matters to methods with a schedule). Nothing
    is trained; the global random stream is reseeded with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x_real = dataset.sample(batch, g).to(method.device)
    was_training = method.training
    method.train()
    method.observing, method.observed = True, None
    try:
        terms = method.training_loss(x_real, step)
        out = {f"loss/{name}": value.item() for name, value in terms.items()}
        out.update(gradient_norms(method, terms))
        if method.observed is not None:
            out.update(discriminator_view(method.observed))
        with torch.no_grad():
            generated = method.sample(batch, g)
        out["scale/generated_std"] = generated.flatten(1).float().std(dim=0).mean().item()
        out["scale/data_std"] = x_real.flatten(1).float().std(dim=0).mean().item()
        out.update(table_coverage(method, dataset, batch, g))
    finally:
        method.observing, method.observed = False, None
        method.train(was_training)
    return out


COVERAGE_KEYS = ("coverage", "recall", "precision", "ndb_k")


def table_coverage(method: Method, dataset: Dataset, batch: int, g: torch.Generator) -> dict[str, float]:
    """A user's table: ``coverage/<metric>`` of evaluation-mode samples (categories one-hot),
    as many as the held-out rows (at most ``batch``); nothing for other datasets."""
    if not hasattr(dataset, "coverage"):
        return {}
    method.eval()
    with torch.no_grad():
        samples = method.sample(dataset.scored_count(batch), g)
    method.train()
    scores = dataset.score(samples.cpu())
    return {f"coverage/{key}": float(scores[key]) for key in COVERAGE_KEYS}


def format_diagnostics(values: dict[str, float]) -> str:
    """One 'name  value' line per quantity, in the order computed."""
    width = max(map(len, values))
    return "\n".join(f"{name:<{width}}  {value:.6g}" for name, value in values.items())


def diagnostics_table(columns: dict[str, dict[str, float]]) -> str:
    """A markdown table of several runs' diagnostics: one row per quantity, one column per run
    (a quantity that a run lacks, such as a latent side for a GAN, is left empty)."""
    names = list(dict.fromkeys(name for values in columns.values() for name in values))
    lines = ["| quantity | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name in names:
        cells = (f"{values[name]:.4g}" if name in values else "" for values in columns.values())
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
