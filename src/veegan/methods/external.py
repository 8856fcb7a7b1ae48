"""Methods by name: a registered one (``veegan``), or a class defined outside the package,
``path/to/file.py:ClassName`` or ``module.path:ClassName``, loaded when first named."""
from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Sequence

from torch import nn

from ..config import LossConfig, ModelConfig
from ..errors import VeeganError, one_line
from ..nets.spectral_norm import apply_spectral_norm
from .base import METHODS, Method


def is_external(name: str) -> bool:
    """Whether ``name`` names a class outside the registry (``where:ClassName``)."""
    return ":" in name


def method_names() -> list[str]:
    """The registered methods' names."""
    return METHODS.names()


def canonical_name(name: str) -> str:
    """``name`` as stored in a run's configuration: a file path made absolute, so that the run
    can be loaded from another directory."""
    if not is_external(name):
        return name
    where, _, cls = name.rpartition(":")
    return f"{Path(where).resolve()}:{cls}" if where.endswith(".py") else name


def method_label(name: str) -> str:
    """A short name for tables, plots and run directories: the registered name, or the class name."""
    return name.rpartition(":")[2] if is_external(name) else name


def method_labels(names: Sequence[str]) -> dict[str, str]:
    """label -> name for the methods of one sweep; two methods with one label are refused."""
    labels: dict[str, str] = {}
    for name in names:
        label = method_label(name)
        if labels.get(label, name) != name:
            raise VeeganError(f"two methods are both called {label!r} ({labels[label]} and {name}): rename one class")
        labels[label] = name
    return labels


def method_class(name: str) -> type[Method]:
    """The method class ``name`` stands for; an unknown name or a class that is not a method
    gets a one-line error."""
    if not is_external(name):
        return METHODS.get(name)
    return _load_external(canonical_name(name))


@functools.lru_cache(maxsize=None)
def _load_external(name: str) -> type[Method]:
    where, _, class_name = name.rpartition(":")
    if not where or not class_name:
        raise VeeganError(f"method {name!r} must look like path/to/file.py:ClassName or module.path:ClassName")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise VeeganError(f"method file {path} does not exist")
            spec = importlib.util.spec_from_file_location(f"veegan_external_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            sys.modules[spec.name] = module  # type: ignore[union-attr]  (dataclasses look their module up)
            spec.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            module = importlib.import_module(where)
    except VeeganError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's file: any failure is theirs to see in one line
        raise VeeganError(f"cannot load method {name!r}: {type(exc).__name__}: {one_line(exc)}") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Method)) or cls.training_loss is Method.training_loss:
        raise VeeganError(f"{where} has no method class {class_name!r} (a subclass of veegan.methods.Method "
                          f"with its own training_loss)")
    if not dataclasses.is_dataclass(cls.Options) or any(
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            for f in dataclasses.fields(cls.Options)):
        raise VeeganError(f"{name}: Options must be a dataclass whose fields all have defaults")
    return cls


def build_method(
    name: str, data_shape: int | Sequence[int], model: ModelConfig, method_options: dict, loss: LossConfig | None = None,
    output_head: nn.Module | None = None,
) -> Method:
    """The method ``name`` with its networks for samples of ``data_shape``: (D,) or D for
    vectors, (channels, height, width) for images; with the stabilisers of D that ``model``
    (``spectral_norm``) and ``loss`` (``r1_gamma``) ask for, applied after the networks are built
    (so that a seed gives the same initial networks with or without them). ``output_head``:
    applied to the generator's output (a table's categorical columns)."""
    cls = method_class(name)
    shape = (data_shape,) if isinstance(data_shape, int) else tuple(data_shape)
    method = cls(shape, model, cls.Options(**method_options))
    latent_gamma, r1_gamma = loss.r1_gammas if loss is not None else (0.0, 0.0)
    if loss is not None and loss.r1_latent_gamma and not method.is_joint:  # set explicitly, for a D of x alone
        raise VeeganError(f"loss.r1_latent_gamma acts on the z input of a joint D(z, x), and {method_label(name)} has none")
    r1_gamma = r1_gamma or latent_gamma  # any R1 at all
    if (model.spectral_norm or r1_gamma) and not method.is_adversarial:
        what = "model.spectral_norm" if model.spectral_norm else "loss.r1_gamma"
        raise VeeganError(f"{what} acts on a discriminator, and {method_label(name)} has none")
    if r1_gamma and not method.uses_discriminator_loss:
        raise VeeganError(f"loss.r1_gamma: {method_label(name)} does not compute D's loss with Method.discriminator_loss "
                          "(which adds R1); use it and set uses_discriminator_loss = True in the class")
    if model.spectral_norm:
        apply_spectral_norm(method.discriminator)
    method.r1_gamma, method.r1_latent_gamma = (loss.r1_gamma, latent_gamma) if loss is not None else (0.0, 0.0)
    if loss is not None and (loss.r2_gamma or loss.objective != "paper"):
        what = "loss.r2_gamma" if loss.r2_gamma else f"loss.objective {loss.objective}"
        if not method.is_adversarial:
            raise VeeganError(f"{what} acts on a discriminator, and {method_label(name)} has none")
        if not method.uses_discriminator_loss:
            raise VeeganError(f"{what}: {method_label(name)} does not compute D's loss with Method.discriminator_loss; "
                              "use it (and player_loss for the players) and set uses_discriminator_loss = True")
        method.r2_gamma, method.objective = loss.r2_gamma, loss.objective
    if loss is not None:
        method.penalty_every = loss.penalty_every
    if output_head is not None:  # a table's categorical columns (veegan.nets.categorical)
        if not hasattr(method.generator, "output_head"):
            raise VeeganError(f"{method_label(name)}'s generator {type(method.generator).__name__} cannot emit categorical "
                              "columns (it has no output_head); leave them out with --columns")
        method.generator.output_head = output_head
    return method
