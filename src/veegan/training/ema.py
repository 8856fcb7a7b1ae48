"""An exponential moving average of the generator's weights (``ema.decay``), a stabiliser beyond
the paper: after every step theta_ema <- decay * theta_ema + (1 - decay) * theta, starting from
the generator's initial weights; buffers (batch-norm statistics) are copied as they are. Training
never reads the average: it changes what is sampled and evaluated, and nothing else."""
from __future__ import annotations

import contextlib
import copy
from typing import Any, Iterator

import torch
from torch import nn

from ..errors import VeeganError


class GeneratorAverage:
    """The averaged copy of ``method.generator``; :meth:`in_use` lends it to the method."""

    def __init__(self, generator: nn.Module, decay: float) -> None:
        self.decay = decay
        self.network = copy.deepcopy(generator).requires_grad_(False)

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        """One step of the average towards the generator's current weights."""
        average, current = list(self.network.parameters()), [p.detach() for p in generator.parameters()]
        torch._foreach_lerp_(average, current, 1.0 - self.decay)  # one fused update for all tensors
        for mine, theirs in zip(self.network.buffers(), generator.buffers()):
            mine.copy_(theirs)

    @contextlib.contextmanager
    def in_use(self, method: nn.Module) -> Iterator[None]:
        """Within the block, ``method.generator`` is the average (for sampling and evaluation)."""
        live = method.generator
        self.network.train(live.training)
        method.generator = self.network
        try:
            yield
        finally:
            method.generator = live

    def state_dict(self) -> dict[str, Any]:
        return self.network.state_dict()

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        """Restore the average from a checkpoint; a checkpoint without one is refused."""
        if state is None:
            raise VeeganError("the checkpoint holds no generator average (it was trained without ema.decay)")
        try:
            self.network.load_state_dict(state)
        except RuntimeError as exc:
            raise VeeganError(f"the checkpoint's generator average does not fit this model: {str(exc).splitlines()[0]}") from None


def generator_average(method: nn.Module, decay: float) -> GeneratorAverage | None:
    """The average of ``method``'s generator for ``ema.decay`` = ``decay``; None when it is off."""
    return GeneratorAverage(method.generator, decay) if decay else None
