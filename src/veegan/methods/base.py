"""The contract between a method and the shared trainer, and the registry of methods.

A method owns its networks (its child modules: ``generator``, ``discriminator``, and
``reconstructor`` or ``encoder`` where it has one) and computes, for one batch of real data,
its loss terms. The trainer adds them up and takes one backward pass and one Adam step for all
networks at once: Algorithm 1's simultaneous update of omega, theta and gamma (its last line).
For that single backward pass to give every network exactly its own gradient, a term reaches
only the networks that ``trains`` names for it: D's loss sees detached generator outputs,
``D(x.detach())``, and the players' terms call D with its parameters detached,
``frozen(D, x)``.

A new method is one file: a subclass of :class:`Method` registered with ``@register("name")``
(a module inside ``veegan.methods`` is imported automatically), or a class in any file, named on
the command line as ``path/to/file.py:ClassName``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import torch
from torch import nn
from torch.func import functional_call

from ..config import ModelConfig, OptimConfig
from ..errors import VeeganError
from ..registry import Registry
from ..training import distributed
from .losses import logistic_discriminator_loss, r1_penalty

METHODS: Registry[type["Method"]] = Registry("method")


def register(name: str) -> Callable[[type["Method"]], type["Method"]]:
    """Class decorator: make the method available as ``--method name``."""
    return METHODS.register(name)


def frozen(module: nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
    """Call ``module`` with its parameters detached: gradients reach the inputs, not the module.

    This is how one backward pass serves all networks: a generator's adversarial term goes
    through D without giving D any gradient (Algorithm 1 keeps g_omega to eq. 6 alone)."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return functional_call(module, params, inputs)


@dataclass
class NoOptions:
    """For methods without options of their own."""


class Method(nn.Module):
    """Base class: subclasses build their networks in ``__init__``, declare ``trains`` and
    implement :meth:`training_loss`."""

    Options: ClassVar[type] = NoOptions
    # loss term -> the networks (attribute names) its gradient may reach
    trains: ClassVar[dict[str, tuple[str, ...]]] = {}
    # a network -> the OptimConfig learning rate it uses, where that is not ``lr_<network>``
    learning_rate_of: ClassVar[dict[str, str]] = {}
    generator: nn.Module  # maps (z, eps) to x; has ``noise_dim``
    discriminator: nn.Module  # adversarial methods only
    # gamma of the R1 penalty on D's real inputs (``loss.r1_gamma``, set by build_method); 0 = off
    r1_gamma: float = 0.0
    # gamma of R1 on the z input of a joint D(z, x) (``loss.r1_latent_gamma``, resolved: set by
    # build_method); the real pair of a joint D is (z, x)
    r1_latent_gamma: float = 0.0
    # the values ``--preset robust`` sets for this method (veegan.presets), nested as in
    # config.yaml; empty: none measured, the method trains as with the paper's settings
    robust_preset: ClassVar[dict[str, dict[str, object]]] = {}
    # True for a method whose D's loss comes from :meth:`discriminator_loss`, which is where R1 is
    # added: ``loss.r1_gamma`` refuses a method that does not declare it
    uses_discriminator_loss: ClassVar[bool] = False
    # True while veegan.evaluation.diagnostics looks inside: discriminator_loss then keeps its
    # inputs and D's logits in ``observed`` (detached); training never sets it
    observing: bool = False
    observed: dict[str, tuple[torch.Tensor, ...] | torch.Tensor] | None = None

    def __init__(self, data_shape: tuple[int, ...], model: ModelConfig, options: object) -> None:
        super().__init__()
        self.data_shape, self.model_config, self.options = tuple(data_shape), model, options
        self.latent_dim = model.latent_dim

    def training_loss(self, x_real: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """The loss terms of one iteration on ``x_real``, by name (scalars with their graphs)."""
        raise NotImplementedError

    def forward(self, x_real: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """``training_loss``: calling the module is what DistributedDataParallel synchronises."""
        return self.training_loss(x_real, step)

    def discriminator_loss(self, generated: tuple[torch.Tensor, ...], real: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """D's loss, eq. (6): the logistic loss of ``D(*generated)`` (inputs detached) against
        ``D(*real)``, plus the R1 penalty on the real inputs where a gamma is > 0 (with none, exactly
        eq. (6) as before): ``r1_latent_gamma`` on a joint D's z, ``r1_gamma`` on x. ``real`` must
        already be cut from any network that D's loss may not train."""
        D = self.discriminator
        generated = tuple(x.detach() for x in generated)
        logits_generated = D(*generated)
        gammas = (self.r1_latent_gamma, self.r1_gamma) if len(real) == 2 else (self.r1_gamma,)
        if any(gammas):
            real = tuple(x.detach().requires_grad_() for x in real)
        logits_real = D(*real)
        if self.observing:
            self.observed = {"generated": generated, "real": tuple(x.detach() for x in real),
                             "logits_generated": logits_generated.detach(), "logits_real": logits_real.detach()}
        loss = logistic_discriminator_loss(logits_generated, logits_real)
        return loss + r1_penalty(logits_real, real, gammas) if any(gammas) else loss

    @property
    def is_joint(self) -> bool:
        """Whether D judges (z, x) pairs: the method maps data back to noise too."""
        return self.is_adversarial and ("reconstructor" in self._modules or "encoder" in self._modules)

    @property
    def is_adversarial(self) -> bool:
        """Whether the method trains a discriminator (the stabilisers of D need one)."""
        return "discriminator" in self._modules

    @property
    def inference_network(self) -> nn.Module | None:
        """The network that maps x to z, if the method has one."""
        return self._modules.get("reconstructor") or self._modules.get("encoder")

    def check_batch_size(self, batch_size: int) -> None:
        """Raise VeeganError if the method cannot train on batches of this size."""

    def bind_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Called by the trainer with the optimizer of all networks; most methods ignore it."""

    def parameter_groups(self, optim: OptimConfig) -> list[dict]:
        """One optimizer parameter group per network, in the order the networks were built,
        with that network's learning rate."""
        groups = []
        for name, network in self.named_children():
            if not any(p.requires_grad for p in network.parameters()):
                continue  # nothing to train (a fixed feature network, a loss module)
            rate = self.learning_rate_of.get(name, f"lr_{name}")
            if not hasattr(optim, rate):
                raise VeeganError(f"{type(self).__name__}.{name} has no learning rate: name the network generator, "
                                  f"reconstructor or discriminator, or map it in learning_rate_of")
            groups.append({"params": list(network.parameters()), "lr": getattr(optim, rate), "name": name})
        return groups

    @property
    def device(self) -> torch.device:
        """Where the networks are."""
        return next(self.parameters()).device

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ p_0(z) = N(0, I_K)."""
        return distributed.normal(n, self.latent_dim, generator, device=self.device)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n generator samples G(z, eps); with ``generator`` the draw is reproducible."""
        z = self.sample_latent(n, generator)
        noise = distributed.normal(n, self.generator.noise_dim, generator, device=z.device)
        return self.generator(z, noise)
