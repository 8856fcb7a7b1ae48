"""Training methods, registered by name. Importing this package registers all of them."""
from __future__ import annotations

from ..config import ModelConfig
from ..registry import Registry
from .base import Method

METHODS: Registry = Registry("method")

from . import ali, gan, pacgan, unrolled, veegan, veegan_dae  # noqa: E402,F401  (registration side effect)


def build_method(name: str, data_dim: int, model: ModelConfig, method_options: dict) -> Method:
    """The registered method ``name`` with its networks for ``data_dim``-dimensional data."""
    cls = METHODS.get(name)
    return cls(data_dim, model, cls.Options(**method_options))
