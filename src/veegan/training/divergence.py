"""The divergence guard: a run whose losses or parameters stop being finite numbers is stopped
with a one-line error (exit status 3) before it can overwrite its last good checkpoint, rather
than crawling on through NaN arithmetic (``schedule.on_divergence``)."""
from __future__ import annotations

import math
from typing import Mapping

import torch
from torch import nn

from ..errors import DivergedError


def nonfinite_terms(losses: Mapping[str, float]) -> dict[str, float]:
    """The loss terms (already read back as numbers) that are NaN or infinite."""
    return {name: value for name, value in losses.items() if not math.isfinite(value)}


def nonfinite_networks(method: nn.Module) -> list[str]:
    """The networks of ``method`` holding a NaN or infinite parameter."""
    return [name for name, network in method.named_children()
            if any(not bool(torch.isfinite(p).all()) for p in network.parameters())]


def diverged(step: int, what: str, last_good: int | None) -> DivergedError:
    """The one-line error: where it happened, what was kept, how to go on."""
    kept = (f"the checkpoint of step {last_good} is kept; continue from it with --resume (a smaller learning "
            "rate, say)") if last_good is not None else "no checkpoint was written"
    return DivergedError(f"training diverged at step {step}: {what}; {kept}, or set schedule.on_divergence=continue "
                         "to train on regardless")
