"""Unrolled GAN's look-ahead gradient for an MLP discriminator, written out by hand.

The look-ahead (``veegan.methods.unrolled``) needs, at each of its K steps, the gradient of D's
loss (eq. 6, or RpGAN's pairing loss under ``loss.objective`` rpgan) with respect to D's parameters, as a differentiable function of the generated
batch. Autograd gives it with ``torch.autograd.grad(create_graph=True)``, and the generator's
gradient then needs a double backward through all K steps. For a ReLU MLP
D(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L the same gradient is a few matrix products,
written here as ordinary tensor operations: the generator's gradient through the K steps is then
one first-order backward pass (1.2x on the ring, 1.1x on hd1200; docs/performance.md).
``tests/test_baselines.py`` holds it to autograd's gradient and its derivative.
"""
from __future__ import annotations

import functools

import torch

from .products import linear, matmul

# Data dimensions below which D sees the generated and real batches stacked: fewer operators per
# look-ahead step, at the price of an input gradient for the real rows (m x dim x width
# multiply-adds), which is negligible for the 2-D datasets and costly for hd1200.
STACKED_INPUT_BELOW = 64


def mlp_discriminator_gradient(
    layers: list[tuple[torch.Tensor, torch.Tensor]], x_generated: torch.Tensor, x_real: torch.Tensor,
    objective: str = "paper",
) -> list[torch.Tensor]:
    """[dW_1, db_1, ..., dW_L, db_L] of ``logistic_discriminator_loss(D(x_generated), D(x_real))``
    (``objective`` "paper") or of ``rpgan_discriminator_loss`` ("rpgan", equal batches) for the
    ReLU MLP whose (weight, bias) per layer are ``layers``, by backpropagation written out with
    differentiable tensor operations."""
    n, m = len(x_generated), len(x_real)
    stacked = x_generated.shape[1] < STACKED_INPUT_BELOW
    weight, bias = layers[0]
    if stacked:
        x = torch.cat([x_generated, x_real])
        pre = linear(x, weight, bias)
    else:  # the first layer on each batch apart: no (discarded) input gradient for the real rows
        pre = torch.cat([linear(x_generated, weight, bias), linear(x_real, weight, bias)])
    inputs = []  # the input of layers 2..L
    for weight, bias in layers[1:]:
        inputs.append(pre.relu())
        pre = linear(inputs[-1], weight, bias)
    if objective == "rpgan":  # d/dl of mean softplus(l_real_i - l_generated_i): -+ sigmoid(l_real_i - l_generated_i) / n
        pair = (pre[n:] - pre[:n]).sigmoid() / n
        grad_pre = torch.cat([-pair, pair])
    else:  # d/dl of softplus(-l) averaged over the generated rows and softplus(l) over the real rows
        target, scale = _label_weights(n, m, pre.dtype, pre.device)
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
            # without the n x width product
            first = layers[1][0].t() * matmul(relu_grad.t(), torch.cat([grad_pre * x, grad_pre], dim=1))
            return [first[:, :-1], first[:, -1]] + grads
        grad_pre = (grad_pre @ layers[j][0]) * relu_grad
    if stacked:
        weight_grad = matmul(grad_pre.t(), x)
    else:
        weight_grad = grad_pre[:n].t() @ x_generated + grad_pre[n:].t() @ x_real
    return [weight_grad, grad_pre.sum(0)] + grads


@functools.lru_cache(maxsize=8)
def _label_weights(n: int, m: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets (1 for the n generated rows, 0 for the m real ones) and per-row weights (1/n,
    1/m) as columns: dL/dl = (sigmoid(l) - target) * weight."""
    target = torch.cat([torch.ones(n, 1, dtype=dtype, device=device), torch.zeros(m, 1, dtype=dtype, device=device)])
    weight = torch.cat([torch.full((n, 1), 1 / n, dtype=dtype, device=device),
                        torch.full((m, 1), 1 / m, dtype=dtype, device=device)])
    return target, weight
