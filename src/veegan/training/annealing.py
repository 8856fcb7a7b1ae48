"""Annealing over a run, beyond the paper: the learning rates and the penalties' gammas fall
along a half cosine from their configured values at the first step to a fraction of them at the
last (``optim.final_lr_fraction``, ``loss.final_gamma_fraction``). R3GAN's configurations (Huang
et al. 2024, "The GAN is dead; long live the GAN!") anneal both so over training: the learning
rate to 1/4 of its start, gamma to 1/10. The values are a function of the step alone, so a
resumed run continues on the same curve."""
from __future__ import annotations

import math

import torch

from ..config import TrainConfig
from ..methods import Method

__all__ = ["Annealing", "cosine_fraction"]


def cosine_fraction(step: int, steps: int, final: float) -> float:
    """``final + (1 - final) (1 + cos(pi t / T)) / 2`` at t = min(step, T), T = ``steps``: 1 at
    the first step, ``final`` at the last."""
    progress = min(step, steps) / max(steps, 1)
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * progress))


class Annealing:
    """Sets, before each update, the learning rate of every parameter group of ``optimizer`` and
    ``method.penalty_scale`` (the gammas' fraction) for that update's step."""

    def __init__(self, method: Method, optimizer: torch.optim.Optimizer, config: TrainConfig) -> None:
        self.method, self.optimizer, self.steps = method, optimizer, config.steps
        self.rates = [group["lr"] for group in method.parameter_groups(config.optim)]  # the configured ones
        self.final_lr, self.final_gamma = config.optim.final_lr_fraction, config.loss.final_gamma_fraction

    @staticmethod
    def wanted(config: TrainConfig) -> bool:
        """True when ``config`` anneals anything (either fraction below 1)."""
        return config.optim.final_lr_fraction < 1 or config.loss.final_gamma_fraction < 1

    def __call__(self, step: int) -> None:
        """Ready the update of step ``step`` (0 for the first; the steps already taken)."""
        lr_fraction = cosine_fraction(step, self.steps, self.final_lr)
        for group, rate in zip(self.optimizer.param_groups, self.rates):
            group["lr"] = rate * lr_fraction
        self.method.penalty_scale = cosine_fraction(step, self.steps, self.final_gamma)
