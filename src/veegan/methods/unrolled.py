"""Unrolled GAN (Metz et al. 2017): the generator is trained against the discriminator as it
will be after k more of its own optimizer steps, differentiating through those steps."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as tf
from torch.func import functional_call

from ..config import ModelConfig
from ..errors import VeeganError
from ..losses import logistic_discriminator_loss
from ..networks import Discriminator, generator_for
from . import METHODS
from .base import Method
from .gan import GENERATOR_LOSSES, GanOptions


@dataclass
class UnrolledOptions(GanOptions):
    # k, the number of unrolled discriminator steps (5 in the paper and the reference code)
    unroll_steps: int = 5
    # True: the cheaper variant that treats the unrolled parameters as constants (no
    # gradient through the updates); not Metz et al.'s method, kept for comparison
    first_order: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.unroll_steps < 0:
            raise VeeganError("method_options.unroll_steps must be >= 0")


def adam_step(
    param: torch.Tensor, grad: torch.Tensor, exp_avg: torch.Tensor, exp_avg_sq: torch.Tensor, step: int,
    lr: float, betas: tuple[float, float], eps: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One Adam update written with differentiable tensor operations (the arithmetic of
    torch.optim.Adam); ``step`` counts this update (1 for the first). Returns the new
    (param, exp_avg, exp_avg_sq)."""
    b1, b2 = betas
    exp_avg = b1 * exp_avg + (1 - b1) * grad
    exp_avg_sq = b2 * exp_avg_sq + (1 - b2) * grad * grad
    # the tiny constant keeps d sqrt(v)/dv finite where a gradient is exactly zero
    denominator = (exp_avg_sq / (1 - b2 ** step) + 1e-30).sqrt() + eps
    return param - (lr / (1 - b1 ** step)) * exp_avg / denominator, exp_avg, exp_avg_sq


@METHODS.register("unrolled")
class Unrolled(Method):
    """G and D(x); D updates as a plain GAN's, G sees D after k look-ahead steps."""

    Options = UnrolledOptions

    def __init__(self, data_dim: int, model: ModelConfig, options: UnrolledOptions) -> None:
        super().__init__(data_dim, model, options)
        self.generator = generator_for(model, data_dim)
        self.discriminator = Discriminator(data_dim, model.discriminator_hidden)
        self.generator_loss = GENERATOR_LOSSES[options.generator_loss]
        self.optimizer: torch.optim.Optimizer | None = None

    def bind_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """The look-ahead continues D's real Adam, moments included (as the reference code does)."""
        self.optimizer = optimizer

    def _adam_state(self) -> tuple[float, tuple[float, float], float, torch.Tensor, torch.Tensor, int]:
        """D's Adam settings and its moments as flat vectors (zeros before its first step)."""
        params = list(self.discriminator.parameters())
        group = next(g for g in self.optimizer.param_groups if any(p is params[0] for p in g["params"]))  # type: ignore[union-attr]
        states = [self.optimizer.state.get(p, {}) for p in params]  # type: ignore[union-attr]
        if not states[0]:
            zeros = torch.zeros(sum(p.numel() for p in params), dtype=params[0].dtype)
            return group["lr"], group["betas"], group["eps"], zeros, zeros, 0
        exp_avg = torch.cat([s["exp_avg"].flatten() for s in states])
        exp_avg_sq = torch.cat([s["exp_avg_sq"].flatten() for s in states])
        return group["lr"], group["betas"], group["eps"], exp_avg, exp_avg_sq, int(states[0]["step"])

    def unrolled_parameters(self, x_generated: torch.Tensor, x_real: torch.Tensor) -> dict[str, torch.Tensor]:
        """D's parameters after k Adam steps on its loss for this batch. With second-order
        unrolling they are functions of G's output (and so of G's parameters); they never carry
        gradient back into D's own parameters.

        For speed, D's parameters and moments travel as one flat vector (one Adam update per
        look-ahead step instead of one per tensor), and each step runs D's first layer on the
        generated and real batches apart and the rest of D on both stacked; the arithmetic is
        unchanged."""
        named = list(self.discriminator.named_parameters())
        names, shapes = [n for n, _ in named], [p.shape for _, p in named]

        def unflatten(flat: torch.Tensor) -> dict[str, torch.Tensor]:
            parts = flat.split([shape.numel() for shape in shapes])
            return {n: part.view(shape) for n, part, shape in zip(names, parts, shapes)}

        flat = torch.cat([p.detach().flatten() for _, p in named])
        k, first_order = self.options.unroll_steps, self.options.first_order
        if k == 0:
            return unflatten(flat)
        lr, betas, eps, exp_avg, exp_avg_sq, step = self._adam_state()
        x_seen = x_generated.detach() if first_order else x_generated
        n = len(x_seen)
        rest = self.discriminator.net[1:]  # D after its first linear layer (keeps the names "1", "2", ...)
        for i in range(k):
            if first_order or i == 0:
                flat = flat.detach().requires_grad_(True)
            params = unflatten(flat)
            # D's first layer on each side apart (so no input gradient is built for the real
            # batch), the rest of D once on both sides stacked
            w, b = params.pop("net.0.weight"), params.pop("net.0.bias")
            hidden = torch.cat([tf.linear(x_seen, w, b), tf.linear(x_real, w, b)])
            logits = functional_call(rest, {name.removeprefix("net."): p for name, p in params.items()}, (hidden,))
            loss = logistic_discriminator_loss(logits[:n], logits[n:])
            (grad,) = torch.autograd.grad(loss, flat, create_graph=not first_order)
            flat, exp_avg, exp_avg_sq = adam_step(flat, grad, exp_avg, exp_avg_sq, step + i + 1, lr, betas, eps)
        return unflatten(flat.detach() if first_order else flat)

    def training_loss(self, x_real: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """D: eq. (6) at its current parameters (one ordinary step). G: the generator loss
        through D_{theta_k}, the discriminator unrolled k steps ahead (Metz et al., eq. 7-8)."""
        if self.optimizer is None:
            raise RuntimeError("Unrolled GAN needs the trainer's optimizer: call bind_optimizer first")
        x_generated = self.generator(self.sample_latent(len(x_real)))
        discriminator = logistic_discriminator_loss(self.discriminator(x_generated.detach()), self.discriminator(x_real))
        lookahead = self.unrolled_parameters(x_generated, x_real)
        generator = self.generator_loss(functional_call(self.discriminator, lookahead, (x_generated,)))
        return discriminator + generator, {"discriminator": discriminator.detach(), "generator": generator.detach()}
