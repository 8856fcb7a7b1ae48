"""Shared helpers for the gradient tests: tiny fixed networks, and a comparison of the gradients
left by one backward pass of a method's loss with those of a reference loss."""
import torch

from veegan.config import ModelConfig, OptimConfig
from veegan.methods import build_method
from veegan.training.trainer import make_optimizer

MODEL = ModelConfig(latent_dim=3, generator_noise_dim=1, generator_hidden=(5, 4),
                    reconstructor_hidden=(4, 5), discriminator_hidden=(6,))


def tiny_method(name: str, **options):
    """(method, its bound optimizer) with seeded tiny networks for 2-D data; build it under the
    ``float64`` fixture so that gradients compare to 1e-9."""
    torch.manual_seed(0)
    method = build_method(name, 2, MODEL, options)
    config = type("Config", (), {"optim": OptimConfig(lr_discriminator=1e-2, fused=False)})()
    return method, make_optimizer(method, config)


def train_once(method, x: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
    """The trainer's backward pass on one batch: the sum of the method's loss terms. Returns the
    terms (which still hold their graphs)."""
    terms = method.training_loss(x, step)
    sum(terms.values()).backward()
    return terms


def stored_grads(module: torch.nn.Module) -> list[torch.Tensor]:
    """The .grad of every parameter (zeros where none was given)."""
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in module.parameters()]


def reference_grads(loss: torch.Tensor, module: torch.nn.Module) -> list[torch.Tensor]:
    """d loss / d parameters, computed on its own (zeros for parameters the loss does not reach)."""
    grads = torch.autograd.grad(loss, list(module.parameters()), retain_graph=True, allow_unused=True)
    return [g if g is not None else torch.zeros_like(p) for g, p in zip(grads, module.parameters())]


def assert_all_close(got: list[torch.Tensor], want: list[torch.Tensor]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def assert_gradient_is(module: torch.nn.Module, loss: torch.Tensor) -> None:
    """The gradients stored in ``module`` are exactly those of ``loss``."""
    assert_all_close(stored_grads(module), reference_grads(loss, module))
