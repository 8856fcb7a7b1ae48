"""Unrolled GAN (Metz et al. 2017): the generator is trained against the discriminator as it
will be after K more of its own optimizer steps, differentiating through those steps."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch.func import functional_call

from .. import backend
from ..backend.lookahead import mlp_discriminator_gradient
from ..config import ModelConfig
from ..errors import VeeganError
from ..nets.mlp import Discriminator
from ..nets.spectral_norm import is_parametrized
from .base import register
from .gan import Gan, GanOptions
from .losses import logistic_discriminator_loss, rpgan_discriminator_loss, rpgan_player_loss


@dataclass
class UnrolledOptions(GanOptions):
    # K, the number of unrolled discriminator steps (5 in the paper and the reference code)
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
    exp_avg = exp_avg.lerp(grad, 1 - b1)
    exp_avg_sq = torch.addcmul(exp_avg_sq * b2, grad, grad, value=1 - b2)
    # the tiny constant keeps d sqrt(v)/dv finite where a gradient is exactly zero
    denominator = (exp_avg_sq / (1 - b2 ** step) + 1e-30).sqrt() + eps
    return torch.addcdiv(param, exp_avg, denominator, value=-lr / (1 - b1 ** step)), exp_avg, exp_avg_sq


@register("unrolled")
class Unrolled(Gan):
    """G and D(x); D updates as a plain GAN's, G plays against D after K look-ahead steps."""

    Options = UnrolledOptions
    robust_preset = {}  # the GAN's (gan.py) has not been measured with look-ahead steps
    # --preset best (docs/recipe.md, Unrolled GAN's own screen): R3GAN's RpGAN with R1 and R2
    # (gamma 1) and EMA of G's weights, the candidate `rpgan_r1_r2_g1+ema` that the study's rule picked
    best_preset = {"loss": {"objective": "rpgan", "r1_gamma": 1.0, "r2_gamma": 1.0}, "ema": {"decay": 0.999}}

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: UnrolledOptions) -> None:
        super().__init__(data_shape, model, options)
        self.optimizer: torch.optim.Optimizer | None = None

    def bind_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """The look-ahead continues D's real Adam, moments included (as the reference code does)."""
        self.optimizer = optimizer

    def training_loss(self, x_real: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """D: eq. (6) at its current parameters (one ordinary step). G: the generator loss
        through D_{theta_K}, the discriminator unrolled K steps ahead (Metz et al., eq. 7-8).
        With ``loss.r1_gamma`` (or ``r2_gamma``) the penalty joins D's ordinary step, not the K
        look-ahead steps (which would need a third order of derivatives). Under ``loss.objective``
        rpgan, the look-ahead steps take RpGAN's D loss and G RpGAN's loss through D_{theta_K}."""
        x_generated = self.generator(self.sample_latent(len(x_real)))
        D = self.discriminator
        discriminator = self.discriminator_loss((x_generated,), (x_real,))
        theta_k = self.look_ahead(x_generated, x_real)
        logits_generated = functional_call(D, theta_k, (x_generated,))
        if self.objective == "rpgan":  # both sides of the pair judged by the same D_{theta_K}
            generator = rpgan_player_loss(logits_generated, functional_call(D, theta_k, (x_real,)))
        else:
            generator = self.generator_loss(logits_generated)
        return {"discriminator": discriminator, "generator": generator}

    def look_ahead(self, x_generated: torch.Tensor, x_real: torch.Tensor) -> dict[str, torch.Tensor]:
        """theta_K: D's parameters after K Adam steps on its loss for this batch, from its
        current parameters and Adam moments, with scratch copies of its buffers (batch-norm
        statistics, which the look-ahead must not move). Unless ``first_order``, they are
        functions of G's output, so G's loss differentiates through the K steps; they never
        carry gradient back into D's own parameters. D's parameters and moments travel as one
        flat vector each (one Adam update per step instead of one per tensor)."""
        if self.optimizer is None:
            raise RuntimeError("Unrolled GAN needs the trainer's optimizer: call bind_optimizer first")
        first_order = self.options.first_order
        x_seen = x_generated.detach() if first_order else x_generated
        named = dict(self.discriminator.named_parameters())
        buffers = {name: b.clone() for name, b in self.discriminator.named_buffers()}
        group = next(g for g in self.optimizer.param_groups if g["name"] == "discriminator")
        theta = torch.cat([p.detach().flatten() for p in named.values()])
        exp_avg, exp_avg_sq, count = self._adam_moments(list(named.values()))

        def unflatten(flat: torch.Tensor) -> dict[str, torch.Tensor]:
            parts = flat.split([p.numel() for p in named.values()])
            return {name: part.view(p.shape) for (name, p), part in zip(named.items(), parts)}

        for step in range(count + 1, count + 1 + self.options.unroll_steps):
            grad = self.discriminator_gradient(theta, unflatten, buffers, x_seen, x_real)
            theta, exp_avg, exp_avg_sq = adam_step(theta, grad, exp_avg, exp_avg_sq, step, group["lr"], group["betas"], group["eps"])
            if first_order:
                theta = theta.detach()
        return {**unflatten(theta), **buffers}

    def _adam_moments(self, params: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, int]:
        """D's optimizer state as flat vectors: (exp_avg, exp_avg_sq, steps taken); zeros before its first step."""
        states = [self.optimizer.state.get(p) for p in params]  # type: ignore[union-attr]
        if not states[0]:
            zeros = torch.cat([torch.zeros_like(p).flatten() for p in params])
            return zeros, zeros, 0
        return (torch.cat([s["exp_avg"].flatten() for s in states]),
                torch.cat([s["exp_avg_sq"].flatten() for s in states]), int(states[0]["step"]))

    def discriminator_gradient(
        self, theta: torch.Tensor, unflatten: Callable[[torch.Tensor], dict[str, torch.Tensor]],
        buffers: dict[str, torch.Tensor], x_generated: torch.Tensor, x_real: torch.Tensor,
    ) -> torch.Tensor:
        """d D's loss / d theta at D's flat parameters ``theta`` (eq. (6), or RpGAN's under
        ``loss.objective`` rpgan), differentiable in ``x_generated`` (and ``theta``)."""
        plain_mlp = isinstance(self.discriminator, Discriminator) and not is_parametrized(self.discriminator)
        if plain_mlp and backend.cpu_routes(x_real):
            # speed: the MLP's gradient written out (veegan.backend.lookahead) makes G's gradient
            # through the K steps one ordinary backward pass instead of autograd's double backward
            values = list(unflatten(theta).values())
            with torch.set_grad_enabled(torch.is_grad_enabled() and not self.options.first_order):
                grads = mlp_discriminator_gradient(list(zip(values[0::2], values[1::2])), x_generated, x_real, self.objective)
            return torch.cat([g.flatten() for g in grads])
        if not theta.requires_grad:
            theta = theta.requires_grad_()
        state = {**unflatten(theta), **buffers}
        objective = rpgan_discriminator_loss if self.objective == "rpgan" else logistic_discriminator_loss
        loss = objective(functional_call(self.discriminator, state, (x_generated,)),
                         functional_call(self.discriminator, state, (x_real,)))
        (grad,) = torch.autograd.grad(loss, theta, create_graph=not self.options.first_order)
        return grad
