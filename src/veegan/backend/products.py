"""Narrow matrix products arranged for speed on the CPU, with torch's values and gradients.

MKL's single-precision matmul is slow for a result with 2 to 8 columns in the layouts
autograd hands it: 1000 x 128 @ 128 x 3 took 175 us and 128 x 1000 @ 1000 x 3 (left operand
transposed) 270-810 us on this project's CPU, against 40-60 us for the same product computed as
its transpose, a small contiguous matrix times a large one. Such products are the backward pass
of every layer that reads 2-D data (D's and F's first layers on the ring and the grid) and most
of Unrolled GAN's look-ahead there. :func:`linear`, :func:`matmul` and :class:`Linear` route
every narrow product, forward and backward, through the fast layout; wider products, tensors on another device and
``runtime.cpu_routes=false`` go to torch unchanged.

Values are the same sums, rounded in another order. ``python benchmarks/products_ab.py``
measures the route against torch's own, in one process.
"""
from __future__ import annotations

import torch
import torch.nn.functional as tf
from torch import nn

from . import cpu_routes

# results with more than 1 and at most this many columns are computed as their transpose
NARROW_COLUMNS = 8
# ... when the product's large operand has at least this many elements: below it (PacGAN's 250
# packs x 128, say) the gain is smaller than a custom autograd Function's cost, about 40 us
# per forward and backward here (benchmarks/products_ab.py measures both)
MIN_ELEMENTS = 50_000


def is_narrow(columns: int) -> bool:
    """Whether a product with this many result columns takes the transposed route."""
    return 1 < columns <= NARROW_COLUMNS


def mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` for 2-D tensors, a narrow result computed as (b^T a^T)^T with b^T contiguous.
    For values only: autograd through it would take the slow layouts again in the backward
    pass, so :func:`matmul` and :func:`linear` wrap it in Functions of their own."""
    if is_narrow(b.shape[1]):
        return (b.t().contiguous() @ a.t()).t()
    return a @ b


class _Matmul(torch.autograd.Function):
    """a @ b whose forward and backward products all go through :func:`mm`."""

    # forward(ctx, ...) rather than setup_context: torch's functorch-ready form costs about
    # 60 us more per call here, as much as the product itself

    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # noqa: ANN001 - torch's signature
        ctx.save_for_backward(a, b)
        return mm(a, b)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:  # noqa: ANN001
        a, b = ctx.saved_tensors
        grad_a = _product(grad, b.t()) if ctx.needs_input_grad[0] else None
        grad_b = _product(a.t(), grad) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class _Linear(torch.autograd.Function):
    """x W^T + c (``torch.nn.functional.linear`` on a batch of vectors) whose backward
    products, dx = g W and dW = g^T x, go through :func:`mm`."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:  # noqa: ANN001
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return tf.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # noqa: ANN001, ANN205
        x, weight = ctx.saved_tensors
        grad_x = _product(grad, weight) if ctx.needs_input_grad[0] else None
        grad_weight = _product(grad.t(), x) if ctx.needs_input_grad[1] else None
        grad_bias = grad.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_weight, grad_bias


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` for 2-D tensors, differentiable (twice too), with the narrow products of its
    forward (b's columns) and backward (b's rows, for a's gradient) in the fast layout."""
    if (a.dim() == 2 and b.dim() == 2 and (is_narrow(b.shape[1]) or is_narrow(b.shape[0])) and a.numel() >= MIN_ELEMENTS
            and cpu_routes(a, b)):
        return _Matmul.apply(a, b) if _records(a, b) else mm(a, b)
    return a @ b


def _records(*tensors: torch.Tensor | None) -> bool:
    """Whether autograd will record an operation on these tensors (else the plain product is
    cheaper than a custom Function's bookkeeping)."""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A product inside a backward pass: recorded (for a double backward) only under create_graph."""
    return matmul(a, b) if torch.is_grad_enabled() else mm(a, b)


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``torch.nn.functional.linear``; for a batch of narrow vectors (2-8 features) on the CPU
    its backward products take the fast layout."""
    if (x.dim() == 2 and is_narrow(weight.shape[1]) and len(x) * len(weight) >= MIN_ELEMENTS
            and _records(x, weight, bias) and cpu_routes(x, weight)):
        return _Linear.apply(x, weight, bias)
    return tf.linear(x, weight, bias)


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters, initialisation and state_dict) computed by :func:`linear`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)
