"""Unrolled GAN (Metz et al. 2017): the generator is trained against the discriminator as it
will be after k more of its own optimizer steps, differentiating through those steps."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch.func import functional_call

from ..config import ModelConfig
from ..errors import VeeganError
from ..losses import logistic_discriminator_loss
from ..networks import Discriminator, discriminator_for, generator_for
from ..products import linear, matmul
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
    exp_avg = exp_avg.lerp(grad, 1 - b1)
    exp_avg_sq = torch.addcmul(exp_avg_sq * b2, grad, grad, value=1 - b2)
    # the tiny constant keeps d sqrt(v)/dv finite where a gradient is exactly zero
    denominator = (exp_avg_sq / (1 - b2 ** step) + 1e-30).sqrt() + eps
    return torch.addcdiv(param, exp_avg, denominator, value=-lr / (1 - b1 ** step)), exp_avg, exp_avg_sq


@METHODS.register("unrolled")
class Unrolled(Method):
    """G and D(x); D updates as a plain GAN's, G sees D after k look-ahead steps."""

    Options = UnrolledOptions

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: UnrolledOptions) -> None:
        super().__init__(data_shape, model, options)
        self.generator = generator_for(model, data_shape)
        self.discriminator = discriminator_for(model, data_shape)
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
        """D's parameters after k Adam steps on its loss for this batch (with scratch copies of
        its buffers, for a functional call). With second-order unrolling they are functions of
        G's output (and so of G's parameters); they never carry gradient back into D's own
        parameters."""
        return self.look_ahead(x_generated, x_real)[0]

    def look_ahead(
        self, x_generated: torch.Tensor, x_real: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], tuple[torch.Tensor, torch.Tensor] | None]:
        """``unrolled_parameters``, and, where D's gradient is written out, the first step's D
        loss and flat gradient (detached): they are D's own loss and gradient at this step.

        For speed, D's parameters and moments travel as one flat vector (one Adam update per
        look-ahead step instead of one per tensor), and the gradient of D's loss is written out
        by hand (``discriminator_loss_gradient``): the generator's gradient then needs one
        ordinary backward pass through the k steps rather than autograd's double backward. The
        arithmetic is that of ``torch.autograd.grad(loss, params, create_graph=True)``."""
        named = list(self.discriminator.named_parameters())
        names, shapes = [n for n, _ in named], [p.shape for _, p in named]
        # scratch copies of D's buffers (batch-norm statistics), which the look-ahead must not move
        buffers = {name: b.clone() for name, b in self.discriminator.named_buffers()}

        def unflatten(flat: torch.Tensor) -> dict[str, torch.Tensor]:
            parts = flat.split([shape.numel() for shape in shapes])
            return {n: part.view(shape) for n, part, shape in zip(names, parts, shapes)}

        flat = torch.cat([p.detach().flatten() for _, p in named])
        k, first_order = self.options.unroll_steps, self.options.first_order
        if k == 0:
            return {**unflatten(flat), **buffers}, None
        lr, betas, eps, exp_avg, exp_avg_sq, step = self._adam_state()
        x_seen = x_generated.detach() if first_order else x_generated
        written_out = isinstance(self.discriminator, Discriminator)  # an MLP: its gradient by hand
        first = None
        with torch.set_grad_enabled(torch.is_grad_enabled() and not (written_out and first_order)):
            for i in range(k):
                if written_out:
                    params = list(unflatten(flat).values())
                    layers = list(zip(params[0::2], params[1::2]))  # (weight, bias) of each Linear
                    logits, grads = discriminator_loss_gradient(layers, x_seen, x_real)
                else:  # a convolutional D: autograd's double backward
                    if first_order or i == 0:
                        flat = flat.detach().requires_grad_(True)
                    state = {**unflatten(flat), **buffers}
                    loss = logistic_discriminator_loss(functional_call(self.discriminator, state, (x_seen,)),
                                                       functional_call(self.discriminator, state, (x_real,)))
                    grads = torch.autograd.grad(loss, flat, create_graph=not first_order)
                grad = torch.cat([g.flatten() for g in grads])
                if written_out and i == 0:
                    n = len(x_seen)
                    first = (logistic_discriminator_loss(logits[:n], logits[n:]).detach(), grad.detach())
                flat, exp_avg, exp_avg_sq = adam_step(flat, grad, exp_avg, exp_avg_sq, step + i + 1, lr, betas, eps)
        if first_order:
            flat = flat.detach()
        return {**unflatten(flat), **buffers}, first

    def training_loss(self, x_real: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """D: eq. (6) at its current parameters (one ordinary step). G: the generator loss
        through D_{theta_k}, the discriminator unrolled k steps ahead (Metz et al., eq. 7-8).

        D's own step and the look-ahead's first step are the same gradient of the same loss at
        the same parameters; where the look-ahead writes that gradient out, D's update reuses it
        (a linear term whose gradient it is) instead of computing it again."""
        if self.optimizer is None:
            raise RuntimeError("Unrolled GAN needs the trainer's optimizer: call bind_optimizer first")
        x_generated = self.generator(self.sample_latent(len(x_real)))
        lookahead, first = self.look_ahead(x_generated, x_real)
        if first is None:
            discriminator = logistic_discriminator_loss(self.discriminator(x_generated.detach()), self.discriminator(x_real))
        else:
            value, gradient = first
            linear = torch.cat([p.flatten() for p in self.discriminator.parameters()]) @ gradient
            discriminator = value + (linear - linear.detach())  # the value of eq. (6), its gradient
        generator = self.generator_loss(functional_call(self.discriminator, lookahead, (x_generated,)))
        return discriminator + generator, {"discriminator": discriminator.detach(), "generator": generator.detach()}


def discriminator_loss_gradient(
    layers: list[tuple[torch.Tensor, torch.Tensor]], x_generated: torch.Tensor, x_real: torch.Tensor
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The gradient of D's loss, eq. (6) as ``logistic_discriminator_loss``, with respect to the
    weight and bias of each layer of a ReLU MLP D(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L,
    by backpropagation written out with tensor operations. Being an ordinary differentiable
    function of its inputs, it lets the Unrolled GAN's look-ahead be differentiated with one
    first-order backward pass. Returns D's logits (the generated rows, then the real ones) and
    [dW_1, db_1, ..., dW_L, db_L].

    Low-dimensional data runs through D as one stacked batch; otherwise the first layer runs on
    each batch apart, so that no (discarded) input gradient is computed for the real data."""
    n, m = len(x_generated), len(x_real)
    stacked = x_generated.shape[1] < STACKED_INPUT_BELOW
    weight, bias = layers[0]
    if stacked:
        x = torch.cat([x_generated, x_real])
        pre = linear(x, weight, bias)
    else:
        pre = torch.cat([linear(x_generated, weight, bias), linear(x_real, weight, bias)])
    inputs = []  # the input of layers 2..L
    for weight, bias in layers[1:]:
        inputs.append(pre.relu())
        pre = linear(inputs[-1], weight, bias)
    # d/dl of softplus(-l) averaged over the generated side and softplus(l) over the real side
    logits = pre.squeeze(-1)
    target, scale = _label_weights(n, m, pre.dtype)
    grad_pre = (pre.sigmoid() - target) * scale
    grads: list[torch.Tensor] = []
    for j in range(len(layers) - 1, 0, -1):
        grads[:0] = [grad_pre.t() @ inputs[j - 1], grad_pre.sum(0)]
        # relu'(a) = sign(relu(a)): zero almost everywhere, so detached (autograd would otherwise
        # carry an all-zero gradient through it), and faster here than a comparison
        relu_grad = inputs[j - 1].detach().sign()
        if stacked and j == 1 and len(layers) == 2:
            # one hidden layer, one logit (the synthetic D): dL/d(pre_1) = (g w_2) * relu' is rank
            # one times a mask, so dW_1 = w_2^T * (relu'^T (g * x)) and db_1 = w_2^T * (relu'^T g),
            # without the n x width product: fewer and smaller operations per look-ahead step
            first = layers[1][0].t() * matmul(relu_grad.t(), torch.cat([grad_pre * x, grad_pre], dim=1))
            return logits, [first[:, :-1], first[:, -1]] + grads
        grad_pre = (grad_pre @ layers[j][0]) * relu_grad
    if stacked:
        weight_grad = matmul(grad_pre.t(), x)
    else:
        weight_grad = grad_pre[:n].t() @ x_generated + grad_pre[n:].t() @ x_real
    return logits, [weight_grad, grad_pre.sum(0)] + grads


# Data dimensions below which D sees the generated and real batches stacked: fewer operators per
# look-ahead step, at the price of an input gradient for the real rows (m x dim x width
# multiply-adds), which is negligible for the 2-D datasets and costly for hd1200.
STACKED_INPUT_BELOW = 64


@functools.lru_cache(maxsize=8)
def _label_weights(n: int, m: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets (1 for the n generated rows, 0 for the m real ones) and per-row weights (1/n,
    1/m) as columns: dL/dl = (sigmoid(l) - target) * weight."""
    target = torch.cat([torch.ones(n, 1, dtype=dtype), torch.zeros(m, 1, dtype=dtype)])
    weight = torch.cat([torch.full((n, 1), 1 / n, dtype=dtype), torch.full((m, 1), 1 / m, dtype=dtype)])
    return target, weight
