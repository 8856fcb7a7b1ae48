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
from .losses import gradient_penalty, logistic_discriminator_loss, rpgan_discriminator_loss, rpgan_player_loss

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
    # gamma of R2 on D's generated inputs, all of them (``loss.r2_gamma``, set by build_method)
    r2_gamma: float = 0.0
    # ``loss.objective`` (set by build_method): "paper" or "rpgan"
    objective: str = "paper"
    # ``loss.penalty_every`` (set by build_method): R1 and R2 on every k-th step, gammas times k
    penalty_every: int = 1
    # the gammas' fraction at this step, set before each update by the trainer's annealing
    # (``loss.final_gamma_fraction``, veegan.training.annealing); 1 = as configured
    penalty_scale: float = 1.0
    # the step being trained (set by :meth:`forward`; lazy regularisation reads it)
    current_step: int = 0
    # D's logits of this step's generated and real samples, detached, kept by discriminator_loss
    # for the players' relativistic losses (:meth:`player_loss`)
    paired_logits: tuple[torch.Tensor, torch.Tensor] | None = None
    # the values ``--preset robust`` sets for this method (veegan.presets), nested as in
    # config.yaml; empty: none measured, the method trains as with the paper's settings
    robust_preset: ClassVar[dict[str, dict[str, object]]] = {}
    # the values ``--preset best`` sets: the method's pick in the recipe study's screen
    # (docs/recipe.md); None: the study made no pick for it, and ``--preset best`` refuses it
    best_preset: ClassVar[dict[str, dict[str, object]] | None] = None
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
        self.current_step = step
        return self.training_loss(x_real, step)

    def discriminator_loss(self, generated: tuple[torch.Tensor, ...], real: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """D's loss: under the paper's objective eq. (6), the logistic loss of ``D(*generated)``
        (inputs detached) against ``D(*real)``; under ``rpgan`` the relativistic pairing loss of
        the i-th generated against the i-th real sample (losses.rpgan_discriminator_loss). Plus,
        where a gamma is > 0, R1 on the real inputs (``r1_latent_gamma`` on a joint D's z,
        ``r1_gamma`` on x) and R2 on the generated ones (``r2_gamma`` on each); with none, exactly
        eq. (6) as before. With ``penalty_every`` k > 1 the penalties come on every k-th step
        only, k times as strong (lazy regularisation); every gamma is times ``penalty_scale`` (the
        annealing's fraction, 1 unless ``loss.final_gamma_fraction`` < 1). ``real`` must already be cut from any network
        that D's loss may not train. Keeps both logits, detached, in ``paired_logits`` for
        :meth:`player_loss`."""
        D = self.discriminator
        lazy = self.penalty_every
        weight = lazy * self.penalty_scale if self.current_step % lazy == 0 else 0  # 0: not a penalty step
        r1 = tuple(weight * g for g in ((self.r1_latent_gamma, self.r1_gamma) if len(real) == 2 else (self.r1_gamma,)))
        r2 = (weight * self.r2_gamma,) * len(generated)
        generated = tuple(x.detach().requires_grad_(bool(any(r2))) for x in generated)
        if any(r1):
            real = tuple(x.detach().requires_grad_() for x in real)
        logits_generated, logits_real = D(*generated), D(*real)
        self.paired_logits = (logits_generated.detach(), logits_real.detach())
        if self.observing:
            self.observed = {"generated": tuple(x.detach() for x in generated), "real": tuple(x.detach() for x in real),
                             "logits_generated": logits_generated.detach(), "logits_real": logits_real.detach()}
        objective = rpgan_discriminator_loss if self.objective == "rpgan" else logistic_discriminator_loss
        loss = objective(logits_generated, logits_real)
        if any(r1):
            loss = loss + gradient_penalty(logits_real, real, r1)
        if any(r2):
            loss = loss + gradient_penalty(logits_generated, generated, r2)
        return loss

    def player_loss(self, logits_generated: torch.Tensor, paper_form: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """The generator's adversarial term: ``paper_form`` of D's logits on its samples (through
        a frozen D) under the paper's objective; under ``rpgan`` the relativistic loss against
        the real logits of this step's :meth:`discriminator_loss`, which must come first."""
        if self.objective != "rpgan":
            return paper_form(logits_generated)
        return rpgan_player_loss(logits_generated, self._paired()[1])

    def real_side_player_loss(self, logits_real: torch.Tensor, paper_form: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """The adversarial term of a network that makes the real pair's z (ALI's encoder, VEEGAN's
        reconstructor with ``reconstructor_adversarial_weight``): ``paper_form`` of D on its
        pairs under the paper's objective; under ``rpgan`` the relativistic loss with the
        generated logits of this step's :meth:`discriminator_loss` as constants."""
        if self.objective != "rpgan":
            return paper_form(logits_real)
        return rpgan_player_loss(self._paired()[0], logits_real)

    def _paired(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.paired_logits is None:
            raise RuntimeError(f"{type(self).__name__}: the relativistic players' losses need discriminator_loss first")
        return self.paired_logits

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
