"""Training methods, registered by name. Importing this package registers all of them."""
from __future__ import annotations

from ..registry import Registry

METHODS: Registry = Registry("method")

from . import gan, veegan  # noqa: E402,F401  (registration side effect)


def build_method(name: str, data_dim: int, model, method_options: dict):
    """The registered method ``name`` with its networks for ``data_dim``-dimensional data."""
    cls = METHODS.get(name)
    return cls(data_dim, model, cls.Options(**method_options))
