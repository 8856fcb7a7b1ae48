"""Unrolled GAN (Metz et al. 2017): the generator is trained against the discriminator as it
will be after k more of its own optimizer steps, differentiating through those steps."""
from __future__ import annotations

from dataclasses import dataclass

import torch
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
    params: dict[str, torch.Tensor], grads: dict[str, torch.Tensor], state: dict[str, tuple],
    lr: float, betas: tuple[float, float], eps: float,
) -> tuple[dict[str, torch.Tensor], dict[str, tuple]]:
    """One Adam update written with differentiable tensor operations (the same arithmetic as
    torch.optim.Adam). ``state`` maps a name to (exp_avg, exp_avg_sq, step)."""
    b1, b2 = betas
    new_params, new_state = {}, {}
    for name, p in params.items():
        m, v, t = state[name]
        g = grads[name]
        m, v, t = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g, t + 1
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        # the tiny constant keeps d sqrt(v)/dv finite where a gradient is exactly zero
        new_params[name] = p - lr * m_hat / ((v_hat + 1e-30).sqrt() + eps)
        new_state[name] = (m, v, t)
    return new_params, new_state


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

    def _adam_settings(self) -> tuple[float, tuple[float, float], float, dict[str, tuple]]:
        names = dict((id(p), n) for n, p in self.discriminator.named_parameters())
        group = next(g for g in self.optimizer.param_groups if id(g["params"][0]) in names)  # type: ignore[union-attr]
        state = {}
        for n, p in self.discriminator.named_parameters():
            s = self.optimizer.state.get(p, {})  # type: ignore[union-attr]
            if s:
                state[n] = (s["exp_avg"].detach(), s["exp_avg_sq"].detach(), s["step"].detach().to(p.dtype))
            else:
                state[n] = (torch.zeros_like(p), torch.zeros_like(p), torch.zeros((), dtype=p.dtype))
        return group["lr"], group["betas"], group["eps"], state

    def unrolled_parameters(self, x_generated: torch.Tensor, x_real: torch.Tensor) -> dict[str, torch.Tensor]:
        """D's parameters after k Adam steps on its loss for this batch. With second-order
        unrolling they are functions of G's output (and so of G's parameters); they never carry
        gradient back into D's own parameters."""
        params = {n: p.detach().requires_grad_(True) for n, p in self.discriminator.named_parameters()}
        k, first_order = self.options.unroll_steps, self.options.first_order
        if k == 0:
            return {n: p.detach() for n, p in params.items()}
        lr, betas, eps, state = self._adam_settings()
        x_seen = x_generated.detach() if first_order else x_generated
        for _ in range(k):
            loss = logistic_discriminator_loss(
                functional_call(self.discriminator, params, (x_seen,)),
                functional_call(self.discriminator, params, (x_real,)),
            )
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
            params, state = adam_step(params, dict(zip(params, grads)), state, lr, betas, eps)
            if first_order:
                params = {n: p.detach().requires_grad_(True) for n, p in params.items()}
        return params if not first_order else {n: p.detach() for n, p in params.items()}

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
